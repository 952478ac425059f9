"""Authentication: logins with lockout, refresh-token rotation, stream tickets.

Access tokens are checked on every call against the user row, so a deactivated user is
shut out at once. Refresh tokens rotate on every use; presenting a rotated one revokes
its whole family (DESIGN §7), except within a short grace period (AUTH_REFRESH_GRACE):
two tabs that refresh at once both get the live successor. A password change, a
deactivation and "log out everywhere" set the user's ``tokens_valid_after``: access
tokens and tickets issued before it are refused (by other processes within
USER_CACHE_SECONDS).

A wrong password, an unknown email and a locked account cost the same bcrypt work (that
of the highest cost among the configured one and the stored hashes) and answer with the
same status and body shape; the refusals that write nothing are held to the typical
time of a wrong password (which commits a failure count); unknown emails are "locked"
too after the same number of tries, so a lock says nothing about whether an account
exists. A successful login rehashes a password stored at another cost than the
configured one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import statistics
import time
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from ..config import Settings
from ..errors import ChatMoreError
from ..security.passwords import (
    check_password_rules,
    cost_of,
    dummy_hash,
    hash_password,
    verify_at_cost,
    verify_password,
)
from ..security.tokens import Issued, TokenService, new_id
from ..store import processes as process_store
from ..store import refresh_tokens as token_store
from ..store import turns as turn_store
from ..store import users as user_store
from ..store.db import Database, utcnow
from .accounts import ROLES, create_user_sync
from .validation import db_id


@dataclass(frozen=True)
class AuthUser:
    """The caller, as handlers and services see it."""

    id: int
    email: str
    role: str
    display_name: str
    # Unix milliseconds before which this user's access tokens are refused (0: none).
    tokens_valid_after_ms: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Session:
    user: dict[str, Any]
    access: Issued
    refresh: Issued

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access.token,
            "token_type": "Bearer",
            "expires_in": int(self.access.ttl),
            "user": public_user(self.user),
        }


def public_user(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "email", "display_name", "role", "is_active", "last_login_at", "created_at")
    return {key: row[key] for key in keys if key in row}


def locked_out(seconds: float) -> ChatMoreError:
    """AUTH_ACCOUNT_LOCKED saying when to try again, in words and (as ``retry_after``,
    sent as Retry-After) in whole seconds. Known and unknown emails say it alike."""
    wait = max(1, math.ceil(seconds))
    return ChatMoreError(
        "AUTH_ACCOUNT_LOCKED",
        f"too many failed sign-ins; try again in {duration_in_words(wait)}",
        retry_after=wait,
    )


def duration_in_words(seconds: int) -> str:
    """A wait as a person says it, rounded up: "40 seconds", "1 minute", "4 minutes"."""
    if seconds < 60:
        amount, unit = seconds, "second"
    elif seconds < 2 * 3600:
        amount, unit = math.ceil(seconds / 60), "minute"
    else:
        amount, unit = math.ceil(seconds / 3600), "hour"
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


class _UnknownEmailLockout:
    """Failure counts for emails without an account, bounded in size."""

    def __init__(self, limit: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._limit = limit

    def is_locked(self, email: str) -> bool:
        return self.locked_for(email) > 0

    def locked_for(self, email: str) -> float:
        """Seconds until ``email`` may be tried again (0 when it is not locked)."""
        _count, until = self._entries.get(email, (0, 0.0))
        return max(0.0, until - time.monotonic())

    def fail(self, email: str, threshold: int, lock_for: float) -> bool:
        count, until = self._entries.pop(email, (0, 0.0))
        if until and until <= time.monotonic():
            count, until = 0, 0.0
        count += 1
        if count >= threshold:
            count, until = 0, time.monotonic() + lock_for
        self._entries[email] = (count, until)
        while len(self._entries) > self._limit:
            self._entries.popitem(last=False)
        return until > time.monotonic()


# How long a user's active flag and role are trusted from memory. Changes made through
# this server take effect at once; a change made by another server process sharing the
# database takes at most this long.
USER_CACHE_SECONDS = 5.0
# How long the highest bcrypt cost among stored hashes is trusted from memory (a hash
# written by another process, e.g. `chatmore create-user` with another BCRYPT_COST, is
# seen within this time).
COST_CEILING_SECONDS = 10.0
# Wrong-password refusals whose median the other refusals are held to.
REFUSAL_SAMPLES = 32


class AuthService:
    def __init__(self, db: Database, tokens: TokenService, settings: Settings) -> None:
        self.db = db
        self.tokens = tokens
        self.settings = settings
        # bcrypt is slow on purpose; keep it off the event loop and out of the DB pool.
        self._hasher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="chatmore-bcrypt")
        self._dummy_hash = dummy_hash(settings.bcrypt_cost)
        self._cost_ceiling: tuple[int, float] | None = None  # (cost, trusted until)
        # Recent durations of wrong-password refusals, the yardstick of _answer_alike.
        self._refusal_times: deque[float] = deque(maxlen=REFUSAL_SAMPLES)
        self._unknown = _UnknownEmailLockout()
        self._users: dict[int, tuple[AuthUser | None, float]] = {}

    async def _hashing(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._hasher, fn, *args)

    # -- accounts -----------------------------------------------------------------------

    async def register(self, email: object, password: object, display_name: object) -> dict:
        if not self.settings.allow_self_register:
            raise ChatMoreError("AUTH_REGISTER_DISABLED")
        return await self._hashing(
            lambda: create_user_sync(
                self.db,
                email=email,
                password=password,
                display_name=display_name,
                role="user",
                bcrypt_cost=self.settings.bcrypt_cost,
            )
        )

    async def login(self, email: object, password: object, user_agent: str, ip: str) -> Session:
        if not isinstance(password, str) or not isinstance(email, str):
            raise ChatMoreError("VALIDATION_FAILED", "email and password are required")
        started = time.monotonic()
        address = email.strip().lower()
        row = await self.db.read(user_store.get_login_row, address)
        password_hash = row["password_hash"] if row else self._dummy_hash
        work = await self._work_cost()
        stored = cost_of(password_hash) or 0
        if stored > work:  # newer than the cached ceiling: raise it for the next ones
            self._cost_ceiling = (min(stored, 31), time.monotonic() + COST_CEILING_SECONDS)
        matches = await self._hashing(verify_at_cost, password, password_hash, work)
        lock_for = dt.timedelta(seconds=self.settings.lockout_duration)
        if row is None:
            if self._unknown.is_locked(address) or self._unknown.fail(
                address, self.settings.lockout_threshold, self.settings.lockout_duration
            ):
                await self._answer_alike(started)
                raise locked_out(self._unknown.locked_for(address))
            await self._answer_alike(started)
            raise ChatMoreError("AUTH_INVALID_CREDENTIALS")
        if row["locked_until"] is not None and row["locked_until"] > utcnow():
            await self._answer_alike(started)
            raise locked_out((row["locked_until"] - utcnow()).total_seconds())
        if not matches:
            locked = await self.db.write(
                user_store.record_login_failure,
                row["id"],
                self.settings.lockout_threshold,
                lock_for,
            )
            # The slowest refusal (bcrypt and a committed write): the others wait as long.
            self._refusal_times.append(time.monotonic() - started)
            if locked:
                raise locked_out(lock_for.total_seconds())
            raise ChatMoreError("AUTH_INVALID_CREDENTIALS")
        if not row["is_active"]:
            await self._answer_alike(started)
            raise ChatMoreError("AUTH_INVALID_CREDENTIALS")
        await self.db.write(user_store.record_login_success, row["id"])
        if cost_of(row["password_hash"]) != self.settings.bcrypt_cost:
            await self._rehash(row["id"], password)
        return await self._new_session(row, family=None, user_agent=user_agent, ip=ip)

    async def _answer_alike(self, started: float) -> None:
        """Hold a refusal that wrote nothing (unknown email, locked or inactive account)
        until the typical time of a wrong password, which also commits a failure count:
        on a database that syncs each commit, that write alone would tell them apart."""
        if not self._refusal_times:
            return
        wait = statistics.median(self._refusal_times) - (time.monotonic() - started)
        if wait > 0:
            await asyncio.sleep(wait)

    async def _rehash(self, user_id: int, password: str) -> None:
        """Store the password again at the configured cost (the same password: sessions
        stay)."""
        new_hash = await self._hashing(hash_password, password, self.settings.bcrypt_cost)
        await self.db.write(user_store.set_password_hash, user_id, new_hash, end_sessions=False)
        self._cost_ceiling = None

    async def _work_cost(self) -> int:
        """The bcrypt cost every login check takes the time of: the configured one, or a
        higher one while some stored hash still has it (until its owner logs in and is
        rehashed), so that such an account cannot be told apart by its slowness."""
        now = time.monotonic()
        if self._cost_ceiling is None or self._cost_ceiling[1] <= now:
            costs = await self.db.read(user_store.stored_hash_costs)
            stored = [int(c) for c in costs if c.isdigit()]
            ceiling = max([self.settings.bcrypt_cost, *stored])
            self._cost_ceiling = (min(ceiling, 31), now + COST_CEILING_SECONDS)
        return self._cost_ceiling[0]

    async def profile(self, user_id: int) -> dict[str, Any]:
        user = await self.db.read(user_store.get_user, user_id)
        if user is None:
            raise ChatMoreError("AUTH_TOKEN_REVOKED")
        return user

    async def change_password(
        self, user: AuthUser, current: object, new: object, user_agent: str, ip: str
    ) -> Session:
        if not isinstance(current, str):
            raise ChatMoreError("VALIDATION_FAILED", "current_password is required")
        new_password = check_password_rules(new, "new_password")
        row = await self.db.read(user_store.get_auth_row, user.id)
        if row is None or not row["is_active"]:
            raise ChatMoreError("AUTH_TOKEN_REVOKED")
        if not await self._hashing(verify_password, current, row["password_hash"]):
            raise ChatMoreError("AUTH_INVALID_CREDENTIALS", "the current password is wrong")
        new_hash = await self._hashing(hash_password, new_password, self.settings.bcrypt_cost)

        def store(conn: Any) -> None:
            user_store.set_password_hash(conn, user.id, new_hash)  # ends access tokens
            token_store.revoke_user(conn, user.id)

        await self.db.write(store)
        self._forget_user(user.id)
        # Every other session ends; this one goes on with a fresh family.
        return await self._new_session(row, family=None, user_agent=user_agent, ip=ip)

    async def list_users(self) -> list[dict[str, Any]]:
        return [public_user(row) for row in await self.db.read(user_store.list_users)]

    async def create_user(self, body: dict[str, Any]) -> dict[str, Any]:
        """An admin creates an account (any role)."""
        role = body.get("role", "user")
        if role not in ROLES:
            raise ChatMoreError("VALIDATION_FAILED", "role must be admin or user", field="role")
        user = await self._hashing(
            lambda: create_user_sync(
                self.db,
                email=body.get("email"),
                password=body.get("password"),
                display_name=body.get("display_name"),
                role=role,
                bcrypt_cost=self.settings.bcrypt_cost,
            )
        )
        return public_user(user)

    async def update_user(self, user_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Change is_active, role or display_name. Deactivating a user also revokes every
        refresh token they hold; their access tokens stop working at once too."""
        changes: dict[str, Any] = {}
        if "is_active" in body:
            if not isinstance(body["is_active"], bool):
                raise ChatMoreError("VALIDATION_FAILED", "is_active must be true or false")
            changes["is_active"] = body["is_active"]
        if "role" in body:
            if body["role"] not in ROLES:
                raise ChatMoreError("VALIDATION_FAILED", "role must be admin or user")
            changes["role"] = body["role"]
        if "display_name" in body:
            name = body["display_name"]
            if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
                raise ChatMoreError("VALIDATION_FAILED", "display_name: 1 to 200 characters")
            changes["display_name"] = name.strip()
        unknown = set(body) - {"is_active", "role", "display_name"}
        if unknown or not changes:
            raise ChatMoreError(
                "VALIDATION_FAILED", "give is_active, role or display_name", fields=sorted(unknown)
            )

        def store(conn: Any) -> dict[str, Any] | None:
            if not user_store.update_user(conn, user_id, changes):
                return None
            if changes.get("is_active") is False:
                token_store.revoke_user(conn, user_id)
            return user_store.get_user(conn, user_id)

        user = await self.db.write(store)
        self._forget_user(user_id)
        if user is None:
            raise ChatMoreError("NOT_FOUND", "no such user")
        return public_user(user)

    # -- sessions -----------------------------------------------------------------------

    async def _new_session(
        self, row: dict[str, Any], family: str | None, user_agent: str, ip: str
    ) -> Session:
        family = family or new_id()
        access, refresh = self._issue_pair(row, family)
        await self.db.write(
            token_store.insert_token,
            jti=refresh.jti,
            user_id=row["id"],
            family_id=family,
            expires_at=_as_utc(refresh.expires_at),
            user_agent=user_agent,
            ip=ip,
        )
        return Session(user=row, access=access, refresh=refresh)

    def _issue_pair(self, row: dict[str, Any], family: str) -> tuple[Issued, Issued]:
        subject = str(row["id"])
        access = self.tokens.issue(
            "access",
            subject,
            self.settings.jwt_access_ttl,
            {"email": row["email"], "role": row["role"]},
        )
        refresh = self.tokens.issue(
            "refresh", subject, self.settings.jwt_refresh_ttl, {"fam": family}
        )
        return access, refresh

    async def refresh(self, token: str | None, user_agent: str, ip: str) -> Session:
        if not token:
            raise ChatMoreError("AUTH_TOKEN_MISSING", "no refresh cookie was sent")
        claims = self.tokens.verify(token, "refresh")
        user_id = int(claims["sub"])
        row = await self.db.read(user_store.get_auth_row, user_id)
        if row is None or not row["is_active"]:
            raise ChatMoreError("AUTH_TOKEN_REVOKED")
        family = str(claims.get("fam", ""))
        access, refresh = self._issue_pair(row, family)
        outcome = await self.db.write(
            token_store.rotate,
            old_jti=claims["jti"],
            user_id=user_id,
            new_jti=refresh.jti,
            new_expires_at=_as_utc(refresh.expires_at),
            user_agent=user_agent,
            ip=ip,
            grace=dt.timedelta(seconds=self.settings.refresh_grace),
        )
        if outcome.rotation is token_store.Rotation.ROTATED:
            return Session(user=row, access=access, refresh=refresh)
        if outcome.rotation is token_store.Rotation.GRACE:
            # The other tab's successor, signed again: one live token for the family.
            assert outcome.successor and outcome.successor_expires_at
            again = self.tokens.issue(
                "refresh",
                str(user_id),
                self.settings.jwt_refresh_ttl,
                {"fam": outcome.family or family},
                jti=outcome.successor,
                expires_at=int(outcome.successor_expires_at.replace(tzinfo=dt.UTC).timestamp()),
            )
            return Session(user=row, access=access, refresh=again)
        if outcome.rotation is token_store.Rotation.EXPIRED:
            raise ChatMoreError("AUTH_TOKEN_EXPIRED")
        raise ChatMoreError("AUTH_TOKEN_REVOKED")

    async def logout(self, token: str | None) -> None:
        """Revoke the family of the presented refresh token (an expired one included)."""
        if not token:
            return
        try:
            claims = self.tokens.verify(token, "refresh")
        except ChatMoreError as exc:
            if exc.code != "AUTH_TOKEN_EXPIRED":
                raise
            return
        family = await self.db.read(token_store.family_of, claims["jti"])
        if family is not None:
            await self.db.write(token_store.revoke_family, family)

    async def handover(self, user: dict[str, Any], user_agent: str, ip: str) -> Session:
        """A new session (its own family) for ``user``, whom the caller has already
        authenticated: the dashboard server gives one to the kernel of a signed-in
        visitor's page."""
        return await self._new_session(user, family=None, user_agent=user_agent, ip=ip)

    async def logout_everywhere(self, user: AuthUser) -> None:
        """End every session of the user: refresh tokens revoked, access tokens and
        tickets issued until now refused."""

        def store(conn: Any) -> None:
            user_store.end_sessions(conn, user.id)
            token_store.revoke_user(conn, user.id)

        await self.db.write(store)
        self._forget_user(user.id)

    async def authenticate(self, authorization: str | None) -> AuthUser:
        """The caller of a bearer-authenticated request."""
        if not authorization:
            raise ChatMoreError("AUTH_TOKEN_MISSING")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ChatMoreError("AUTH_TOKEN_INVALID", "use the Authorization: Bearer scheme")
        claims = self.tokens.verify(token.strip(), "access")
        return await self._active_user(int(claims["sub"]), claims)

    async def _active_user(self, user_id: int, claims: dict[str, Any]) -> AuthUser:
        """The user behind a token, if still active and the token issued after their
        tokens_valid_after (read through a short cache: this runs on every
        authenticated request)."""
        now = time.monotonic()
        cached = self._users.get(user_id)
        if cached is not None and cached[1] > now:
            user = cached[0]
        else:
            row = await self.db.read(user_store.get_auth_row, user_id)
            user = None
            if row is not None and row["is_active"]:
                user = AuthUser(
                    row["id"],
                    row["email"],
                    row["role"],
                    row["display_name"],
                    _unix_ms(row["tokens_valid_after"]),
                )
            if len(self._users) > 10_000:
                self._users.clear()
            self._users[user_id] = (user, now + USER_CACHE_SECONDS)
        if user is None:
            raise ChatMoreError("AUTH_TOKEN_REVOKED", "the account is no longer active")
        issued_ms = claims.get("iat_ms")
        if not isinstance(issued_ms, int) or isinstance(issued_ms, bool):
            issued_ms = int(claims["iat"]) * 1000
        if issued_ms < user.tokens_valid_after_ms:
            raise ChatMoreError("AUTH_TOKEN_REVOKED", "the session was ended; sign in again")
        return user

    def _forget_user(self, user_id: int) -> None:
        self._users.pop(user_id, None)

    # -- stream tickets -----------------------------------------------------------------

    async def issue_ticket(self, user: AuthUser, turn_id: object) -> Issued:
        turn_id = db_id(turn_id, "turn_id")
        if await self.db.read(turn_store.turn_owner, turn_id) != user.id:
            raise ChatMoreError("TURN_NOT_FOUND")
        return self.tokens.issue(
            "stream", str(user.id), self.settings.jwt_stream_ttl, {"tid": turn_id}
        )

    async def redeem_ticket(self, token: str | None, turn_id: int) -> AuthUser:
        """Check a stream ticket for ``turn_id``: valid, unused, and the turn still the
        caller's. Using it spends it."""
        if not token:
            raise ChatMoreError("AUTH_TOKEN_MISSING", "the stream ticket (st) is missing")
        claims = self.tokens.verify(token, "stream")
        if claims.get("tid") != turn_id:
            raise ChatMoreError("AUTH_TOKEN_INVALID", "the ticket is for another turn")
        # Spent in the database, so that a ticket works once across every server process.
        try:
            await self.db.write(
                process_store.spend_ticket, claims["jti"], _as_utc(float(claims["exp"]))
            )
        except IntegrityError:
            raise ChatMoreError("AUTH_TOKEN_REVOKED", "the ticket was already used") from None
        user = await self._active_user(int(claims["sub"]), claims)
        if await self.db.read(turn_store.turn_owner, turn_id) != user.id:
            raise ChatMoreError("TURN_NOT_FOUND")
        return user

    def close(self) -> None:
        self._hasher.shutdown(wait=False, cancel_futures=True)


def _unix_ms(when: dt.datetime | None) -> int:
    """Naive UTC → unix milliseconds (floored, so a token of the same millisecond as
    the cut still counts as issued after it); 0 for None."""
    if when is None:
        return 0
    return int(when.replace(tzinfo=dt.UTC).timestamp() * 1000)


def _as_utc(unix: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(unix, dt.UTC).replace(tzinfo=None)
