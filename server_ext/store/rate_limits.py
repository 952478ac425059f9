"""Queries behind the rate limits: what a user (or one of their keys) did in the last
minute and has running now, read from the stored turns themselves, and the per-user
overrides admins set.

The turns and results rows are the counters: a turn is a request, its results' tokens
are its tokens, a queued or streaming result is a stream. They are in the database that
every server process shares, so the limits hold across processes; :func:`lock_user`
makes a user's admissions take turns (see ``services/rate_limits.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from .tables import rate_limit_overrides, turn_results, turns, users

ACTIVE = ("queued", "streaming")
OVERRIDE_FIELDS = ("requests_per_minute", "tokens_per_minute", "concurrent_streams")


@dataclass(frozen=True)
class Usage:
    """One subject's last minute and present."""

    requests: int
    first_request_at: dt.datetime | None  # the oldest request still in the window
    tokens: int
    first_token_at: dt.datetime | None  # the oldest result with tokens in the window
    streams: int


def lock_user(conn: Connection, user_id: int) -> None:
    """Hold the user's row until the transaction ends: two admissions of one user, in
    any process, are decided one after the other (each sees the other's rows)."""
    conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update()).first()


def usage(conn: Connection, *, since: dt.datetime, user_id: int, key_id: int | None) -> Usage:
    """Requests and tokens since ``since`` and streams running now, of the user (or,
    with ``key_id``, of that key of theirs)."""
    if key_id is None:
        mine = (turns.c.user_id == user_id,)
        results = (turn_results.c.user_id == user_id,)
    else:
        mine = (turns.c.user_id == user_id, turns.c.api_key_id == key_id)
        results = (
            turn_results.c.turn_id.in_(
                select(turns.c.id).where(*mine, turns.c.created_at >= since)
            ),
        )
    requests, first_request = conn.execute(
        select(func.count(), func.min(turns.c.created_at)).where(
            *mine, turns.c.created_at >= since
        )
    ).one()
    tokens, first_token = conn.execute(
        select(func.sum(turn_results.c.total_tokens), func.min(turn_results.c.created_at)).where(
            *results,
            turn_results.c.created_at >= since,
            turn_results.c.total_tokens.is_not(None),
        )
    ).one()
    if key_id is None:
        active = select(func.count()).where(
            turn_results.c.status.in_(ACTIVE), turn_results.c.user_id == user_id
        )
    else:
        active = (
            select(func.count())
            .select_from(turn_results.join(turns, turns.c.id == turn_results.c.turn_id))
            .where(turn_results.c.status.in_(ACTIVE), *mine)
        )
    return Usage(
        requests=int(requests or 0),
        first_request_at=first_request,
        tokens=int(tokens or 0),
        first_token_at=first_token,
        streams=int(conn.execute(active).scalar_one() or 0),
    )


def get_override(conn: Connection, user_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(select(rate_limit_overrides).where(rate_limit_overrides.c.user_id == user_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def set_override(
    conn: Connection, user_id: int, values: dict[str, int | None], at: dt.datetime
) -> bool:
    """Set (or, all None, clear) a user's overrides. False when there is no such user."""
    if conn.execute(select(users.c.id).where(users.c.id == user_id)).first() is None:
        return False
    table = rate_limit_overrides
    if all(values.get(name) is None for name in OVERRIDE_FIELDS):
        conn.execute(delete(table).where(table.c.user_id == user_id))
        return True
    row = {name: values.get(name) for name in OVERRIDE_FIELDS}
    changed = conn.execute(
        update(table).where(table.c.user_id == user_id).values(**row, updated_at=at)
    ).rowcount
    if not changed:
        conn.execute(insert(table).values(user_id=user_id, **row, updated_at=at))
    return True
