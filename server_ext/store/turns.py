"""Queries of a turn's life: its rows written when it starts, checkpointed while it
streams, finalised once, and read back for history and replay."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from .db import utcnow
from .tables import conversations, messages, models, turn_results, turns, windows

ACTIVE = ("queued", "streaming")
FINAL = ("succeeded", "failed", "cancelled")


def turn_owner(conn: Connection, turn_id: int) -> int | None:
    return conn.execute(select(turns.c.user_id).where(turns.c.id == turn_id)).scalar_one_or_none()


def has_turns(conn: Connection, conversation_id: int) -> bool:
    found = conn.execute(
        select(turns.c.id).where(turns.c.conversation_id == conversation_id).limit(1)
    ).first()
    return found is not None


def lock_conversation(conn: Connection, conversation_id: int) -> None:
    """Hold the conversation's row until the transaction ends, so that two turns of one
    conversation are stored one after the other: the second then sees the first's
    results when it checks for busy windows (MySQL's repeatable reads would otherwise
    show it a snapshot without them; SQLite's write transactions are serial anyway)."""
    conn.execute(
        select(conversations.c.id).where(conversations.c.id == conversation_id).with_for_update()
    ).first()


# The statements a turn's plan runs (services/conversations.py), built once: building
# one costs more than running it (column proxies of the aliases, coercions).
_WINDOW_IDS = bindparam("window_ids", expanding=True)
_BUSY = select(turn_results.c.window_id).where(
    turn_results.c.window_id.in_(_WINDOW_IDS), turn_results.c.status.in_(ACTIVE)
)
_MODELS = select(models).where(models.c.id.in_(bindparam("model_ids", expanding=True)))


def busy_windows(conn: Connection, window_ids: list[int]) -> set[int]:
    rows = conn.execute(_BUSY, {"window_ids": window_ids})
    return {row.window_id for row in rows}


def models_by_id(conn: Connection, model_ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = conn.execute(_MODELS, {"model_ids": model_ids}).mappings()
    return {row["id"]: dict(row) for row in rows}


def _chain_query() -> Any:
    """Each window's messages that belong in its context (see ``chains``)."""
    later_result, later_turn = turn_results.alias("later_result"), turns.alias("later_turn")
    replaced = (
        select(later_result.c.id)
        .select_from(later_result.join(later_turn, later_turn.c.id == later_result.c.turn_id))
        .where(
            later_turn.c.replaces_turn_id == messages.c.turn_id,
            later_result.c.window_id == messages.c.window_id,
        )
        .exists()
    )
    return (
        select(messages.c.window_id, messages.c.role, messages.c.content)
        .select_from(
            messages.outerjoin(
                turn_results,
                and_(
                    turn_results.c.turn_id == messages.c.turn_id,
                    turn_results.c.window_id == messages.c.window_id,
                ),
            )
        )
        .where(
            messages.c.window_id.in_(_WINDOW_IDS),
            or_(
                messages.c.role != "assistant",
                turn_results.c.status == "succeeded",
            ),
            ~replaced,
        )
        .order_by(messages.c.window_id, messages.c.id)
    )


_CHAINS = _chain_query()
_CHAINS_DROPPING = _CHAINS.where(
    or_(messages.c.turn_id.is_(None), messages.c.turn_id != bindparam("dropping"))
)


def chains(
    conn: Connection, window_ids: list[int], *, dropping: int | None = None
) -> dict[int, list[dict[str, str]]]:
    """Each window's context as sent upstream: its user messages and the assistant
    replies that succeeded, in order (failed or unfinished replies are left out). A turn
    that a later turn replaced in a window (a retry, an edited prompt) leaves that
    window's chain whole, prompt and reply; so does turn ``dropping``, the one the turn
    being planned replaces."""
    found: dict[int, list[dict[str, str]]] = {wid: [] for wid in window_ids}
    if dropping is None:
        rows = conn.execute(_CHAINS, {"window_ids": window_ids})
    else:
        rows = conn.execute(_CHAINS_DROPPING, {"window_ids": window_ids, "dropping": dropping})
    for row in rows:
        found[row.window_id].append({"role": row.role, "content": row.content})
    return found


def turn_windows(conn: Connection, conversation_id: int, turn_id: int) -> list[int] | None:
    """The windows that took part in a turn of this conversation; None when the
    conversation has no such turn."""
    owner = conn.execute(
        select(turns.c.id).where(turns.c.id == turn_id, turns.c.conversation_id == conversation_id)
    ).first()
    if owner is None:
        return None
    rows = conn.execute(
        select(turn_results.c.window_id).where(turn_results.c.turn_id == turn_id)
    ).scalars()
    return list(rows)


def latest_turns(conn: Connection, window_ids: list[int]) -> dict[int, int]:
    """Each window's newest turn id (windows without a turn are left out)."""
    rows = conn.execute(
        select(turn_results.c.window_id, func.max(turn_results.c.turn_id))
        .where(turn_results.c.window_id.in_(window_ids))
        .group_by(turn_results.c.window_id)
    )
    return {window_id: turn_id for window_id, turn_id in rows}


# A turn's rows, the values given at execution: the statements are built and compiled once.
_INSERT_TURN = insert(turns)
_INSERT_MESSAGE = insert(messages)
_INSERT_RESULT = insert(turn_results)
_TOUCH_CONVERSATION = (
    update(conversations)
    .where(conversations.c.id == bindparam("cid"))
    .values(last_message_at=bindparam("at"), updated_at=bindparam("at"))
)


def insert_turn(
    conn: Connection,
    *,
    conversation_id: int,
    user_id: int,
    mode: str,
    content: str,
    targets: list[dict[str, Any]],
    runner: str | None,
    at: dt.datetime | None = None,
    source: str = "board",
    replaces_turn_id: int | None = None,
) -> tuple[int, dt.datetime, dict[int, dict[str, int]]]:
    """The turn, each target window's user message, an empty assistant message and a
    queued result run by process ``runner``, all dated ``at`` (when the user sent it;
    now by default). ``targets`` are window rows (id, model_id). Returns the turn id, its
    time, and per window the ids {"result_id", "message_id"}."""
    now = at or utcnow()
    turn = {
        "conversation_id": conversation_id,
        "user_id": user_id,
        "mode": mode,
        "input_text": content,
        "status": "running",
        "replaces_turn_id": replaces_turn_id,
        "created_at": now,
    }
    turn_id = int(conn.execute(_INSERT_TURN, turn).inserted_primary_key[0])
    ids: dict[int, dict[str, int]] = {}
    for window in targets:
        base: dict[str, Any] = {
            "conversation_id": conversation_id,
            "window_id": window["id"],
            "turn_id": turn_id,
        }
        base["created_at"] = now
        conn.execute(_INSERT_MESSAGE, {**base, "role": "user", "content": content})
        message_id = conn.execute(
            _INSERT_MESSAGE, {**base, "role": "assistant", "content": ""}
        ).inserted_primary_key[0]
        result = {
            "turn_id": turn_id,
            "window_id": window["id"],
            "model_id": window["model_id"],
            "user_id": user_id,
            "status": "queued",
            "source": source,
            "runner": runner,
            "created_at": now,
        }
        result_id = conn.execute(_INSERT_RESULT, result).inserted_primary_key[0]
        ids[window["id"]] = {"result_id": int(result_id), "message_id": int(message_id)}
    conn.execute(_TOUCH_CONVERSATION, {"cid": conversation_id, "at": now})
    return turn_id, now, ids


# -- while streaming -----------------------------------------------------------------------

# A result is still active while it is queued or streaming. Spelled out rather than as
# ``IN (...)``: an expanding IN cannot be part of an executemany.
_STILL_ACTIVE = or_(turn_results.c.status == ACTIVE[0], turn_results.c.status == ACTIVE[1])

_CHECKPOINT_RESULT = (
    update(turn_results)
    .where(turn_results.c.id == bindparam("rid"), _STILL_ACTIVE)
    .values(
        status=bindparam("status"),
        started_at=bindparam("started_at"),
        event_log=bindparam("event_log"),
    )
)

_CHECKPOINT_REPLY = (
    update(messages)
    .where(
        messages.c.id == bindparam("mid"),
        select(turn_results.c.id)
        .where(turn_results.c.id == bindparam("rid"), _STILL_ACTIVE)
        .exists(),
    )
    .values(content=bindparam("content"))
)


def checkpoint(conn: Connection, items: list[dict[str, Any]]) -> None:
    """Save the partial text and progress of streaming results, all in one transaction
    (so that a reader sees every window at one moment). Each item: rid, mid, status,
    started_at, event_log, content. A result finalised meanwhile, or marked INTERRUPTED
    by another process, is left alone."""
    if not items:
        return
    conn.execute(_CHECKPOINT_RESULT, items)
    conn.execute(_CHECKPOINT_REPLY, items)


def finalize_result(
    conn: Connection,
    *,
    result_id: int,
    message_id: int,
    runner: str | None,
    content: str,
    values: dict[str, Any],
) -> bool:
    """Write a result's outcome and its reply text, once, if it is still this runner's
    to write: a result another process has marked INTERRUPTED (this one's lease ran
    out) keeps that outcome. Returns whether it was written."""
    written = conn.execute(
        update(turn_results)
        .where(
            turn_results.c.id == result_id,
            turn_results.c.status.in_(ACTIVE),
            turn_results.c.runner == runner if runner else turn_results.c.runner.is_(None),
        )
        .values(**values)
    ).rowcount
    if written:
        conn.execute(update(messages).where(messages.c.id == message_id).values(content=content))
    return bool(written)


# A stop asked for on another server process than the one running the result: the
# running process reads it with its next checkpoint and stops the call.
CANCEL_REQUESTED = "CANCELLED"


def request_cancel(conn: Connection, turn_id: int, window_ids: list[int] | None) -> list[int]:
    """Ask the process running the turn's active results (of ``window_ids``, or all) to
    stop them. Returns the windows asked."""
    query = select(turn_results.c.id, turn_results.c.window_id).where(
        turn_results.c.turn_id == turn_id, turn_results.c.status.in_(ACTIVE)
    )
    if window_ids is not None:
        query = query.where(turn_results.c.window_id.in_(window_ids))
    rows = conn.execute(query).all()
    if rows:
        conn.execute(
            update(turn_results)
            .where(turn_results.c.id.in_([r.id for r in rows]), turn_results.c.status.in_(ACTIVE))
            .values(error_code=CANCEL_REQUESTED)
        )
    return sorted(r.window_id for r in rows)


def cancel_requests(conn: Connection, result_ids: list[int]) -> list[int]:
    """Which of these active results another process has asked to stop."""
    rows = conn.execute(
        select(turn_results.c.id).where(
            turn_results.c.id.in_(result_ids),
            turn_results.c.status.in_(ACTIVE),
            turn_results.c.error_code == CANCEL_REQUESTED,
        )
    )
    return [row.id for row in rows]


def finish_turn(conn: Connection, turn_id: int) -> None:
    conn.execute(
        update(turns).where(turns.c.id == turn_id).values(status="done", finished_at=utcnow())
    )


# -- reading back --------------------------------------------------------------------------

RESULT_COLUMNS = (
    turn_results.c.id.label("result_id"),
    turn_results.c.turn_id,
    turn_results.c.window_id,
    turn_results.c.model_id,
    turn_results.c.status,
    turn_results.c.error_code,
    turn_results.c.error_message,
    turn_results.c.finish_reason,
    turn_results.c.prompt_tokens,
    turn_results.c.completion_tokens,
    turn_results.c.total_tokens,
    turn_results.c.ttft_ms,
    turn_results.c.latency_ms,
    turn_results.c.decode_ms,
    turn_results.c.cost,
    turn_results.c.created_at,
    turn_results.c.started_at,
    turn_results.c.finished_at,
)


# A result and its reply are the assistant message of the same turn and window.
REPLY_OF_RESULT = and_(
    messages.c.turn_id == turn_results.c.turn_id,
    messages.c.window_id == turn_results.c.window_id,
    messages.c.role == "assistant",
)


def get_turn(conn: Connection, user_id: int, turn_id: int) -> dict[str, Any] | None:
    """A turn of the user's with its results and reply texts (for detail and replay)."""
    row = (
        conn.execute(select(turns).where(turns.c.id == turn_id, turns.c.user_id == user_id))
        .mappings()
        .first()
    )
    if row is None:
        return None
    turn = dict(row)
    results = conn.execute(
        select(*RESULT_COLUMNS, turn_results.c.event_log, messages.c.content.label("reply"))
        .select_from(turn_results.outerjoin(messages, REPLY_OF_RESULT))
        .where(turn_results.c.turn_id == turn_id)
        .order_by(turn_results.c.id)
    ).mappings()
    turn["results"] = [dict(r) for r in results]
    return turn


def history(
    conn: Connection,
    conversation_id: int,
    window_ids: list[int],
    *,
    before: int | None,
    limit: int,
) -> dict[int, list[dict[str, Any]]]:
    """The last ``limit`` messages of each window (before message id ``before``), in
    order, assistant ones with their result's metadata."""
    found: dict[int, list[dict[str, Any]]] = {}
    for window_id in window_ids:
        query = (
            select(
                messages.c.id,
                messages.c.turn_id,
                messages.c.role,
                messages.c.content,
                messages.c.created_at,
                turns.c.replaces_turn_id,
                *[c for c in RESULT_COLUMNS if c.name not in ("turn_id", "window_id")],
            )
            .select_from(
                messages.outerjoin(turn_results, REPLY_OF_RESULT).outerjoin(
                    turns, turns.c.id == messages.c.turn_id
                )
            )
            .where(
                messages.c.conversation_id == conversation_id,
                messages.c.window_id == window_id,
            )
            .order_by(messages.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(messages.c.id < before)
        rows = [dict(r) for r in conn.execute(query).mappings()]
        rows.reverse()
        found[window_id] = rows
    return found


def window_ids_of(conn: Connection, conversation_id: int) -> list[int]:
    rows = conn.execute(
        select(windows.c.id)
        .where(windows.c.conversation_id == conversation_id)
        .order_by(windows.c.sort_order, windows.c.id)
    )
    return [row.id for row in rows]


def count_results(conn: Connection, turn_id: int) -> int:
    return conn.execute(
        select(func.count()).select_from(turn_results).where(turn_results.c.turn_id == turn_id)
    ).scalar_one()
