"""Personal API keys (DESIGN §12): ``cm-…`` keys that authenticate the gateway only.

A key is 256 random bits, shown once when it is made; the store keeps its SHA-256 hash
(a key that long needs no slow hash) and its last four characters. Users make, list and
revoke their own keys; admins list and revoke anyone's. A key works until it is revoked
or expires, and only while its owner's account is active. Keys never work on the rest of
the API, and access tokens never work on the gateway.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from ..errors import ChatMoreError, validation
from ..store import api_keys as key_store
from ..store.db import Database, utcnow
from .auth import AuthUser

PREFIX = "cm-"
MAX_NAME = 200
MAX_EXPIRY_DAYS = 3650
# How long a key lookup is trusted from memory. A revocation through this server takes
# effect at once; one made through another server process sharing the database takes at
# most this long.
KEY_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class KeyCaller:
    """The caller of a gateway request: the key's owner and the key."""

    user: AuthUser
    key_id: int
    key_name: str


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def public_key(row: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    if row["revoked_at"] is not None:
        state = "revoked"
    elif row["expires_at"] is not None and row["expires_at"] <= now:
        state = "expired"
    else:
        state = "active"
    shown = {
        "id": row["id"],
        "name": row["name"],
        "last4": row["last4"],
        "state": state,
        "created_at": row["created_at"],
        "expires_at": row["expires_at"],
        "revoked_at": row["revoked_at"],
        "last_used_at": row["last_used_at"],
        "user_id": row["user_id"],
    }
    if "user_email" in row:
        shown["user_email"] = row["user_email"]
    return shown


def _expiry(body: dict[str, Any], now: dt.datetime) -> dt.datetime | None:
    days, at = body.get("expires_in_days"), body.get("expires_at")
    if days is not None and at is not None:
        raise validation("give expires_in_days or expires_at, not both")
    if days is not None:
        if (
            isinstance(days, bool)
            or not isinstance(days, int | float)
            or not 0 < days <= MAX_EXPIRY_DAYS
        ):
            raise validation(
                f"expires_in_days must be a number of days up to {MAX_EXPIRY_DAYS}",
                field="expires_in_days",
            )
        return now + dt.timedelta(days=float(days))
    if at is not None:
        if not isinstance(at, str):
            raise validation("expires_at must be an ISO 8601 time", field="expires_at")
        try:
            when = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise validation("expires_at must be an ISO 8601 time", field="expires_at") from None
        if when.tzinfo is not None:
            when = when.astimezone(dt.UTC).replace(tzinfo=None)
        if when <= now:
            raise validation("expires_at must be in the future", field="expires_at")
        return when
    return None


class ApiKeyService:
    def __init__(self, db: Database) -> None:
        self.db = db
        # key hash -> (row or None, trusted until)
        self._cache: dict[str, tuple[dict[str, Any] | None, float]] = {}

    async def create(self, user: AuthUser, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
            raise validation(f"name must be text of 1 to {MAX_NAME} characters", field="name")
        unknown = sorted(set(body) - {"name", "expires_in_days", "expires_at"})
        if unknown:
            raise validation(f"unknown fields {unknown}", fields=unknown)
        now = utcnow()
        expires_at = _expiry(body, now)
        key = new_key()
        row = await self.db.write(
            key_store.insert_key,
            user_id=user.id,
            name=name.strip(),
            key_hash=key_hash(key),
            last4=key[-4:],
            expires_at=expires_at,
            at=now,
        )
        # The only answer that ever carries the key.
        return {**public_key(row, now), "key": key}

    async def list(self, user: AuthUser, *, everyone: bool = False) -> list[dict[str, Any]]:
        if everyone and not user.is_admin:
            raise ChatMoreError("FORBIDDEN", "only admins list everyone's keys")
        rows = await self.db.read(key_store.list_keys, None if everyone else user.id)
        now = utcnow()
        return [public_key(row, now) for row in rows]

    async def revoke(self, user: AuthUser, key_id: int) -> dict[str, Any]:
        owner = None if user.is_admin else user.id
        if not await self.db.write(key_store.revoke_key, key_id, owner, utcnow()):
            raise ChatMoreError("API_KEY_NOT_FOUND")
        self._cache.clear()
        row = await self.db.read(key_store.get_key, key_id)
        assert row is not None
        return public_key(row)

    async def authenticate(self, authorization: str | None) -> KeyCaller:
        """The caller of a gateway request, from ``Authorization: Bearer cm-…``."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ChatMoreError(
                "AUTH_API_KEY_INVALID",
                "no API key was sent: use Authorization: Bearer cm-…",
            )
        if not token.startswith(PREFIX) or len(token) > 200:
            raise ChatMoreError(
                "AUTH_API_KEY_INVALID",
                "this endpoint takes a personal API key (cm-…), not an access token",
            )
        digest = key_hash(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            row = cached[0]
        else:
            row = await self.db.read(key_store.find_by_hash, digest)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (row, now + KEY_CACHE_SECONDS)
        if row is None or not row["is_active"]:
            raise ChatMoreError("AUTH_API_KEY_INVALID", "the API key is not valid")
        if row["revoked_at"] is not None:
            raise ChatMoreError("AUTH_API_KEY_INVALID", "the API key was revoked")
        if row["expires_at"] is not None and row["expires_at"] <= utcnow():
            raise ChatMoreError("AUTH_API_KEY_INVALID", "the API key has expired")
        user = AuthUser(row["user_id"], row["email"], row["role"], row["display_name"])
        return KeyCaller(user, row["id"], row["name"])
