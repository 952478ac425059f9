"""Queries on share links. The owner's calls take their user id (another user's link is
not found); the page's lookup goes by the token's hash alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from .db import utcnow
from .tables import conversations, share_links

LINK_COLUMNS = (
    share_links.c.id,
    share_links.c.conversation_id,
    share_links.c.created_at,
    share_links.c.expires_at,
    share_links.c.revoked_at,
    conversations.c.title.label("conversation_title"),
)


def insert_link(
    conn: Connection,
    *,
    conversation_id: int,
    user_id: int,
    token_hash: str,
    expires_at: dt.datetime | None,
) -> dict[str, Any]:
    link_id = conn.execute(
        insert(share_links).values(
            conversation_id=conversation_id,
            user_id=user_id,
            token_hash=token_hash,
            created_at=utcnow(),
            expires_at=expires_at,
        )
    ).inserted_primary_key[0]
    found = get_link(conn, user_id, int(link_id))
    assert found is not None
    return found


def _mine(user_id: int) -> Any:
    return (
        select(*LINK_COLUMNS)
        .join(conversations, conversations.c.id == share_links.c.conversation_id)
        .where(share_links.c.user_id == user_id)
    )


def get_link(conn: Connection, user_id: int, link_id: int) -> dict[str, Any] | None:
    row = conn.execute(_mine(user_id).where(share_links.c.id == link_id)).mappings().first()
    return dict(row) if row else None


def list_links(
    conn: Connection, user_id: int, conversation_id: int | None
) -> list[dict[str, Any]]:
    query = _mine(user_id)
    if conversation_id is not None:
        query = query.where(share_links.c.conversation_id == conversation_id)
    rows = conn.execute(query.order_by(share_links.c.id.desc())).mappings()
    return [dict(row) for row in rows]


def revoke_link(conn: Connection, user_id: int, link_id: int) -> bool:
    """Revoke one of the user's links (again: no change). False: not theirs."""
    found = conn.execute(
        select(share_links.c.id).where(
            share_links.c.id == link_id, share_links.c.user_id == user_id
        )
    ).first()
    if found is None:
        return False
    conn.execute(
        update(share_links)
        .where(share_links.c.id == link_id, share_links.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return True


def shared_conversation_id(conn: Connection, token_hash: str) -> int | None:
    """The conversation a live link (neither revoked nor expired) opens, by its hash."""
    now = utcnow()
    return conn.execute(
        select(share_links.c.conversation_id)
        .join(conversations, conversations.c.id == share_links.c.conversation_id)
        .where(
            share_links.c.token_hash == token_hash,
            share_links.c.revoked_at.is_(None),
            or_(share_links.c.expires_at.is_(None), share_links.c.expires_at > now),
            conversations.c.user_id == share_links.c.user_id,
        )
    ).scalar_one_or_none()


def owner_of(conn: Connection, conversation_id: int) -> int | None:
    return conn.execute(
        select(conversations.c.user_id).where(conversations.c.id == conversation_id)
    ).scalar_one_or_none()
