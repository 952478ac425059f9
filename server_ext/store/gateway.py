"""Queries of gateway calls: the conversation each lands in, its turn written at start
and finalised once (DESIGN §12). The rows are a board turn's rows (``turns.py`` writes
them), marked ``source = 'gateway'`` and carrying the request as the client sent it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import api_keys as key_store
from . import turns as turn_store
from .conversations import insert_conversation
from .db import utcnow
from .tables import conversations, gateway_threads, models, turn_results, turns, windows


class ConversationMissing(Exception):
    """The conversation the client named is not the caller's."""


def find_enabled_model(conn: Connection, name: str) -> dict[str, Any] | None:
    row = (
        conn.execute(select(models).where(models.c.name == name, models.c.enabled.is_(True)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def _thread_conversation(
    conn: Connection, user_id: int, thread: str, title: str, model: dict[str, Any]
) -> int:
    """The conversation of ``thread`` for this user, made on first use (with a window for
    ``model``). Two processes making it at once: the second finds the first's."""
    query = select(gateway_threads.c.conversation_id).where(
        gateway_threads.c.user_id == user_id, gateway_threads.c.thread == thread
    )
    found = conn.execute(query).scalar_one_or_none()
    if found is not None:
        return int(found)
    try:
        with conn.begin_nested():
            conversation_id = insert_conversation(
                conn,
                user_id=user_id,
                title=title,
                system_prompt=None,
                tags=["gateway"],
                metadata={"gateway": thread},
                window_specs=[_window_spec(model)],
            )
            conn.execute(
                insert(gateway_threads).values(
                    user_id=user_id, thread=thread, conversation_id=conversation_id
                )
            )
            return conversation_id
    except IntegrityError:
        # A locking read sees the other transaction's committed row (a plain read would
        # see this transaction's snapshot on MySQL, from before it).
        return int(conn.execute(query.with_for_update()).scalar_one())


def _window_spec(model: dict[str, Any]) -> dict[str, Any]:
    return {"model_id": model["id"], "name": model["name"], "params": {}, "system_prompt": None}


def _window_for(conn: Connection, conversation_id: int, model: dict[str, Any]) -> dict[str, Any]:
    """The conversation's window of ``model``, added when it has none yet."""
    row = (
        conn.execute(
            select(windows.c.id, windows.c.model_id)
            .where(windows.c.conversation_id == conversation_id, windows.c.model_id == model["id"])
            .order_by(windows.c.id)
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is not None:
        return dict(row)
    count = conn.execute(
        select(func.count())
        .select_from(windows)
        .where(windows.c.conversation_id == conversation_id)
    ).scalar_one()
    window_id = conn.execute(
        insert(windows).values(
            **_window_spec(model),
            conversation_id=conversation_id,
            sort_order=count,
            created_at=utcnow(),
        )
    ).inserted_primary_key[0]
    return {"id": int(window_id), "model_id": model["id"]}


def start_call(
    conn: Connection,
    *,
    user_id: int,
    key_id: int,
    model: dict[str, Any],
    thread: str | None,
    title: str,
    conversation_id: int | None,
    content: str,
    request: dict[str, Any],
    at: dt.datetime,
    runner: str | None,
) -> dict[str, int]:
    """Write a gateway call's rows, its result already streaming: into conversation
    ``conversation_id`` (the caller's, else :class:`ConversationMissing`) or the one of
    ``thread``. Returns conversation_id, window_id, turn_id, result_id, message_id."""
    if conversation_id is not None:
        owner = conn.execute(
            select(conversations.c.user_id).where(conversations.c.id == conversation_id)
        ).scalar_one_or_none()
        if owner != user_id:
            raise ConversationMissing()
    else:
        assert thread is not None
        conversation_id = _thread_conversation(conn, user_id, thread, title, model)
    turn_store.lock_conversation(conn, conversation_id)
    window = _window_for(conn, conversation_id, model)
    turn_id, _at, ids = turn_store.insert_turn(
        conn,
        conversation_id=conversation_id,
        user_id=user_id,
        mode="single",
        content=content,
        targets=[window],
        runner=runner,
        at=at,
    )
    conn.execute(
        update(turns).where(turns.c.id == turn_id).values(api_key_id=key_id, request=request)
    )
    result_id = ids[window["id"]]["result_id"]
    conn.execute(
        update(turn_results)
        .where(turn_results.c.id == result_id)
        .values(source="gateway", status="streaming", started_at=at)
    )
    key_store.touch_key(conn, key_id, at)
    return {
        "conversation_id": conversation_id,
        "window_id": window["id"],
        "turn_id": turn_id,
        **ids[window["id"]],
    }


def finish_call(
    conn: Connection,
    *,
    turn_id: int,
    result_id: int,
    message_id: int,
    runner: str | None,
    content: str,
    values: dict[str, Any],
) -> None:
    """A gateway call's outcome, written once: its result, its reply, its turn done."""
    turn_store.finalize_result(
        conn,
        result_id=result_id,
        message_id=message_id,
        runner=runner,
        content=content,
        values=values,
    )
    turn_store.finish_turn(conn, turn_id)
