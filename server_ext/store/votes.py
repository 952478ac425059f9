"""Votes: one user's judgement of one turn (DESIGN §13), one per user and turn.

Every query names the caller: a vote, and the turn it judges, are found only among the
caller's own (or, for an admin's ``user_id=None`` listing, everyone's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from .db import utcnow
from .tables import turn_results, turns, votes, windows


def turn_results_of(conn: Connection, user_id: int, turn_id: int) -> list[int] | None:
    """The ids of the caller's turn's results in column order; None when the turn is
    not theirs (or does not exist)."""
    owner = conn.execute(select(turns.c.user_id).where(turns.c.id == turn_id)).scalar_one_or_none()
    if owner != user_id:
        return None
    rows = conn.execute(
        select(turn_results.c.id)
        .join(windows, windows.c.id == turn_results.c.window_id)
        .where(turn_results.c.turn_id == turn_id)
        .order_by(windows.c.sort_order, windows.c.id)
    )
    return [int(row.id) for row in rows]


def _row(row: Any) -> dict[str, Any]:
    found = dict(row._mapping)
    found["result_ids"] = [int(r) for r in found["result_ids"]]
    found["blind"] = bool(found["blind"])
    return found


def get_vote(conn: Connection, user_id: int, vote_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        select(votes, turns.c.conversation_id)
        .join(turns, turns.c.id == votes.c.turn_id)
        .where(votes.c.id == vote_id, votes.c.user_id == user_id)
    ).first()
    return _row(row) if row else None


def save_vote(
    conn: Connection,
    *,
    user_id: int,
    turn_id: int,
    outcome: str,
    winner_result_id: int | None,
    result_ids: list[int],
    blind: bool,
) -> tuple[dict[str, Any], bool]:
    """The caller's vote on the turn, written or rewritten; and whether it is new."""
    now = utcnow()
    fields = {
        "outcome": outcome,
        "winner_result_id": winner_result_id,
        "result_ids": result_ids,
        "blind": blind,
        "updated_at": now,
    }
    existing = conn.execute(
        select(votes.c.id)
        .where(votes.c.turn_id == turn_id, votes.c.user_id == user_id)
        .with_for_update()
    ).scalar_one_or_none()
    if existing is None:
        vote_id = conn.execute(
            insert(votes).values(turn_id=turn_id, user_id=user_id, created_at=now, **fields)
        ).inserted_primary_key[0]
    else:
        vote_id = existing
        conn.execute(update(votes).where(votes.c.id == existing).values(**fields))
    found = get_vote(conn, user_id, int(vote_id))
    assert found is not None
    return found, existing is None


def delete_vote(conn: Connection, user_id: int, vote_id: int) -> bool:
    done = conn.execute(delete(votes).where(votes.c.id == vote_id, votes.c.user_id == user_id))
    return done.rowcount > 0


@dataclass(frozen=True)
class VoteFilter:
    """Whose votes (None: everyone's), on which turn or conversation, cast when (from
    inclusive, to not)."""

    user_id: int | None
    turn_id: int | None = None
    conversation_id: int | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def list_votes(conn: Connection, which: VoteFilter, limit: int) -> list[dict[str, Any]]:
    query = select(votes, turns.c.conversation_id).join(turns, turns.c.id == votes.c.turn_id)
    if which.user_id is not None:
        query = query.where(votes.c.user_id == which.user_id)
    if which.turn_id is not None:
        query = query.where(votes.c.turn_id == which.turn_id)
    if which.conversation_id is not None:
        query = query.where(turns.c.conversation_id == which.conversation_id)
    if which.start is not None:
        query = query.where(votes.c.created_at >= which.start)
    if which.end is not None:
        query = query.where(votes.c.created_at < which.end)
    rows = conn.execute(query.order_by(votes.c.id).limit(limit))
    return [_row(row) for row in rows]
