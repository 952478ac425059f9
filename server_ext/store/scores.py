"""Scores: one scorer's verdict on one result (DESIGN §13), and the replies scored.

A user scores and reads the scores of their own results; an admin's listing may read
everyone's (``user_id`` None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from .db import utcnow
from .tables import messages, models, scores, turn_results, turns
from .turns import ACTIVE, REPLY_OF_RESULT


def results_to_score(
    conn: Connection, user_id: int, result_ids: list[int]
) -> dict[int, dict[str, Any]]:
    """The caller's results among ``result_ids``: status, prompt and reply."""
    rows = conn.execute(
        select(
            turn_results.c.id,
            turn_results.c.status,
            turns.c.input_text,
            messages.c.content,
        )
        .select_from(
            turn_results.join(turns, turns.c.id == turn_results.c.turn_id).outerjoin(
                messages, REPLY_OF_RESULT
            )
        )
        .where(turn_results.c.id.in_(result_ids), turn_results.c.user_id == user_id)
    )
    return {
        int(r.id): {
            "status": r.status,
            "active": r.status in ACTIVE,
            "prompt": r.input_text,
            "reply": r.content or "",
        }
        for r in rows
    }


def save_scores(conn: Connection, user_id: int, rows: list[dict[str, Any]]) -> list[int]:
    """Each row's score written, replacing that result's score of the same scorer; the
    ids in order."""
    now = utcnow()
    ids = []
    for row in rows:
        fields = {
            "value": row["value"],
            "passed": row.get("passed"),
            "rationale": row.get("rationale"),
            "judge_result_id": row.get("judge_result_id"),
            "user_id": user_id,
            "updated_at": now,
        }
        existing = conn.execute(
            select(scores.c.id)
            .where(scores.c.result_id == row["result_id"], scores.c.scorer == row["scorer"])
            .with_for_update()
        ).scalar_one_or_none()
        if existing is None:
            existing = conn.execute(
                insert(scores).values(
                    result_id=row["result_id"], scorer=row["scorer"], created_at=now, **fields
                )
            ).inserted_primary_key[0]
        else:
            conn.execute(update(scores).where(scores.c.id == existing).values(**fields))
        ids.append(int(existing))
    return ids


@dataclass(frozen=True)
class ScoreFilter:
    """Scores of whose results (None: everyone's), of which results, scorer and
    conversation."""

    user_id: int | None
    result_ids: tuple[int, ...] = ()
    scorer: str | None = None
    conversation_id: int | None = None
    after_id: int = 0
    score_ids: tuple[int, ...] = ()


def list_scores(conn: Connection, which: ScoreFilter, limit: int) -> list[dict[str, Any]]:
    query = (
        select(
            scores.c.id,
            scores.c.result_id,
            scores.c.scorer,
            scores.c.value,
            scores.c.passed,
            scores.c.rationale,
            scores.c.judge_result_id,
            scores.c.created_at,
            scores.c.updated_at,
            turn_results.c.turn_id,
            turn_results.c.user_id,
        )
        .join(turn_results, turn_results.c.id == scores.c.result_id)
        .where(scores.c.id > which.after_id)
    )
    if which.user_id is not None:
        query = query.where(turn_results.c.user_id == which.user_id)
    if which.result_ids:
        query = query.where(scores.c.result_id.in_(which.result_ids))
    if which.scorer is not None:
        query = query.where(scores.c.scorer == which.scorer)
    if which.score_ids:
        query = query.where(scores.c.id.in_(which.score_ids))
    if which.conversation_id is not None:
        query = query.where(
            turn_results.c.turn_id.in_(
                select(turns.c.id).where(turns.c.conversation_id == which.conversation_id)
            )
        )
    rows = conn.execute(query.order_by(scores.c.id).limit(limit)).mappings()
    return [
        {**row, "passed": None if row["passed"] is None else bool(row["passed"])} for row in rows
    ]


def enabled_model(conn: Connection, ref: str | int) -> dict[str, Any] | None:
    """An enabled model by id or name."""
    where = models.c.id == ref if isinstance(ref, int) else models.c.name == ref
    row = conn.execute(select(models.c.id, models.c.name).where(where, models.c.enabled)).first()
    return dict(row._mapping) if row else None


def call_outcome(conn: Connection, turn_id: int) -> dict[str, Any] | None:
    """The result of a one-window turn: its id, status, error code and reply."""
    row = conn.execute(
        select(
            turn_results.c.id,
            turn_results.c.status,
            turn_results.c.error_code,
            messages.c.content,
        )
        .select_from(turn_results.outerjoin(messages, REPLY_OF_RESULT))
        .where(turn_results.c.turn_id == turn_id)
    ).first()
    if row is None:
        return None
    return {
        "result_id": int(row.id),
        "status": row.status,
        "error_code": row.error_code,
        "reply": row.content or "",
    }
