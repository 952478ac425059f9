"""A conversation exported as Markdown or JSON, and imported back from that JSON.

``GET chatmore/api/conversations/{id}/export?format=md|json``, ``POST
chatmore/api/conversations/import``.

The JSON (``"format": "chatmore.conversation"``, ``"version": 1``) holds everything needed
to rebuild the conversation, and nothing of the server or the people on it: no ids, no
emails, no model addresses or keys. Windows name their model by its name; a result names
its window by position in ``windows``::

    {"format": "chatmore.conversation", "version": 1, "exported_at": "…Z",
     "conversation": {"title", "tags", "metadata", "system_prompt", "created_at"},
     "windows": [{"name", "model", "params", "system_prompt"}],
     "turns": [{"mode", "content", "created_at", "finished_at", "replaces"?,
                "results": [{"window": 0, "status", "reply", "error_code",
                             "error_message", "finish_reason", "prompt_tokens",
                             "completion_tokens", "total_tokens", "ttft_ms",
                             "latency_ms", "decode_ms", "started_at", "finished_at"}]}]}

A retried or edited prompt names the turn it replaced by position in ``turns``
(``"replaces": 1``; absent otherwise), so that an imported conversation leaves the same
turns out of its windows' context.

An import creates a new conversation owned by the caller, with its turns as they were
(each result's ``source`` is ``import``, so that statistics can tell them from calls made
here). Models are matched by name; a model this server does not have is reported
(MODEL_NOT_FOUND, ``details.missing_models``), never created. Anything malformed is
VALIDATION_FAILED; either way nothing is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import ChatMoreError, validation
from ..jsonutil import iso
from ..store import conversations as conversation_store
from ..store import transfer as transfer_store
from ..store.db import Database, utcnow
from .auth import AuthUser
from .conversations import (
    MAX_PROMPT_CHARS,
    MAX_SYSTEM_PROMPT_CHARS,
    MAX_WINDOWS,
    _metadata,
    _tags,
    _text,
    public_conversation,
)
from .params import clean_params, merged

FORMAT = "chatmore.conversation"
VERSION = 1
MAX_TURNS = 5_000
MAX_REPLY_CHARS = 1_000_000
IMPORT_SOURCE = "import"
STATUSES = ("succeeded", "failed", "cancelled")
COUNTS = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "ttft_ms",
    "latency_ms",
    "decode_ms",
)
TEXTS = {"error_code": 64, "error_message": 500, "finish_reason": 32}


# -- export ----------------------------------------------------------------------------------


def _replaced(turn: dict[str, Any], place: dict[int, int]) -> dict[str, int]:
    """``{"replaces": n}`` for a turn that replaced the ``n``-th, else nothing."""
    replaced = turn.get("replaces_turn_id")
    return {"replaces": place[replaced]} if replaced in place else {}


def export_document(conversation: dict[str, Any], history: list[dict[str, Any]]) -> dict:
    position = {w["id"]: i for i, w in enumerate(conversation["windows"])}
    place = {turn["id"]: i for i, turn in enumerate(history)}
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": iso(utcnow()),
        "conversation": {
            "title": conversation["title"],
            "tags": conversation["tags"],
            "metadata": conversation["metadata"],
            "system_prompt": conversation["system_prompt"],
            "created_at": iso(conversation["created_at"]),
        },
        "windows": [
            {
                "name": w["name"],
                "model": w["model_name"],
                "params": w["params"] or {},
                "system_prompt": w["system_prompt"],
            }
            for w in conversation["windows"]
        ],
        "turns": [
            {
                "mode": turn["mode"],
                "content": turn["input_text"],
                "created_at": iso(turn["created_at"]),
                "finished_at": iso(turn["finished_at"]),
                **_replaced(turn, place),
                "results": [
                    {
                        "window": position[r["window_id"]],
                        "status": r["status"],
                        "reply": r["reply"] or "",
                        **{name: r[name] for name in (*TEXTS, *COUNTS)},
                        "started_at": iso(r["started_at"]),
                        "finished_at": iso(r["finished_at"]),
                    }
                    for r in turn["results"]
                ],
            }
            for turn in history
        ],
    }


def _number(value: Any, unit: str) -> str:
    return "–" if value is None else f"{value:,} {unit}".strip()


def markdown(conversation: dict[str, Any], history: list[dict[str, Any]]) -> str:
    """A section per turn: the prompt, then each window's reply with its model, params,
    timings, tokens and status."""
    windows = {w["id"]: w for w in conversation["windows"]}
    lines = [f"# {conversation['title'] or 'Untitled conversation'}", ""]
    lines.append(f"Exported from ChatMore on {iso(utcnow())}.")
    if conversation["tags"]:
        lines.append(f"Tags: {', '.join(conversation['tags'])}.")
    if conversation["system_prompt"]:
        lines += ["", "System prompt:", "", *_quote(conversation["system_prompt"])]
    lines += ["", "| window | model | params |", "| --- | --- | --- |"]
    for w in conversation["windows"]:
        params = merged(w["model_default_params"] or {}, w["params"] or {})
        shown = ", ".join(f"{k}={v}" for k, v in sorted(params.items())) or "defaults"
        lines.append(
            f"| {_cell(w['name'] or w['model_name'])} | {_cell(w['model_name'])} | "
            f"{_cell(shown)} |"
        )
    place = {turn["id"]: i for i, turn in enumerate(history)}
    for n, turn in enumerate(history, 1):
        replaced = _replaced(turn, place)
        note = f" (in place of turn {replaced['replaces'] + 1})" if replaced else ""
        heading = f"## Turn {n} — {iso(turn['created_at'])}{note}"
        lines += ["", heading, "", *_quote(turn["input_text"])]
        for r in turn["results"]:
            w = windows[r["window_id"]]
            lines += ["", f"### {w['name'] or w['model_name']} ({w['model_name']})", ""]
            facts = [
                f"status: {r['status']}" + (f" ({r['error_code']})" if r["error_code"] else ""),
                f"latency: {_number(r['latency_ms'], 'ms')}",
                f"first token: {_number(r['ttft_ms'], 'ms')}",
                f"tokens: {_number(r['prompt_tokens'], 'in')} / "
                f"{_number(r['completion_tokens'], 'out')}",
            ]
            if w["params"]:
                facts.append(
                    "params: " + ", ".join(f"{k}={v}" for k, v in sorted(w["params"].items()))
                )
            lines += [f"*{' · '.join(facts)}*", ""]
            if r["error_message"] and r["status"] != "succeeded":
                lines += [f"> {r['error_message']}", ""]
            lines.append(r["reply"] or "*(no reply)*")
    return "\n".join(lines).rstrip() + "\n"


def _quote(text: str) -> list[str]:
    return [f"> {line}".rstrip() for line in text.splitlines() or [""]]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- import ----------------------------------------------------------------------------------


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise validation(f"{where} must be an object", field=where)
    return value


def _time(value: Any, where: str, *, required: bool = False) -> dt.datetime | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise validation(f"{where} must be an ISO 8601 time", field=where)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise validation(f"{where} must be an ISO 8601 time", field=where) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    if not dt.datetime(1970, 1, 1) <= parsed <= dt.datetime(9999, 1, 1):
        raise validation(f"{where} is out of range", field=where)
    return parsed


def _count(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise validation(f"{where} must be a whole number from 0", field=where)
    return value


def _earlier_turn(value: Any, where: str, before: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < before:
        raise validation(f"{where} must be the position of an earlier turn", field=where)
    return value


def _result(value: Any, where: str, windows: int) -> dict[str, Any]:
    result = _object(value, where)
    window = result.get("window")
    if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window < windows:
        raise validation(f"{where}.window must be the position of a window", field=where)
    status = result.get("status")
    if status not in STATUSES:
        raise validation(f"{where}.status must be one of {', '.join(STATUSES)}", field=where)
    outcome: dict[str, Any] = {"status": status}
    for name, limit in TEXTS.items():
        outcome[name] = _text(result.get(name), f"{where}.{name}", limit)
    for name in COUNTS:
        outcome[name] = _count(result.get(name), f"{where}.{name}")
    outcome["started_at"] = _time(result.get("started_at"), f"{where}.started_at")
    outcome["finished_at"] = _time(result.get("finished_at"), f"{where}.finished_at")
    reply = result.get("reply", "")
    if not isinstance(reply, str) or len(reply) > MAX_REPLY_CHARS:
        raise validation(f"{where}.reply must be text of at most {MAX_REPLY_CHARS} characters")
    return {"window": window, "reply": reply, "outcome": outcome}


def parse_document(document: Any) -> dict[str, Any]:
    """A checked import document, or VALIDATION_FAILED naming the first fault."""
    doc = _object(document, "document")
    if doc.get("format") != FORMAT:
        raise validation(f"format must be {FORMAT!r}", field="format")
    if doc.get("version") != VERSION:
        raise validation(
            f"version {doc.get('version')!r} is not one this server reads", field="version"
        )
    head = _object(doc.get("conversation"), "conversation")
    specs = doc.get("windows")
    if not isinstance(specs, list) or not 1 <= len(specs) <= MAX_WINDOWS:
        raise validation(f"windows must list 1 to {MAX_WINDOWS} windows", field="windows")
    windows = []
    for i, spec in enumerate(specs):
        spec = _object(spec, f"windows[{i}]")
        model = _text(spec.get("model"), f"windows[{i}].model", 200, required=True)
        windows.append(
            {
                "model": model,
                "name": _text(spec.get("name"), f"windows[{i}].name", 200) or "",
                "params": clean_params(spec.get("params"), f"windows[{i}].params"),
                "system_prompt": _text(
                    spec.get("system_prompt"),
                    f"windows[{i}].system_prompt",
                    MAX_SYSTEM_PROMPT_CHARS,
                ),
            }
        )
    raw_turns = doc.get("turns", [])
    if not isinstance(raw_turns, list) or len(raw_turns) > MAX_TURNS:
        raise validation(f"turns must be a list of at most {MAX_TURNS} turns", field="turns")
    history = []
    for i, raw in enumerate(raw_turns):
        turn = _object(raw, f"turns[{i}]")
        mode = turn.get("mode")
        if mode not in ("broadcast", "single"):
            raise validation(f"turns[{i}].mode must be broadcast or single", field="mode")
        results = turn.get("results")
        if not isinstance(results, list) or not 1 <= len(results) <= len(windows):
            raise validation(f"turns[{i}].results must list 1 to {len(windows)} results")
        checked = [
            _result(r, f"turns[{i}].results[{j}]", len(windows)) for j, r in enumerate(results)
        ]
        if len({r["window"] for r in checked}) != len(checked):
            raise validation(f"turns[{i}] has two results for one window")
        history.append(
            {
                "mode": mode,
                "content": _text(
                    turn.get("content"), f"turns[{i}].content", MAX_PROMPT_CHARS, required=True
                ),
                "created_at": _time(
                    turn.get("created_at"), f"turns[{i}].created_at", required=True
                ),
                "finished_at": _time(turn.get("finished_at"), f"turns[{i}].finished_at"),
                "replaces": _earlier_turn(turn.get("replaces"), f"turns[{i}].replaces", i),
                "results": checked,
            }
        )
    return {
        "title": _text(head.get("title"), "conversation.title", 300) or "",
        "tags": _tags(head.get("tags")),
        "metadata": _metadata(head.get("metadata")),
        "system_prompt": _text(
            head.get("system_prompt"), "conversation.system_prompt", MAX_SYSTEM_PROMPT_CHARS
        ),
        "windows": windows,
        "history": history,
    }


class TransferService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def export(self, user: AuthUser, conversation_id: int, format: str) -> Any:
        """The conversation as a JSON document (a dict) or Markdown (a str)."""
        if format not in ("md", "json"):
            raise validation("format must be md or json", field="format")

        def read(conn: Any) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
            conversation = conversation_store.get_conversation(conn, user.id, conversation_id)
            if conversation is None:
                return None
            return conversation, transfer_store.conversation_turns(conn, conversation_id)

        found = await self.db.read(read)
        if found is None:
            raise ChatMoreError("CONVERSATION_NOT_FOUND")
        return export_document(*found) if format == "json" else markdown(*found)

    async def import_conversation(self, user: AuthUser, document: Any) -> dict[str, Any]:
        parsed = parse_document(document)

        def store(conn: Any) -> dict[str, Any]:
            names = sorted({w["model"] for w in parsed["windows"]})
            known = transfer_store.model_ids_by_name(conn, names)
            missing = [name for name in names if name not in known]
            if missing:
                raise ChatMoreError(
                    "MODEL_NOT_FOUND",
                    f"this server has no model named {', '.join(missing)}",
                    missing_models=missing,
                )
            conversation_id = conversation_store.insert_conversation(
                conn,
                user_id=user.id,
                title=parsed["title"],
                system_prompt=parsed["system_prompt"],
                tags=parsed["tags"],
                metadata=parsed["metadata"],
                window_specs=[
                    {
                        "model_id": known[w["model"]],
                        "name": w["name"],
                        "params": w["params"],
                        "system_prompt": w["system_prompt"],
                    }
                    for w in parsed["windows"]
                ],
            )
            row = conversation_store.get_conversation(conn, user.id, conversation_id)
            assert row is not None
            turns, results = transfer_store.insert_history(
                conn,
                conversation_id=conversation_id,
                user_id=user.id,
                windows=row["windows"],
                history=parsed["history"],
                source=IMPORT_SOURCE,
            )
            return {**public_conversation(row), "imported": {"turns": turns, "results": results}}

        return await self.db.write(store)
