"""Queries on users."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .db import utcnow
from .tables import users

PUBLIC_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.display_name,
    users.c.role,
    users.c.is_active,
    users.c.last_login_at,
    users.c.created_at,
)


class EmailTaken(Exception):
    pass


def insert_user(
    conn: Connection, *, email: str, password_hash: str, display_name: str, role: str
) -> dict[str, Any]:
    now = utcnow()
    try:
        result = conn.execute(
            insert(users).values(
                email=email,
                password_hash=password_hash,
                display_name=display_name,
                role=role,
                failed_attempts=0,
                is_active=True,
                created_at=now,
                updated_at=now,
            )
        )
    except IntegrityError:
        raise EmailTaken(email) from None
    user_id = result.inserted_primary_key[0]
    found = get_user(conn, user_id)
    assert found is not None
    return found


def get_user(conn: Connection, user_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(*PUBLIC_COLUMNS).where(users.c.id == user_id)).mappings().first()
    return dict(row) if row else None


def get_login_row(conn: Connection, email: str) -> dict[str, Any] | None:
    """Everything a login check needs, password hash and lock state included."""
    row = conn.execute(select(users).where(users.c.email == email)).mappings().first()
    return dict(row) if row else None


def get_auth_row(conn: Connection, user_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    return dict(row) if row else None


def count_admins(conn: Connection) -> int:
    return conn.execute(
        select(func.count()).select_from(users).where(users.c.role == "admin")
    ).scalar_one()


def record_login_failure(
    conn: Connection, user_id: int, threshold: int, lock_for: dt.timedelta
) -> bool:
    """Count a failed login; lock the account when the count reaches ``threshold``.
    Returns whether the account is now locked."""
    now = utcnow()
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(failed_attempts=users.c.failed_attempts + 1, updated_at=now)
    )
    attempts = conn.execute(
        select(users.c.failed_attempts).where(users.c.id == user_id)
    ).scalar_one()
    if attempts >= threshold:
        conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(failed_attempts=0, locked_until=now + lock_for)
        )
        return True
    return False


def record_login_success(conn: Connection, user_id: int) -> None:
    now = utcnow()
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(failed_attempts=0, locked_until=None, last_login_at=now, updated_at=now)
    )


def set_password_hash(
    conn: Connection, user_id: int, password_hash: str, *, end_sessions: bool = True
) -> None:
    """A new hash; ``end_sessions`` also refuses every access token issued until now
    (False for a rehash of the same password at another cost)."""
    now = utcnow()
    values: dict[str, Any] = {"password_hash": password_hash, "updated_at": now}
    if end_sessions:
        values["tokens_valid_after"] = now
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


def end_sessions(conn: Connection, user_id: int) -> None:
    """Refuse every access token of the user issued until now."""
    now = utcnow()
    conn.execute(
        update(users).where(users.c.id == user_id).values(tokens_valid_after=now, updated_at=now)
    )


def stored_hash_costs(conn: Connection) -> set[str]:
    """The distinct cost fields ("$2b$12$" → "12") of the stored password hashes."""
    cost = func.substr(users.c.password_hash, 5, 2)
    return {str(value) for value in conn.execute(select(cost).distinct()).scalars()}


def list_users(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(*PUBLIC_COLUMNS).order_by(users.c.id)).mappings()
    return [dict(row) for row in rows]


def update_user(conn: Connection, user_id: int, changes: dict[str, Any]) -> bool:
    """Apply ``changes`` (is_active, role, display_name); False if there is no such user.
    A deactivation also refuses every access token issued until now."""
    now = utcnow()
    if changes.get("is_active") is False:
        changes = {**changes, "tokens_valid_after": now}
    result = conn.execute(
        update(users).where(users.c.id == user_id).values(**changes, updated_at=now)
    )
    return result.rowcount == 1
