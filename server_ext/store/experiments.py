"""Queries of experiments: their cases, the turn of each case and sample, the result of
each cell, progress, and the cells read back page by page.

An experiment owns a conversation whose windows are its columns; each (case, sample)
that has run is one turn of it, linked in ``experiment_turns`` (one at most: resuming
never duplicates a cell), with one result per window, ``source = "experiment"``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from . import conversations as conversation_store
from .db import utcnow
from .results import stored_time
from .tables import (
    experiment_cases,
    experiment_turns,
    experiments,
    messages,
    turn_results,
    turns,
)
from .turns import REPLY_OF_RESULT

SOURCE = "experiment"


def insert_experiment(
    conn: Connection,
    *,
    user_id: int,
    name: str,
    kind: str,
    samples: int,
    concurrency: int,
    template: str | None,
    system_prompt: str | None,
    source_conversation_id: int | None,
    window_specs: list[dict[str, Any]],
    cases: list[tuple[str, dict[str, Any]]],
) -> int:
    """The experiment, its conversation and windows, and its cases (prompt, inputs)."""
    now = utcnow()
    conversation_id = conversation_store.insert_conversation(
        conn,
        user_id=user_id,
        title=name,
        system_prompt=system_prompt,
        tags=[],
        metadata={},
        window_specs=window_specs,
    )
    experiment_id = int(
        conn.execute(
            insert(experiments).values(
                user_id=user_id,
                conversation_id=conversation_id,
                name=name,
                kind=kind,
                status="running",
                samples=samples,
                concurrency=concurrency,
                template=template,
                source_conversation_id=source_conversation_id,
                created_at=now,
                started_at=now,
            )
        ).inserted_primary_key[0]
    )
    conn.execute(
        insert(experiment_cases),
        [
            {"experiment_id": experiment_id, "position": i, "prompt": prompt, "inputs": inputs}
            for i, (prompt, inputs) in enumerate(cases)
        ],
    )
    return experiment_id


def get_experiment(conn: Connection, user_id: int, experiment_id: int) -> dict[str, Any] | None:
    """The user's experiment with its windows and case count."""
    row = (
        conn.execute(
            select(experiments).where(
                experiments.c.id == experiment_id, experiments.c.user_id == user_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    found = dict(row)
    conversation = conversation_store.get_conversation(conn, user_id, row["conversation_id"])
    assert conversation is not None
    found["system_prompt"] = conversation["system_prompt"]
    found["windows"] = conversation["windows"]
    found["cases"] = conn.execute(
        select(func.count())
        .select_from(experiment_cases)
        .where(experiment_cases.c.experiment_id == experiment_id)
    ).scalar_one()
    return found


def list_experiments(
    conn: Connection, user_id: int, *, before_id: int | None, limit: int
) -> list[dict[str, Any]]:
    """A page of the user's experiments, newest first, each with its windows."""
    query = select(experiments.c.id).where(experiments.c.user_id == user_id)
    if before_id is not None:
        query = query.where(experiments.c.id < before_id)
    ids = conn.execute(query.order_by(experiments.c.id.desc()).limit(limit)).scalars().all()
    found = [get_experiment(conn, user_id, i) for i in ids]
    return [f for f in found if f is not None]


def set_status(conn: Connection, experiment_id: int, status: str, **values: Any) -> None:
    conn.execute(
        update(experiments)
        .where(experiments.c.id == experiment_id)
        .values(status=status, **values)
    )


def progress(conn: Connection, experiment_id: int) -> dict[str, Any]:
    """Counts of the experiment's results by status, and their token and cost sums."""
    rows = conn.execute(
        select(
            turn_results.c.status,
            func.count(),
            func.sum(turn_results.c.prompt_tokens),
            func.sum(turn_results.c.completion_tokens),
            func.sum(turn_results.c.cost),
            func.count(turn_results.c.cost),
        )
        .where(turn_results.c.experiment_id == experiment_id)
        .group_by(turn_results.c.status)
    ).all()
    found: dict[str, Any] = {
        s: 0 for s in ("queued", "streaming", "succeeded", "failed", "cancelled")
    }
    prompt_tokens = completion_tokens = 0
    cost, costed = 0.0, 0
    for status, n, p_tokens, c_tokens, c_sum, c_count in rows:
        found[status] = int(n)
        prompt_tokens += int(p_tokens or 0)
        completion_tokens += int(c_tokens or 0)
        cost += float(c_sum or 0)
        costed += int(c_count)
    found.update(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost=cost if costed else None,
    )
    return found


# -- running --------------------------------------------------------------------------------


def cases_of(conn: Connection, experiment_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            experiment_cases.c.id,
            experiment_cases.c.position,
            experiment_cases.c.prompt,
        )
        .where(experiment_cases.c.experiment_id == experiment_id)
        .order_by(experiment_cases.c.position)
    ).mappings()
    return [dict(r) for r in rows]


def cells_of(conn: Connection, experiment_id: int) -> dict[tuple[int, int], dict[str, Any]]:
    """Per (case id, sample) that has a turn: the turn id and per window its result's
    (result id, reply message id, status)."""
    rows = conn.execute(
        select(
            experiment_turns.c.case_id,
            experiment_turns.c.sample,
            experiment_turns.c.turn_id,
            turn_results.c.window_id,
            turn_results.c.id,
            messages.c.id,
            turn_results.c.status,
        )
        .join(turn_results, turn_results.c.turn_id == experiment_turns.c.turn_id)
        .join(messages, REPLY_OF_RESULT)
        .where(experiment_turns.c.experiment_id == experiment_id)
    ).all()
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for case_id, sample, turn_id, window_id, result_id, message_id, status in rows:
        cell = found.setdefault((case_id, sample), {"turn_id": turn_id, "windows": {}})
        cell["windows"][window_id] = (result_id, message_id, status)
    return found


def insert_cell(
    conn: Connection,
    *,
    experiment: dict[str, Any],
    case_id: int,
    sample: int,
    prompt: str,
    targets: list[dict[str, Any]],
    runner: str | None,
) -> tuple[int, dict[int, tuple[int, int]]]:
    """A case's sample as a turn of the experiment's conversation: the turn, each
    window's user message, an empty reply and a queued result. Returns the turn id and
    per window (result id, message id)."""
    now = utcnow()
    conversation_id = experiment["conversation_id"]
    turn_id = int(
        conn.execute(
            insert(turns).values(
                conversation_id=conversation_id,
                user_id=experiment["user_id"],
                mode="broadcast",
                input_text=prompt,
                status="running",
                created_at=now,
            )
        ).inserted_primary_key[0]
    )
    conn.execute(
        insert(experiment_turns).values(
            turn_id=turn_id, experiment_id=experiment["id"], case_id=case_id, sample=sample
        )
    )
    ids: dict[int, tuple[int, int]] = {}
    for window in targets:
        base = {"conversation_id": conversation_id, "window_id": window["id"], "turn_id": turn_id}
        conn.execute(insert(messages).values(**base, role="user", content=prompt, created_at=now))
        message_id = conn.execute(
            insert(messages).values(**base, role="assistant", content="", created_at=now)
        ).inserted_primary_key[0]
        result_id = conn.execute(
            insert(turn_results).values(
                turn_id=turn_id,
                window_id=window["id"],
                model_id=window["model_id"],
                user_id=experiment["user_id"],
                status="queued",
                source=SOURCE,
                experiment_id=experiment["id"],
                runner=runner,
                created_at=now,
            )
        ).inserted_primary_key[0]
        ids[window["id"]] = (int(result_id), int(message_id))
    return turn_id, ids


_CLEARED = {
    name: None
    for name in (
        "error_code",
        "error_message",
        "finish_reason",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "ttft_ms",
        "latency_ms",
        "decode_ms",
        "event_log",
        "cost",
        "started_at",
        "finished_at",
    )
}


def reset_cell(
    conn: Connection, turn_id: int, ids: list[tuple[int, int]], runner: str | None
) -> None:
    """Run cells again in their own rows: results queued, replies emptied (resume)."""
    now = utcnow()
    for result_id, message_id in ids:
        conn.execute(
            update(turn_results)
            .where(turn_results.c.id == result_id)
            .values(status="queued", created_at=now, runner=runner, **_CLEARED)
        )
        conn.execute(update(messages).where(messages.c.id == message_id).values(content=""))
    conn.execute(
        update(turns).where(turns.c.id == turn_id).values(status="running", finished_at=None)
    )


def store_cells(
    conn: Connection,
    experiment: dict[str, Any],
    batch: list[tuple[dict[str, Any], int, dict[str, Any] | None, list[dict[str, Any]]]],
    runner: str | None,
) -> list[tuple[int, dict[int, tuple[int, int]]]]:
    """The rows of several cells in one transaction, run by process ``runner``: each
    (case, sample, cell, target windows) is a new turn when the cell never ran (``cell``
    None), else its rows reset. Returns per cell its turn id and per window (result id,
    message id)."""
    stored = []
    for case, sample, cell, targets in batch:
        if cell is None:
            stored.append(
                insert_cell(
                    conn,
                    experiment=experiment,
                    case_id=case["id"],
                    sample=sample,
                    prompt=case["prompt"],
                    targets=targets,
                    runner=runner,
                )
            )
        else:
            ids = {w["id"]: cell["windows"][w["id"]][:2] for w in targets}
            reset_cell(conn, cell["turn_id"], list(ids.values()), runner)
            stored.append((cell["turn_id"], ids))
    return stored


def chain_before(conn: Connection, window_id: int, turn_id: int | None) -> list[dict[str, str]]:
    """A window's context before a turn (replay): its earlier user messages and the
    replies that succeeded, in order."""
    query = (
        select(messages.c.role, messages.c.content)
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
            messages.c.window_id == window_id,
            or_(messages.c.role != "assistant", turn_results.c.status == "succeeded"),
        )
        .order_by(messages.c.id)
    )
    if turn_id is not None:
        query = query.where(messages.c.turn_id < turn_id)
    return [{"role": r.role, "content": r.content} for r in conn.execute(query)]


def source_prompts(conn: Connection, user_id: int, conversation_id: int) -> list[str] | None:
    """The prompts of the user's conversation, turn by turn (None: no such conversation)."""
    if conversation_store.get_conversation(conn, user_id, conversation_id) is None:
        return None
    return list(
        conn.execute(
            select(turns.c.input_text)
            .where(turns.c.conversation_id == conversation_id)
            .order_by(turns.c.id)
        ).scalars()
    )


# -- reading back ---------------------------------------------------------------------------

CELL_COLUMNS = (
    ("result_id", turn_results.c.id),
    ("case_id", experiment_turns.c.case_id),
    ("sample", experiment_turns.c.sample),
    ("window_id", turn_results.c.window_id),
    ("model_id", turn_results.c.model_id),
    ("status", turn_results.c.status),
    ("error_code", turn_results.c.error_code),
    ("error_message", turn_results.c.error_message),
    ("finish_reason", turn_results.c.finish_reason),
    ("prompt_tokens", turn_results.c.prompt_tokens),
    ("completion_tokens", turn_results.c.completion_tokens),
    ("total_tokens", turn_results.c.total_tokens),
    ("ttft_ms", turn_results.c.ttft_ms),
    ("latency_ms", turn_results.c.latency_ms),
    ("decode_ms", turn_results.c.decode_ms),
    ("cost", turn_results.c.cost),
    ("started_at", stored_time(turn_results.c.started_at)),
    ("finished_at", stored_time(turn_results.c.finished_at)),
    ("reply", messages.c.content),
)


def cell_page(
    conn: Connection, experiment_id: int, *, after_id: int, limit: int
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The experiment's results in id order, each with its case, sample and reply."""
    query = (
        select(*(column.label(name) for name, column in CELL_COLUMNS))
        .select_from(
            turn_results.join(
                experiment_turns, experiment_turns.c.turn_id == turn_results.c.turn_id
            ).outerjoin(messages, REPLY_OF_RESULT)
        )
        .where(turn_results.c.experiment_id == experiment_id, turn_results.c.id > after_id)
        .order_by(turn_results.c.id)
        .limit(limit)
    )
    return [name for name, _ in CELL_COLUMNS], conn.execute(query).all()


def case_page(
    conn: Connection, experiment_id: int, *, after: int, limit: int
) -> list[tuple[Any, ...]]:
    """(case_id, position, prompt, inputs) of cases at positions above ``after``."""
    return conn.execute(
        select(
            experiment_cases.c.id,
            experiment_cases.c.position,
            experiment_cases.c.prompt,
            experiment_cases.c.inputs,
        )
        .where(
            experiment_cases.c.experiment_id == experiment_id,
            experiment_cases.c.position > after,
        )
        .order_by(experiment_cases.c.position)
        .limit(limit)
    ).all()
