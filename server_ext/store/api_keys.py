"""Queries on personal API keys: made, listed, looked up by hash, used and revoked.

Only a key's SHA-256 hash and its last four characters are stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select, update

from .tables import api_keys, users

PUBLIC_COLUMNS = (
    api_keys.c.id,
    api_keys.c.user_id,
    api_keys.c.name,
    api_keys.c.last4,
    api_keys.c.created_at,
    api_keys.c.expires_at,
    api_keys.c.revoked_at,
    api_keys.c.last_used_at,
)


def insert_key(
    conn: Connection,
    *,
    user_id: int,
    name: str,
    key_hash: str,
    last4: str,
    expires_at: dt.datetime | None,
    at: dt.datetime,
) -> dict[str, Any]:
    key_id = conn.execute(
        insert(api_keys).values(
            user_id=user_id,
            name=name,
            key_hash=key_hash,
            last4=last4,
            created_at=at,
            expires_at=expires_at,
        )
    ).inserted_primary_key[0]
    row = get_key(conn, int(key_id))
    assert row is not None
    return row


def get_key(conn: Connection, key_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(*PUBLIC_COLUMNS).where(api_keys.c.id == key_id)).mappings().first()
    return dict(row) if row else None


def list_keys(conn: Connection, user_id: int | None) -> list[dict[str, Any]]:
    """A user's keys (``None``: everyone's, with the owner's email), newest first."""
    query = (
        select(*PUBLIC_COLUMNS, users.c.email.label("user_email"))
        .select_from(api_keys.join(users, users.c.id == api_keys.c.user_id))
        .order_by(api_keys.c.id.desc())
    )
    if user_id is not None:
        query = query.where(api_keys.c.user_id == user_id)
    return [dict(row) for row in conn.execute(query).mappings()]


def find_by_hash(conn: Connection, key_hash: str) -> dict[str, Any] | None:
    """The key with this hash, revoked or not, with its owner's account state."""
    row = (
        conn.execute(
            select(
                *PUBLIC_COLUMNS,
                users.c.email,
                users.c.role,
                users.c.display_name,
                users.c.is_active,
            )
            .select_from(api_keys.join(users, users.c.id == api_keys.c.user_id))
            .where(api_keys.c.key_hash == key_hash)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def revoke_key(conn: Connection, key_id: int, user_id: int | None, at: dt.datetime) -> bool:
    """Revoke a key of ``user_id`` (``None``: anyone's). False when there is no such key;
    revoking a revoked key keeps its first revocation time."""
    query = select(api_keys.c.id, api_keys.c.revoked_at).where(api_keys.c.id == key_id)
    if user_id is not None:
        query = query.where(api_keys.c.user_id == user_id)
    row = conn.execute(query).first()
    if row is None:
        return False
    if row.revoked_at is None:
        conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=at))
    return True


def touch_key(conn: Connection, key_id: int, at: dt.datetime) -> None:
    conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=at))
