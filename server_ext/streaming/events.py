"""The SSE events of a turn (DESIGN §8), built in one place for the live stream and for
the replay of a finished turn, so that both produce the very same events.

Each event has a name (chunk, final, error, done), an id (``seq``) that increases
within the turn, and JSON data. A result's chunk boundaries are kept in its
``event_log`` column — ``{"chunks": [[seq, end, t_ms], …], "end": seq}`` where ``end``
is the offset in the reply text where the chunk stops and ``t_ms`` its time after the
result started — so a finished turn replays exactly the ids and texts seen live.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from ..jsonutil import dumps, iso

CHUNK, FINAL, ERROR, DONE = "chunk", "final", "error", "done"
EVENT_NAMES = (CHUNK, FINAL, ERROR, DONE)

# Ids given to events made up after a restart (an interrupted result's error event, the
# done event) start here: above any id the live stream can have sent.
RECOVERY_SEQ_BASE = 1_000_000_000


class Event(NamedTuple):
    """One event as it goes out: its name, its id, and its SSE text.

    Encoded once, however many clients read it, and kept as a tuple of a string and
    ints: a running turn holds thousands of these, and the garbage collector does not
    scan such tuples (dicts and lists it would, every full pass)."""

    name: str
    seq: int
    sse: str

    @classmethod
    def of(cls, name: str, seq: int, data: dict[str, Any]) -> Event:
        return cls(name, seq, f"id: {seq}\nevent: {name}\ndata: {dumps(data)}\n\n")


HEARTBEAT = ": keep-alive\n\n"


def chunk_time(started_at: dt.datetime, t_ms: int) -> str | None:
    return iso(started_at + dt.timedelta(milliseconds=t_ms))


def chunk_event(
    seq: int, turn_id: int, window_id: int, model_id: int, text: str, ts: str | None
) -> Event:
    return Event.of(
        CHUNK,
        seq,
        {
            "turn_id": turn_id,
            "window_id": window_id,
            "model_id": model_id,
            "seq": seq,
            "delta_text": text,
            "ts": ts,
        },
    )


def tokens_per_second(completion_tokens: int | None, decode_ms: int | None) -> float | None:
    if not completion_tokens or not decode_ms or decode_ms <= 0:
        return None
    return round(completion_tokens / (decode_ms / 1000), 2)


def end_event(seq: int, turn_id: int, result: dict[str, Any]) -> Event:
    """The final event of a succeeded result, or the error event of any other outcome.
    ``result`` has the turn_results columns (window_id, model_id, status, …)."""
    base = {
        "turn_id": turn_id,
        "window_id": result["window_id"],
        "model_id": result["model_id"],
        "seq": seq,
        "status": result["status"],
        "ttft_ms": result["ttft_ms"],
        "latency_ms": result["latency_ms"],
        "cost": result.get("cost"),
    }
    if result["status"] == "succeeded":
        usage = None
        if result["total_tokens"] is not None or result["completion_tokens"] is not None:
            usage = {
                "prompt_tokens": result["prompt_tokens"],
                "completion_tokens": result["completion_tokens"],
                "total_tokens": result["total_tokens"],
            }
        return Event.of(
            FINAL,
            seq,
            {
                **base,
                "usage": usage,
                "finish_reason": result["finish_reason"],
                "decode_ms": result["decode_ms"],
                "tokens_per_second": tokens_per_second(
                    result["completion_tokens"], result["decode_ms"]
                ),
            },
        )
    return Event.of(
        ERROR,
        seq,
        {**base, "error": {"code": result["error_code"], "message": result["error_message"]}},
    )


def done_event(seq: int, turn_id: int, statuses: list[str]) -> Event:
    return Event.of(
        DONE,
        seq,
        {
            "turn_id": turn_id,
            "seq": seq,
            "models_total": len(statuses),
            "models_succeeded": statuses.count("succeeded"),
            "models_failed": statuses.count("failed"),
            "models_cancelled": statuses.count("cancelled"),
        },
    )


def stored_events(turn_id: int, result: dict[str, Any]) -> list[Event]:
    """The events of one result that its row holds: the chunks checkpointed (or all of
    them, once it ended) and, once it ended, its final or error event with the id it
    had live. ``result`` has the turn_results columns, ``event_log`` and ``reply``."""
    log = result["event_log"] or {"chunks": [], "end": None}
    reply = result["reply"] or ""
    started_at = result["started_at"] or result["created_at"]
    events: list[Event] = []
    start = 0
    for seq, end, t_ms in log["chunks"]:
        if end > len(reply):  # never past the text stored with it
            break
        events.append(
            chunk_event(
                seq,
                turn_id,
                result["window_id"],
                result["model_id"],
                reply[start:end],
                chunk_time(started_at, t_ms),
            )
        )
        start = end
    if log.get("end") is not None and result["status"] in FINAL_STATUSES:
        events.append(end_event(log["end"], turn_id, result))
    return events


FINAL_STATUSES = ("succeeded", "failed", "cancelled")


def replay(turn: dict[str, Any]) -> list[Event]:
    """Every event of a finished turn, rebuilt from its rows (see the module docstring)."""
    events: list[Event] = []
    recovered = RECOVERY_SEQ_BASE
    for result in turn["results"]:
        events.extend(stored_events(turn["id"], result))
        if (result["event_log"] or {}).get("end") is None:
            # interrupted before it ended: its error event is made up now
            recovered += 1
            events.append(end_event(recovered, turn["id"], result))
    events.sort(key=lambda e: e.seq)
    last = events[-1].seq if events else 0
    statuses = [r["status"] for r in turn["results"]]
    events.append(done_event(last + 1, turn["id"], statuses))
    return events
