"""Queries of a conversation's export and import: every turn with each window's result
and reply, read in one go; and a whole conversation written back in one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select

from .tables import messages, models, turn_results, turns
from .turns import REPLY_OF_RESULT, RESULT_COLUMNS


def conversation_turns(conn: Connection, conversation_id: int) -> list[dict[str, Any]]:
    """The conversation's turns in order, each with ``results`` (window order by result
    id) holding the result's columns and its ``reply``."""
    found = [
        {**dict(row), "results": []}
        for row in conn.execute(
            select(turns).where(turns.c.conversation_id == conversation_id).order_by(turns.c.id)
        ).mappings()
    ]
    by_id = {turn["id"]: turn for turn in found}
    rows = conn.execute(
        select(*RESULT_COLUMNS, messages.c.content.label("reply"))
        .select_from(turn_results.outerjoin(messages, REPLY_OF_RESULT))
        .where(
            turn_results.c.turn_id.in_(
                select(turns.c.id).where(turns.c.conversation_id == conversation_id)
            )
        )
        .order_by(turn_results.c.turn_id, turn_results.c.id)
    ).mappings()
    for row in rows:
        by_id[row["turn_id"]]["results"].append(dict(row))
    return found


def model_ids_by_name(conn: Connection, names: list[str]) -> dict[str, int]:
    rows = conn.execute(select(models.c.id, models.c.name).where(models.c.name.in_(names)))
    return {row.name: row.id for row in rows}


def insert_history(
    conn: Connection,
    *,
    conversation_id: int,
    user_id: int,
    windows: list[dict[str, Any]],
    history: list[dict[str, Any]],
    source: str,
) -> tuple[int, int]:
    """Write finished turns into a conversation: each turn, and per result its window's
    user message, the reply and the result (already final, so run by no process).
    ``windows`` are the conversation's window rows (id, model_id) in export order;
    a result names its window by position, a turn the one it replaced. Returns (turns,
    results) written."""
    results_written = 0
    written: list[int] = []  # the new turns' ids, in order: what ``replaces`` points into
    for turn in history:
        at: dt.datetime = turn["created_at"]
        replaced = turn.get("replaces")
        turn_id = conn.execute(
            insert(turns).values(
                conversation_id=conversation_id,
                user_id=user_id,
                mode=turn["mode"],
                input_text=turn["content"],
                status="done",
                created_at=at,
                finished_at=turn["finished_at"] or at,
                replaces_turn_id=None if replaced is None else written[replaced],
            )
        ).inserted_primary_key[0]
        written.append(turn_id)
        for result in turn["results"]:
            window = windows[result["window"]]
            base = {"conversation_id": conversation_id, "window_id": window["id"]}
            conn.execute(
                insert(messages).values(
                    **base, turn_id=turn_id, role="user", content=turn["content"], created_at=at
                )
            )
            conn.execute(
                insert(messages).values(
                    **base,
                    turn_id=turn_id,
                    role="assistant",
                    content=result["reply"],
                    created_at=at,
                )
            )
            conn.execute(
                insert(turn_results).values(
                    turn_id=turn_id,
                    window_id=window["id"],
                    model_id=window["model_id"],
                    user_id=user_id,
                    source=source,
                    runner=None,
                    created_at=at,
                    **result["outcome"],
                )
            )
            results_written += 1
    return len(history), results_written
