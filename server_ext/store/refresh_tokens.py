"""Queries on refresh tokens: stored by jti, grouped in families, rotated atomically."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import Connection, insert, select, update

from .db import utcnow
from .tables import refresh_tokens


class Rotation(Enum):
    ROTATED = "rotated"  # the token was current; it now points at its successor
    GRACE = "grace"  # rotated a moment ago (a second tab): its live successor is handed out
    REUSED = "reused"  # the token had already been rotated: its family is now revoked
    REVOKED = "revoked"  # logged out, or revoked with its family or user
    EXPIRED = "expired"
    UNKNOWN = "unknown"


# Successors followed from a token rotated within the grace period (a tab that refreshed
# twice while another was still on the first token).
MAX_GRACE_HOPS = 4


@dataclass(frozen=True)
class Outcome:
    rotation: Rotation
    family: str | None = None
    # With GRACE: the live successor's jti and expiry, to hand out again.
    successor: str | None = None
    successor_expires_at: dt.datetime | None = None


def insert_token(
    conn: Connection,
    *,
    jti: str,
    user_id: int,
    family_id: str,
    expires_at: dt.datetime,
    user_agent: str | None,
    ip: str | None,
) -> None:
    conn.execute(
        insert(refresh_tokens).values(
            jti=jti,
            user_id=user_id,
            family_id=family_id,
            issued_at=utcnow(),
            expires_at=expires_at,
            user_agent=(user_agent or "")[:300] or None,
            ip=(ip or "")[:64] or None,
        )
    )


def rotate(
    conn: Connection,
    *,
    old_jti: str,
    user_id: int,
    new_jti: str,
    new_expires_at: dt.datetime,
    user_agent: str | None,
    ip: str | None,
    grace: dt.timedelta = dt.timedelta(0),
) -> Outcome:
    """Replace ``old_jti`` by ``new_jti`` in one transaction. Only one of two concurrent
    rotations of a token can win: the conditional UPDATE below is the arbiter on every
    database. The loser, or anyone presenting the token within ``grace`` of its
    rotation, gets the live successor (GRACE) and nothing is revoked; after the grace,
    presenting a rotated token revokes its family (REUSED)."""
    now = utcnow()
    won = conn.execute(
        update(refresh_tokens)
        .where(
            refresh_tokens.c.jti == old_jti,
            refresh_tokens.c.user_id == user_id,
            refresh_tokens.c.revoked_at.is_(None),
            refresh_tokens.c.expires_at > now,
        )
        .values(revoked_at=now, replaced_by=new_jti)
    ).rowcount
    row = (
        conn.execute(
            select(refresh_tokens).where(
                refresh_tokens.c.jti == old_jti, refresh_tokens.c.user_id == user_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return Outcome(Rotation.UNKNOWN)
    family = row["family_id"]
    if won == 1:
        insert_token(
            conn,
            jti=new_jti,
            user_id=user_id,
            family_id=family,
            expires_at=new_expires_at,
            user_agent=user_agent,
            ip=ip,
        )
        return Outcome(Rotation.ROTATED, family)
    if row["replaced_by"] is not None:
        if row["revoked_at"] is not None and row["revoked_at"] >= now - grace:
            live = _live_successor(conn, row["replaced_by"], user_id, now)
            if live is not None:
                return Outcome(Rotation.GRACE, family, live["jti"], live["expires_at"])
        # A rotated token came back: whoever holds it, the family is compromised.
        revoke_family(conn, family)
        return Outcome(Rotation.REUSED, family)
    if row["revoked_at"] is not None:
        return Outcome(Rotation.REVOKED, family)
    return Outcome(Rotation.EXPIRED, family)


def _live_successor(
    conn: Connection, jti: str, user_id: int, now: dt.datetime
) -> dict[str, Any] | None:
    """The end of the replaced_by chain from ``jti``, if it is still usable."""
    for _ in range(MAX_GRACE_HOPS):
        row = (
            conn.execute(
                select(refresh_tokens).where(
                    refresh_tokens.c.jti == jti, refresh_tokens.c.user_id == user_id
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        if row["revoked_at"] is None:
            return dict(row) if row["expires_at"] > now else None
        if row["replaced_by"] is None:
            return None  # revoked (logged out): nothing to hand out
        jti = row["replaced_by"]
    return None


def revoke_family(conn: Connection, family_id: str) -> int:
    return conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount


def revoke_user(conn: Connection, user_id: int) -> int:
    return conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount


def family_of(conn: Connection, jti: str) -> str | None:
    return conn.execute(
        select(refresh_tokens.c.family_id).where(refresh_tokens.c.jti == jti)
    ).scalar_one_or_none()
