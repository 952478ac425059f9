"""What the leaderboard is computed from: the selected results with their model and
window, the votes on their turns, and their scores (see ``services/leaderboard.py``).

Everything is read in one transaction, scoped to one user unless an admin asks for
everyone's (``user_id`` None).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from .tables import models, scores, turn_results, votes, windows

FINAL = ("succeeded", "failed", "cancelled")
# Read when the column exists (model prices add a per-result cost; DESIGN §10).
COST = turn_results.c.get("cost")


@dataclass(frozen=True)
class BoardFilter:
    """Whose results (None: everyone's), created when (from inclusive, to not), from
    which sources (empty: any)."""

    user_id: int | None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    sources: tuple[str, ...] = ()
    experiment_id: int | None = None  # only the cells of one experiment

    def conditions(self) -> list[Any]:
        found = [turn_results.c.status.in_(FINAL)]
        if self.user_id is not None:
            found.append(turn_results.c.user_id == self.user_id)
        if self.start is not None:
            found.append(turn_results.c.created_at >= self.start)
        if self.end is not None:
            found.append(turn_results.c.created_at < self.end)
        if self.sources:
            found.append(turn_results.c.source.in_(self.sources))
        if self.experiment_id is not None:
            found.append(turn_results.c.experiment_id == self.experiment_id)
        return found


RESULT_COLUMNS = (
    "result_id",
    "turn_id",
    "status",
    "latency_ms",
    "ttft_ms",
    "completion_tokens",
    "decode_ms",
    "cost",
    "model",
    "window_params",
    "model_params",
)


def board_inputs(conn: Connection, which: BoardFilter) -> dict[str, list[Any]]:
    """``results`` (rows of RESULT_COLUMNS), ``votes`` (turn_id, outcome, winner, compared
    result ids) on those results' turns by the same users, and ``scores`` (result_id,
    scorer, value) of those results."""
    cost = COST
    selected = (
        select(
            turn_results.c.id,
            turn_results.c.turn_id,
            turn_results.c.status,
            turn_results.c.latency_ms,
            turn_results.c.ttft_ms,
            turn_results.c.completion_tokens,
            turn_results.c.decode_ms,
            *([cost] if cost is not None else []),
            models.c.name,
            windows.c.params,
            models.c.default_params,
        )
        .join(models, models.c.id == turn_results.c.model_id)
        .join(windows, windows.c.id == turn_results.c.window_id)
        .where(*which.conditions())
        .order_by(turn_results.c.id)
    )
    results = [
        row if cost is not None else (*row[:7], None, *row[7:])
        for row in conn.execute(selected).all()
    ]
    turn_ids = select(turn_results.c.turn_id).where(*which.conditions())
    vote_query = select(
        votes.c.turn_id, votes.c.outcome, votes.c.winner_result_id, votes.c.result_ids
    ).where(votes.c.turn_id.in_(turn_ids))
    if which.user_id is not None:
        vote_query = vote_query.where(votes.c.user_id == which.user_id)
    result_ids = select(turn_results.c.id).where(*which.conditions())
    score_rows = conn.execute(
        select(scores.c.result_id, scores.c.scorer, scores.c.value).where(
            scores.c.result_id.in_(result_ids)
        )
    ).all()
    return {
        "results": results,
        "votes": conn.execute(vote_query.order_by(votes.c.id)).all(),
        "scores": score_rows,
    }
