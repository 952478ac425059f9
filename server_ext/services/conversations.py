"""Conversations, their windows, and the turns sent to them (DESIGN §5).

A conversation holds 1 to :data:`MAX_WINDOWS` windows, each a model with its own params
and system prompt (the same model may appear twice). Its first turn goes to every
window; later turns go to every window unless the caller names a subset (a fork). Each
window's upstream request is its own chain. A turn may replace the last turn of its
windows (``replaces_turn_id``: a retry, an edited prompt): the old turn stays stored and
shown, but leaves those windows' chains, so no model sees the exchange it replaced.
Every call is scoped to the caller: another user's conversation or turn is "not found".
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from ..errors import ChatMoreError, validation
from ..jsonutil import iso
from ..metrics import TURNS
from ..store import conversations as conversation_store
from ..store import turns as turn_store
from ..store.db import Database, utcnow
from ..store.tables import CLIENT_SOURCES
from ..streaming.events import tokens_per_second
from .auth import AuthUser
from .fanout import FanOut, WindowRun
from .params import clean_params, differing, merged
from .quotas import QuotaService
from .rate_limits import RateLimiter
from .turn_watch import follow_stored
from .validation import MAX_DB_ID, db_id, parse_json

log = logging.getLogger("chatmore.turns")

MAX_WINDOWS = 16
MAX_TITLE_CHARS = 300
MAX_PROMPT_CHARS = 100_000
MAX_SYSTEM_PROMPT_CHARS = 100_000
MAX_TAGS = 20


# -- shaping ---------------------------------------------------------------------------------


def public_window(row: dict[str, Any]) -> dict[str, Any]:
    defaults = row["model_default_params"] or {}
    params = row["params"] or {}
    return {
        "id": row["id"],
        "name": row["name"] or row["model_name"],
        "model_id": row["model_id"],
        "model_name": row["model_name"],
        "params": params,
        "effective_params": merged(defaults, params),
        "params_diff": differing(defaults, params),
        "system_prompt": row["system_prompt"],
        "sort_order": row["sort_order"],
    }


def public_conversation(row: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "id",
        "title",
        "tags",
        "metadata",
        "system_prompt",
        "archived_at",
        "last_message_at",
        "created_at",
        "updated_at",
    )
    shown = {key: row[key] for key in keys}
    shown["windows"] = [public_window(w) for w in row["windows"]]
    if "first_prompt" in row:  # list entries: the start of the first prompt, a preview
        shown["first_prompt"] = row["first_prompt"]
    return shown


def public_result(row: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "status",
        "error_code",
        "error_message",
        "finish_reason",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "ttft_ms",
        "latency_ms",
        "decode_ms",
        "cost",
        "started_at",
        "finished_at",
    )
    shown = {key: row.get(key) for key in keys}
    shown["tokens_per_second"] = tokens_per_second(
        row.get("completion_tokens"), row.get("decode_ms")
    )
    return shown


def encode_cursor(at: dt.datetime, row_id: int) -> str:
    raw = json.dumps([iso(at), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """The (time, id) a cursor of :func:`encode_cursor` holds; anything else, however it
    decodes, is VALIDATION_FAILED."""
    refused = validation("cursor is not one this server gave out", field="cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
        decoded = parse_json(raw, "cursor")
    except (ValueError, ChatMoreError):
        raise refused from None
    match decoded:
        case [str(at), int(row_id)] if not isinstance(row_id, bool) and 0 < row_id <= MAX_DB_ID:
            try:
                when = dt.datetime.fromisoformat(at.removesuffix("Z"))
            except ValueError:
                raise refused from None
            if when.tzinfo is None:  # the server writes naive UTC times only
                return when, row_id
    raise refused


# -- validation ------------------------------------------------------------------------------


def _text(value: object, name: str, limit: int, *, required: bool = False) -> str | None:
    if value is None or (value == "" and not required):
        if required:
            raise validation(f"{name} is required", field=name)
        return None
    if not isinstance(value, str):
        raise validation(f"{name} must be text", field=name)
    if required and not value.strip():
        raise validation(f"{name} must not be empty", field=name)
    if len(value) > limit:
        raise validation(f"{name} is too long: at most {limit} characters", field=name)
    return value


def _tags(value: object) -> list[str]:
    if value is None:
        return []
    if (
        not isinstance(value, list)
        or len(value) > MAX_TAGS
        or not all(isinstance(t, str) and 0 < len(t) <= 50 for t in value)
    ):
        raise validation(f"tags must be a list of at most {MAX_TAGS} short strings")
    return list(dict.fromkeys(value))


def _metadata(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(json.dumps(value)) > 16_384:
        raise validation("metadata must be a JSON object of at most 16 KB")
    return value


def _window_ids(value: object) -> list[int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise validation("window_ids must be a non-empty list of window ids", field="window_ids")
    return list(dict.fromkeys(db_id(v, "window_ids") for v in value))


def _window_spec(spec: object, where: str) -> dict[str, Any]:
    """A window as the client gave it (``where`` names it in errors), checked."""
    if not isinstance(spec, dict):
        raise validation(f"{where} must be an object")
    return {
        "model_id": db_id(spec.get("model_id"), f"{where}.model_id"),
        "name": _text(spec.get("name"), f"{where}.name", 200) or "",
        "params": clean_params(spec.get("params"), f"{where}.params"),
        "system_prompt": _text(
            spec.get("system_prompt"), f"{where}.system_prompt", MAX_SYSTEM_PROMPT_CHARS
        ),
    }


def _refuse_models_off(conn: Any, specs: list[dict[str, Any]]) -> None:
    found = turn_store.models_by_id(conn, [w["model_id"] for w in specs])
    for spec in specs:
        model = found.get(spec["model_id"])
        if model is None or not model["enabled"]:
            raise ChatMoreError(
                "MODEL_NOT_FOUND", f"model {spec['model_id']} does not exist or is off"
            )


@dataclass(frozen=True)
class TurnPlan:
    """A valid turn, before it is stored: where it goes and what each window sends."""

    conversation: dict[str, Any]
    windows: dict[int, dict[str, Any]]
    models: dict[int, dict[str, Any]]
    targets: list[int]
    mode: str
    chains: dict[int, list[dict[str, str]]]
    replaces: int | None = None


def _check_replaces(conn: Any, conversation_id: int, replaces: int, targets: list[int]) -> None:
    """A turn may replace turn ``replaces`` (a retry, an edited prompt) in the target
    windows that took part in it, where it must still be the newest turn: a replaced
    exchange leaves the window's chain, and only the last one can go without a gap."""
    took = turn_store.turn_windows(conn, conversation_id, replaces)
    if took is None:
        raise validation(
            f"turn {replaces} is not a turn of this conversation", field="replaces_turn_id"
        )
    shared = [w for w in targets if w in took]
    if not shared:
        raise validation(
            f"turn {replaces} has no reply in windows {targets}", field="replaces_turn_id"
        )
    latest = turn_store.latest_turns(conn, shared)
    newer = sorted(w for w in shared if latest.get(w) != replaces)
    if newer:
        raise validation(
            f"turn {replaces} is not the last turn of windows {newer}",
            field="replaces_turn_id",
            window_ids=newer,
        )


def _plan_turn(
    conn: Any,
    user_id: int,
    conversation_id: int,
    asked: list[int] | None,
    replaces: int | None = None,
) -> TurnPlan:
    """Validate a turn against the database (read only) and gather each window's chain."""
    conversation = conversation_store.get_conversation(conn, user_id, conversation_id)
    if conversation is None:
        raise ChatMoreError("CONVERSATION_NOT_FOUND")
    windows = {w["id"]: w for w in conversation["windows"]}
    if asked is None or not turn_store.has_turns(conn, conversation_id):
        targets = list(windows)  # the first turn always goes to every window
    else:
        strangers = [w for w in asked if w not in windows]
        if strangers:
            raise validation(
                f"window_ids {strangers} are not windows of this conversation",
                field="window_ids",
            )
        targets = asked
    _refuse_busy(conn, targets)
    if replaces is not None:
        _check_replaces(conn, conversation_id, replaces, targets)
    models = turn_store.models_by_id(conn, [windows[w]["model_id"] for w in targets])
    off = [w for w in targets if not models[windows[w]["model_id"]]["enabled"]]
    if off:
        raise ChatMoreError(
            "MODEL_NOT_FOUND", f"the model of windows {off} is disabled", window_ids=off
        )
    mode = "broadcast" if len(targets) == len(windows) else "single"
    chains = turn_store.chains(conn, targets, dropping=replaces)
    return TurnPlan(conversation, windows, models, targets, mode, chains, replaces)


def _refuse_busy(conn: Any, window_ids: list[int]) -> None:
    busy = sorted(turn_store.busy_windows(conn, window_ids))
    if busy:
        raise ChatMoreError("WINDOW_BUSY", f"windows {busy} are still answering", window_ids=busy)


def _store_turn(
    conn: Any,
    plan: TurnPlan,
    user_id: int,
    content: str,
    at: dt.datetime,
    runner: str | None,
    limits: RateLimiter | None = None,
    source: str = "board",
) -> tuple[int, dict[int, tuple[int, int]]]:
    """Write the turn's rows, run by process ``runner``; a window taken meanwhile by
    another turn (of any process: the check reads the database), or a rate limit,
    refuses it."""
    if limits is not None:
        limits.admit(conn, user_id=user_id, key_id=None, streams=len(plan.targets), at=at)
    turn_store.lock_conversation(conn, plan.conversation["id"])
    _refuse_busy(conn, plan.targets)
    if plan.replaces is not None:  # a concurrent turn may have come after it meanwhile
        _check_replaces(conn, plan.conversation["id"], plan.replaces, plan.targets)
    turn_id, _at, ids = turn_store.insert_turn(
        conn,
        conversation_id=plan.conversation["id"],
        user_id=user_id,
        mode=plan.mode,
        content=content,
        targets=[plan.windows[w] for w in plan.targets],
        runner=runner,
        at=at,
        source=source,
        replaces_turn_id=plan.replaces,
    )
    return turn_id, {w: (i["result_id"], i["message_id"]) for w, i in ids.items()}


def _window_run(plan: TurnPlan, window_id: int, content: str) -> WindowRun:
    """One window's call: its chain, its system prompt, its params over the model's."""
    window = plan.windows[window_id]
    model = plan.models[window["model_id"]]
    system = window["system_prompt"] or plan.conversation["system_prompt"]
    upstream = ([{"role": "system", "content": system}] if system else []) + [
        *plan.chains[window_id],
        {"role": "user", "content": content},
    ]
    return WindowRun(
        window_id=window_id,
        model_id=model["id"],
        model=model,
        params=merged(model["default_params"] or {}, window["params"] or {}),
        messages=upstream,
    )


class ConversationService:
    def __init__(
        self,
        db: Database,
        fanout: FanOut,
        *,
        log_content: bool = False,
        limits: RateLimiter | None = None,
        quotas: QuotaService | None = None,
    ) -> None:
        self.db = db
        self.fanout = fanout
        self.limits = limits
        self.quotas = quotas  # services/quotas.py: a monthly budget may refuse a turn
        # Prompts reach the log only when an admin turns this debug setting on.
        self.log_content = log_content

    # -- conversations ------------------------------------------------------------------

    async def create(self, user: AuthUser, body: dict[str, Any]) -> dict[str, Any]:
        title = _text(body.get("title"), "title", MAX_TITLE_CHARS) or ""
        system_prompt = _text(body.get("system_prompt"), "system_prompt", MAX_SYSTEM_PROMPT_CHARS)
        specs = body.get("windows")
        if not isinstance(specs, list) or not 1 <= len(specs) <= MAX_WINDOWS:
            raise validation(f"windows must list 1 to {MAX_WINDOWS} windows", field="windows")
        windows = [_window_spec(spec, f"windows[{i}]") for i, spec in enumerate(specs)]
        tags, metadata = _tags(body.get("tags")), _metadata(body.get("metadata"))

        def store(conn: Any) -> dict[str, Any]:
            _refuse_models_off(conn, windows)
            conversation_id = conversation_store.insert_conversation(
                conn,
                user_id=user.id,
                title=title,
                system_prompt=system_prompt,
                tags=tags,
                metadata=metadata,
                window_specs=windows,
            )
            row = conversation_store.get_conversation(conn, user.id, conversation_id)
            assert row is not None
            return row

        return public_conversation(await self.db.write(store))

    async def get(self, user: AuthUser, conversation_id: int) -> dict[str, Any]:
        row = await self.db.read(conversation_store.get_conversation, user.id, conversation_id)
        if row is None:
            raise ChatMoreError("CONVERSATION_NOT_FOUND")
        return public_conversation(row)

    async def list(
        self,
        user: AuthUser,
        *,
        archived: str,
        limit: int,
        cursor: str | None,
        q: str | None = None,
    ) -> dict[str, Any]:
        if archived not in ("no", "only", "all"):
            raise validation("archived must be no, only or all", field="archived")
        title = _text(q, "q", MAX_TITLE_CHARS)
        after = decode_cursor(cursor) if cursor else None
        rows = await self.db.read(
            conversation_store.list_conversations,
            user.id,
            archived=archived,
            limit=limit + 1,
            after=after,
            title=title.strip() if title else None,
        )
        page, more = rows[:limit], len(rows) > limit
        last = page[-1] if page else None
        return {
            "conversations": [public_conversation(row) for row in page],
            "next_cursor": encode_cursor(last["last_message_at"], last["id"])
            if more and last
            else None,
        }

    async def update(
        self, user: AuthUser, conversation_id: int, body: dict[str, Any]
    ) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if "title" in body:
            changes["title"] = _text(body["title"], "title", MAX_TITLE_CHARS) or ""
        if "tags" in body:
            changes["tags"] = _tags(body["tags"])
        if "metadata" in body:
            changes["metadata"] = _metadata(body["metadata"])
        if "archived" in body:
            if not isinstance(body["archived"], bool):
                raise validation("archived must be true or false", field="archived")
            changes["archived_at"] = utcnow() if body["archived"] else None
        unknown = sorted(set(body) - {"title", "tags", "metadata", "archived"})
        if unknown or not changes:
            raise validation("give title, tags, metadata or archived", fields=unknown)
        if not await self.db.write(
            conversation_store.update_conversation, user.id, conversation_id, changes
        ):
            raise ChatMoreError("CONVERSATION_NOT_FOUND")
        return await self.get(user, conversation_id)

    async def add_window(
        self, user: AuthUser, conversation_id: int, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A new column at the end: its chain starts empty, so it joins from the next
        turn (which goes to every window unless the client names a subset)."""
        spec = _window_spec(body, "window")

        def store(conn: Any) -> dict[str, Any]:
            turn_store.lock_conversation(conn, conversation_id)  # two additions count each other
            conversation = conversation_store.get_conversation(conn, user.id, conversation_id)
            if conversation is None:
                raise ChatMoreError("CONVERSATION_NOT_FOUND")
            if conversation_store.of_experiment(conn, conversation_id):
                raise validation("an experiment's conversation takes no new windows")
            present = conversation["windows"]
            if len(present) >= MAX_WINDOWS:
                raise validation(f"a conversation has at most {MAX_WINDOWS} windows")
            _refuse_models_off(conn, [spec])
            last = max((w["sort_order"] for w in present), default=-1)
            conversation_store.insert_window(conn, conversation_id, spec, last + 1)
            row = conversation_store.get_conversation(conn, user.id, conversation_id)
            assert row is not None
            return row

        return public_conversation(await self.db.write(store))

    # -- turns --------------------------------------------------------------------------

    async def send(
        self, user: AuthUser, conversation_id: int, body: dict[str, Any], *, source: str = "board"
    ) -> dict:
        """Start a turn and store it, its results marked as coming from ``source``
        (DESIGN §11). Nothing is stored when the request is refused.

        The upstream calls start as soon as the turn is known to be valid, while its rows
        are written: the write then costs the first token nothing. Should the write fail
        (a window taken by a concurrent turn, the database gone), the calls are dropped
        before anything of theirs is shown or stored."""
        sent_at = utcnow()  # the turn's time: before any of its calls starts
        content = _text(body.get("content"), "content", MAX_PROMPT_CHARS, required=True)
        assert content is not None
        asked = _window_ids(body.get("window_ids"))
        replaces = body.get("replaces_turn_id")
        if replaces is not None:
            replaces = db_id(replaces, "replaces_turn_id")
        if body.get("source") is not None:
            if body["source"] not in CLIENT_SOURCES:
                raise validation("source must be one of: " + ", ".join(CLIENT_SOURCES))
            source = body["source"]
        if self.quotas is not None:  # a used-up monthly budget refuses it (services/quotas.py)
            await self.quotas.check(user)
        plan = await self.db.read(_plan_turn, user.id, conversation_id, asked, replaces)
        runs = [_window_run(plan, window_id, content) for window_id in plan.targets]
        # Near a rate limit, no call starts before the turn is admitted.
        early = self.limits is None or self.limits.roomy(user.id, None)
        if early:
            self.fanout.begin(runs)
        try:
            turn_id, ids = await self.db.write(
                _store_turn,
                plan,
                user.id,
                content,
                sent_at,
                self.fanout.runner,
                self.limits,
                source,
            )
        except BaseException:
            if early:
                self.fanout.abandon(runs)
            raise
        if not early:
            self.fanout.begin(runs)
        for run in runs:
            run.turn_id = turn_id
            run.result_id, run.message_id = ids[run.window_id]
        self.fanout.launch(turn_id, runs)
        TURNS.labels(plan.mode).inc()
        log.info(
            "turn started turn=%s conversation=%s user=%s mode=%s windows=%s%s",
            turn_id,
            conversation_id,
            user.id,
            plan.mode,
            ",".join(str(w) for w in plan.targets),
            f" prompt={content!r}" if self.log_content else "",
        )
        return {
            "turn_id": turn_id,
            "conversation_id": conversation_id,
            "window_ids": plan.targets,
            "mode": plan.mode,
            "replaces_turn_id": plan.replaces,
            "status": "running",
        }

    async def cancel(self, user: AuthUser, turn_id: int, body: dict[str, Any]) -> dict:
        window_ids = _window_ids(body.get("window_ids"))
        if await self.db.read(turn_store.turn_owner, turn_id) != user.id:
            raise ChatMoreError("TURN_NOT_FOUND")
        cancelled = self.fanout.cancel(turn_id, window_ids)
        if turn_id not in self.fanout.running:
            # Another server process runs it (or nothing does any more): ask through the
            # database; that process stops the calls within about a second.
            cancelled = await self.db.write(turn_store.request_cancel, turn_id, window_ids)
        return {"turn_id": turn_id, "cancelled_window_ids": cancelled}

    async def turn(self, user: AuthUser, turn_id: int) -> dict[str, Any]:
        turn = await self.db.read(turn_store.get_turn, user.id, turn_id)
        if turn is None:
            raise ChatMoreError("TURN_NOT_FOUND")
        return {
            "id": turn["id"],
            "conversation_id": turn["conversation_id"],
            "mode": turn["mode"],
            "content": turn["input_text"],
            "replaces_turn_id": turn["replaces_turn_id"],
            "status": turn["status"],
            "created_at": turn["created_at"],
            "finished_at": turn["finished_at"],
            # A gateway call's request as its client sent it (None for board turns).
            "request": turn.get("request"),
            "results": [
                {
                    "window_id": r["window_id"],
                    "model_id": r["model_id"],
                    "reply": r["reply"],
                    **public_result(r),
                }
                for r in turn["results"]
            ],
        }

    async def history(
        self,
        user: AuthUser,
        conversation_id: int,
        *,
        window_id: int | None,
        before: int | None,
        limit: int,
    ) -> dict[str, Any]:
        def read(conn: Any) -> dict[int, list[dict[str, Any]]] | None:
            conversation = conversation_store.get_conversation(conn, user.id, conversation_id)
            if conversation is None:
                return None
            ids = [w["id"] for w in conversation["windows"]]
            if window_id is not None:
                if window_id not in ids:
                    raise validation("window_id is not a window of this conversation")
                ids = [window_id]
            return turn_store.history(conn, conversation_id, ids, before=before, limit=limit + 1)

        found = await self.db.read(read)
        if found is None:
            raise ChatMoreError("CONVERSATION_NOT_FOUND")
        windows = []
        for wid, rows in found.items():
            more = len(rows) > limit
            rows = rows[1:] if more else rows
            windows.append(
                {
                    "window_id": wid,
                    "messages": [_message(row) for row in rows],
                    "next_before": rows[0]["id"] if more and rows else None,
                }
            )
        return {"conversation_id": conversation_id, "windows": windows}

    # -- events -------------------------------------------------------------------------

    async def events(self, turn_id: int, user_id: int, after: int, heartbeat: float):
        """The turn's events after id ``after``: live from its log while this process
        runs it (or has just finished it); else from the database — the stored events,
        then, while another process runs the turn, the new ones from its checkpoints
        until it ends (DESIGN §8). ``None`` marks a keep-alive."""
        log = self.fanout.logs.get(turn_id)
        if log is not None:
            async for event in log.follow(after, heartbeat):
                yield event
            return
        async for event in follow_stored(self.db, turn_id, user_id, after, heartbeat):
            yield event


def _message(row: dict[str, Any]) -> dict[str, Any]:
    shown = {
        "id": row["id"],
        "turn_id": row["turn_id"],
        "role": row["role"],
        "content": row["content"],
        "created_at": row["created_at"],
    }
    if row["role"] == "user":
        shown["replaces_turn_id"] = row["replaces_turn_id"]
    if row["role"] == "assistant":
        shown["result"] = public_result(row)
    return shown
