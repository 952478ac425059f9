"""Queries on conversations and their windows. Every query takes the caller's user id:
another user's conversation is simply not found."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from .db import utcnow
from .tables import conversations, experiments, models, turns, windows

# How much of a conversation's first prompt its list entry shows.
PREVIEW_CHARS = 200

WINDOW_COLUMNS = (
    windows.c.id,
    windows.c.conversation_id,
    windows.c.model_id,
    windows.c.name,
    windows.c.params,
    windows.c.system_prompt,
    windows.c.sort_order,
    windows.c.created_at,
    models.c.name.label("model_name"),
    models.c.default_params.label("model_default_params"),
    models.c.enabled.label("model_enabled"),
    models.c.price_currency.label("model_currency"),
)


def insert_conversation(
    conn: Connection,
    *,
    user_id: int,
    title: str,
    system_prompt: str | None,
    tags: list[str],
    metadata: dict[str, Any],
    window_specs: list[dict[str, Any]],
) -> int:
    now = utcnow()
    conversation_id = conn.execute(
        insert(conversations).values(
            user_id=user_id,
            title=title,
            system_prompt=system_prompt,
            tags=tags,
            metadata=metadata,
            last_message_at=now,
            created_at=now,
            updated_at=now,
        )
    ).inserted_primary_key[0]
    conn.execute(
        insert(windows),
        [
            {**spec, "conversation_id": conversation_id, "sort_order": i, "created_at": now}
            for i, spec in enumerate(window_specs)
        ],
    )
    return int(conversation_id)


# Read on every turn (its plan): built once.
_ONE_CONVERSATION = select(conversations).where(
    conversations.c.id == bindparam("conversation_id"),
    conversations.c.user_id == bindparam("user_id"),
)
_WINDOWS_OF = (
    select(*WINDOW_COLUMNS)
    .join(models, models.c.id == windows.c.model_id)
    .where(windows.c.conversation_id.in_(bindparam("conversation_ids", expanding=True)))
    .order_by(windows.c.conversation_id, windows.c.sort_order, windows.c.id)
)


def get_conversation(
    conn: Connection, user_id: int, conversation_id: int
) -> dict[str, Any] | None:
    row = (
        conn.execute(_ONE_CONVERSATION, {"conversation_id": conversation_id, "user_id": user_id})
        .mappings()
        .first()
    )
    if row is None:
        return None
    found = dict(row)
    found["windows"] = windows_of(conn, [conversation_id])[conversation_id]
    return found


def windows_of(conn: Connection, conversation_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {cid: [] for cid in conversation_ids}
    rows = conn.execute(_WINDOWS_OF, {"conversation_ids": conversation_ids}).mappings()
    for row in rows:
        found[row["conversation_id"]].append(dict(row))
    return found


def first_prompts(conn: Connection, conversation_ids: list[int]) -> dict[int, str]:
    """The start of each conversation's first prompt (none for a conversation without
    turns): the preview of its list entry."""
    first = (
        select(func.min(turns.c.id).label("id"))
        .where(turns.c.conversation_id.in_(conversation_ids))
        .group_by(turns.c.conversation_id)
        .subquery()
    )
    rows = conn.execute(
        select(turns.c.conversation_id, func.substr(turns.c.input_text, 1, PREVIEW_CHARS)).join(
            first, first.c.id == turns.c.id
        )
    )
    return {int(conversation_id): text for conversation_id, text in rows}


def list_conversations(
    conn: Connection,
    user_id: int,
    *,
    archived: str,
    limit: int,
    after: tuple[dt.datetime, int] | None,
    title: str | None = None,
) -> list[dict[str, Any]]:
    """A page of the user's conversations, most recently active first, each with its
    windows and the start of its first prompt. ``archived`` is "no" (hide archived),
    "only" or "all"; ``title``, when given, keeps those whose title holds it (any case).
    ``after`` is the (last_message_at, id) of the last row of the previous page."""
    # An experiment's own conversation holds its windows and cells: it is not listed.
    of_experiment = select(experiments.c.id).where(
        experiments.c.conversation_id == conversations.c.id
    )
    query = select(conversations).where(
        conversations.c.user_id == user_id, ~of_experiment.exists()
    )
    if archived == "no":
        query = query.where(conversations.c.archived_at.is_(None))
    elif archived == "only":
        query = query.where(conversations.c.archived_at.is_not(None))
    if title:
        query = query.where(conversations.c.title.icontains(title, autoescape=True))
    if after is not None:
        at, last_id = after
        query = query.where(
            or_(
                conversations.c.last_message_at < at,
                and_(conversations.c.last_message_at == at, conversations.c.id < last_id),
            )
        )
    query = query.order_by(
        conversations.c.last_message_at.desc(), conversations.c.id.desc()
    ).limit(limit)
    rows = [dict(row) for row in conn.execute(query).mappings()]
    ids = [row["id"] for row in rows]
    by_id = windows_of(conn, ids) if rows else {}
    prompts = first_prompts(conn, ids) if rows else {}
    for row in rows:
        row["windows"] = by_id[row["id"]]
        row["first_prompt"] = prompts.get(row["id"])
    return rows


def of_experiment(conn: Connection, conversation_id: int) -> bool:
    """Whether the conversation is an experiment's own (its windows make the matrix)."""
    found = select(experiments.c.id).where(experiments.c.conversation_id == conversation_id)
    return conn.execute(found).first() is not None


def insert_window(
    conn: Connection, conversation_id: int, spec: dict[str, Any], sort_order: int
) -> int:
    now = utcnow()
    window_id = conn.execute(
        insert(windows).values(
            **spec, conversation_id=conversation_id, sort_order=sort_order, created_at=now
        )
    ).inserted_primary_key[0]
    conn.execute(
        update(conversations).where(conversations.c.id == conversation_id).values(updated_at=now)
    )
    return int(window_id)


def update_conversation(
    conn: Connection, user_id: int, conversation_id: int, changes: dict[str, Any]
) -> bool:
    result = conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id, conversations.c.user_id == user_id)
        .values(**changes, updated_at=utcnow())
    )
    return result.rowcount == 1


def count_conversations(conn: Connection, user_id: int) -> int:
    return conn.execute(
        select(func.count()).select_from(conversations).where(conversations.c.user_id == user_id)
    ).scalar_one()
