"""The board's history: one list of exchanges per window, and how SSE events change it.

An exchange is one window's part of one turn::

    {turn_id, prompt, reply, status, error, finish_reason,
     ttft_ms, latency_ms, prompt_tokens, completion_tokens, tokens_per_second, cost,
     replaces_turn_id}

``cost`` is in the model's currency, null when the model has no prices.
``replaces_turn_id`` names the window's earlier exchange this one replaced (a retry, an
edited prompt), null for a plain turn; the replaced exchange stays in the history.

``src/state/reducer.js`` applies events the same way in the browser; keep them in step.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from .protocol import CANCELLED_CODE, INTERRUPTED_CODE, STATUSES, TERMINAL_STATUSES

History = dict[str, list[dict[str, Any]]]

NO_RESULT_MESSAGE = "the turn ended without a result for this window"
_NUMBERS = (
    "ttft_ms",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "tokens_per_second",
    "cost",
)


def new_exchange(
    turn_id: int, prompt: str, status: str = "queued", replaces_turn_id: int | None = None
) -> dict[str, Any]:
    """A fresh exchange, before any event of its turn arrived."""
    return {
        "turn_id": turn_id,
        "prompt": prompt,
        "reply": "",
        "status": status,
        "error": None,
        "finish_reason": None,
        **dict.fromkeys(_NUMBERS),
        "replaces_turn_id": replaces_turn_id,
    }


def normalise_exchange(value: Any) -> dict[str, Any]:
    """Check one exchange and fill in missing optional fields; raise ValueError if bad."""
    if not isinstance(value, Mapping):
        raise ValueError(f"an exchange must be a dict, not {type(value).__name__}")
    if "turn_id" not in value:
        raise ValueError("an exchange needs a turn_id")
    exchange = new_exchange(value["turn_id"], str(value.get("prompt") or ""))
    exchange.update({k: v for k, v in value.items() if k in exchange})
    exchange["reply"] = str(exchange["reply"] or "")
    if exchange["status"] not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}: {exchange['status']!r}")
    error = exchange["error"]
    if error is not None and not (isinstance(error, Mapping) and "code" in error):
        raise ValueError("error must be null or {code, message}")
    if error is not None:
        exchange["error"] = {"code": str(error["code"]), "message": str(error.get("message", ""))}
    for key in _NUMBERS:
        if exchange[key] is not None and not isinstance(exchange[key], int | float):
            raise ValueError(f"{key} must be a number or null")
    replaces = exchange["replaces_turn_id"]
    if replaces is not None and (isinstance(replaces, bool) or not isinstance(replaces, int)):
        raise ValueError("replaces_turn_id must be a turn id or null")
    return exchange


def normalise_history(value: Any) -> History:
    """Check a whole history; window ids become strings (JSON object keys)."""
    if not isinstance(value, Mapping):
        raise ValueError("history must be a dict of window id → list of exchanges")
    history: History = {}
    for key, exchanges in value.items():
        if isinstance(exchanges, str | bytes) or not isinstance(exchanges, Iterable):
            raise ValueError(f"history[{key!r}] must be a list of exchanges")
        history[str(key)] = [normalise_exchange(x) for x in exchanges]
    return history


def add_turn(
    history: History,
    turn_id: int,
    prompt: str,
    window_ids: Iterable[int],
    replaces_turn_id: int | None = None,
) -> History:
    """A copy of ``history`` with a queued exchange of a new turn in each named window
    (a turn that replaces ``replaces_turn_id`` there: a retry, an edited prompt)."""
    result = copy.deepcopy(history)
    for window_id in window_ids:
        exchanges = result.setdefault(str(window_id), [])
        if not any(x["turn_id"] == turn_id for x in exchanges):
            exchanges.append(new_exchange(turn_id, prompt, replaces_turn_id=replaces_turn_id))
    return result


def tokens_per_second(exchange: Mapping[str, Any]) -> float | None:
    """Generation speed: completion tokens over the time after the first token."""
    tokens, latency, ttft = (
        exchange.get("completion_tokens"),
        exchange.get("latency_ms"),
        exchange.get("ttft_ms") or 0,
    )
    if not tokens or not latency:
        return None
    seconds = (latency - ttft if latency > ttft else latency) / 1000
    return round(tokens / seconds, 1) if seconds > 0 else None


def _find(history: History, window_id: Any, turn_id: Any, prompt: str) -> dict[str, Any]:
    exchanges = history.setdefault(str(window_id), [])
    for exchange in exchanges:
        if exchange["turn_id"] == turn_id:
            return exchange
    exchange = new_exchange(turn_id, prompt)
    exchanges.append(exchange)
    return exchange


def _open_exchanges(history: History, turn_id: Any) -> list[dict[str, Any]]:
    return [
        exchange
        for exchanges in history.values()
        for exchange in exchanges
        if exchange["turn_id"] == turn_id and exchange["status"] not in TERMINAL_STATUSES
    ]


def _fail(exchange: dict[str, Any], data: Mapping[str, Any]) -> None:
    error = data.get("error") or {}
    code = str(error.get("code") or "INTERNAL_ERROR")
    exchange.update(
        status="cancelled" if code == CANCELLED_CODE else "failed",
        error={"code": code, "message": str(error.get("message") or "")},
        ttft_ms=data.get("ttft_ms", exchange["ttft_ms"]),
        latency_ms=data.get("latency_ms", exchange["latency_ms"]),
        cost=data.get("cost", exchange.get("cost")),
    )


def _succeed(exchange: dict[str, Any], data: Mapping[str, Any]) -> None:
    usage = data.get("usage") or {}
    exchange.update(
        status="cancelled" if data.get("finish_reason") == "cancelled" else "succeeded",
        finish_reason=data.get("finish_reason"),
        ttft_ms=data.get("ttft_ms"),
        latency_ms=data.get("latency_ms"),
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
        cost=data.get("cost"),
    )
    exchange["tokens_per_second"] = data.get("tokens_per_second") or tokens_per_second(exchange)


def apply_event(history: History, event: Mapping[str, Any], prompt: str = "") -> bool:
    """Fold one SSE event into ``history`` (in place); return whether a reply finished.

    Duplicates are the caller's business (events carry increasing ids per turn).
    ``prompt`` is used when the event names an exchange the history does not have yet.
    An error without a window id fails every open reply of the turn; "done" fails any
    reply still open (the server always ends each one first, so that is a safety net).
    """
    name, data = event.get("event"), event.get("data") or {}
    turn_id, window_id = data.get("turn_id"), data.get("window_id")
    if name == "done" or (name == "error" and window_id is None):
        fallback = {"error": {"code": INTERRUPTED_CODE, "message": NO_RESULT_MESSAGE}}
        for exchange in _open_exchanges(history, turn_id):
            _fail(exchange, data if name == "error" else fallback)
        return True
    if name not in ("chunk", "final", "error"):
        return False
    exchange = _find(history, window_id, turn_id, prompt)
    if exchange["status"] in TERMINAL_STATUSES:
        return False
    exchange["reply"] += data.get("delta_text") or ""
    if name == "chunk":
        exchange["status"] = "streaming"
        return False
    if name == "final":
        _succeed(exchange, data)
    else:
        _fail(exchange, data)
    return True
