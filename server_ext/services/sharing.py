"""Read-only share links of a conversation (``chatmore/api/conversations/{id}/shares``,
``chatmore/api/shares``, and the page ``chatmore/share?key={token}``).

The owner creates a link, optionally expiring after some days; lists and revokes their
links. A link's token is 256 random bits, shown once when it is made; only its SHA-256
is stored, so the database alone cannot open a page. The page shows one conversation and
nothing else, to anyone holding the link, without signing in; a revoked or expired link,
an unknown token, or one whose conversation changed hands is "not found".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Any

from ..errors import ChatMoreError, validation
from ..store import conversations as conversation_store
from ..store import share_links as link_store
from ..store import transfer as transfer_store
from ..store.db import Database, utcnow
from .auth import AuthUser
from .share_page import render_page

MAX_DAYS = 365
# The token is a query value: the access log scrubs ``key`` values, not paths.
PAGE_PATH = "chatmore/share?key="
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 bytes, URL-safe base64 without padding


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expiry(body: dict[str, Any]) -> dt.datetime | None:
    days = body.get("expires_in_days")
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days <= MAX_DAYS:
        raise validation(
            f"expires_in_days must be a number of days up to {MAX_DAYS}", field="expires_in_days"
        )
    return utcnow() + dt.timedelta(days=days)


def public_link(row: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    expired = row["expires_at"] is not None and row["expires_at"] <= now
    return {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        "conversation_title": row["conversation_title"],
        "created_at": row["created_at"],
        "expires_at": row["expires_at"],
        "revoked_at": row["revoked_at"],
        "active": row["revoked_at"] is None and not expired,
    }


class SharingService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, user: AuthUser, conversation_id: int, body: dict[str, Any]
    ) -> dict[str, Any]:
        unknown = sorted(set(body) - {"expires_in_days"})
        if unknown:
            raise validation(f"unknown field {unknown[0]!r}", field=unknown[0])
        expires_at = _expiry(body)
        token = secrets.token_urlsafe(32)

        def store(conn: Any) -> dict[str, Any] | None:
            if conversation_store.get_conversation(conn, user.id, conversation_id) is None:
                return None
            return link_store.insert_link(
                conn,
                conversation_id=conversation_id,
                user_id=user.id,
                token_hash=token_hash(token),
                expires_at=expires_at,
            )

        row = await self.db.write(store)
        if row is None:
            raise ChatMoreError("CONVERSATION_NOT_FOUND")
        # The token is in this answer only: it is not stored and cannot be shown again.
        return {**public_link(row), "token": token, "path": PAGE_PATH + token}

    async def list(self, user: AuthUser, conversation_id: int | None) -> dict[str, Any]:
        rows = await self.db.read(link_store.list_links, user.id, conversation_id)
        return {"shares": [public_link(row) for row in rows]}

    async def revoke(self, user: AuthUser, link_id: int) -> dict[str, Any]:
        def store(conn: Any) -> dict[str, Any] | None:
            if not link_store.revoke_link(conn, user.id, link_id):
                return None
            return link_store.get_link(conn, user.id, link_id)

        row = await self.db.write(store)
        if row is None:
            raise ChatMoreError("SHARE_LINK_NOT_FOUND")
        return public_link(row)

    async def page(self, token: str) -> str:
        """The shared conversation's page, or SHARE_LINK_NOT_FOUND."""
        if not TOKEN.match(token):
            raise ChatMoreError("SHARE_LINK_NOT_FOUND")

        def read(conn: Any) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
            conversation_id = link_store.shared_conversation_id(conn, token_hash(token))
            if conversation_id is None:
                return None
            owner = link_store.owner_of(conn, conversation_id)
            conversation = conversation_store.get_conversation(conn, owner, conversation_id)
            if conversation is None:
                return None
            return conversation, transfer_store.conversation_turns(conn, conversation_id)

        found = await self.db.read(read)
        if found is None:
            raise ChatMoreError("SHARE_LINK_NOT_FOUND")
        return render_page(*found)
