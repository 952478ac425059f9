"""A stand-in for the notebook API's backend: turns, tickets and scripted SSE events.

Importable by a real kernel too (``tests.widgets.fakes``), so the same fake drives the
in-process tests and the one that runs the board in an ipykernel.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from widgets import BoardError

SECRET = "sk-never-in-a-trait"


def turn_events(
    turn_id: int,
    window_ids: list[int],
    chunks: int = 3,
    fail: dict[int, str] | None = None,
) -> list[dict[str, Any]]:
    """A turn's events as the server sends them: chunks interleaved across windows, then a
    final (or an error) per window, then done. Ids count from 1."""
    fail = fail or {}
    events: list[dict[str, Any]] = []

    def add(name: str, data: dict[str, Any]) -> None:
        events.append({"event": name, "id": len(events) + 1, "data": {"turn_id": turn_id, **data}})

    for seq in range(chunks):
        for window_id in window_ids:
            add(
                "chunk",
                {
                    "window_id": window_id,
                    "model_id": window_id,
                    "seq": seq,
                    "delta_text": f"w{window_id}.{seq} ",
                },
            )
    for window_id in window_ids:
        if window_id in fail:
            add(
                "error",
                {
                    "window_id": window_id,
                    "error": {"code": fail[window_id], "message": "it broke"},
                },
            )
        else:
            add(
                "final",
                {
                    "window_id": window_id,
                    "delta_text": "",
                    "usage": {"prompt_tokens": 5, "completion_tokens": chunks},
                    "latency_ms": 1100,
                    "ttft_ms": 100,
                    "finish_reason": "stop",
                },
            )
    failed = sum(1 for w in window_ids if w in fail)
    add(
        "done",
        {
            "models_total": len(window_ids),
            "models_succeeded": len(window_ids) - failed,
            "models_failed": failed,
        },
    )
    return events


class FakeBackend:
    """Records what the board asks for and replays scripted events.

    ``windows`` are the conversation's window ids; ``chunks`` how many chunks each window's
    reply has; ``fail`` maps a window id to the error code its reply ends with.
    """

    def __init__(
        self,
        windows: list[int] | None = None,
        chunks: int = 3,
        fail: dict[int, str] | None = None,
        first_turn_id: int = 7,
    ) -> None:
        self.windows = windows or [1, 2, 3]
        self.chunks = chunks
        self.fail = fail or {}
        self.next_turn_id = first_turn_id
        self.api_key = SECRET  # a credential the backend holds; the board must never show it
        self.sent: list[tuple[str, list[int] | None]] = []
        self.replaced: list[int | None] = []
        self.cancelled: list[tuple[int, list[int] | None]] = []
        self.tickets: list[str] = []
        self.reads: list[tuple[int, int | None]] = []
        self.script: dict[int, list[dict[str, Any]]] = {}
        self.refuse: BoardError | Exception | None = None
        # Hooks for the relay tests: break a read after n events, or pause in it.
        self.break_after: int | None = None
        self.gate: threading.Event | None = None
        self.gate_after: int | None = None
        self.pause_every: int | None = None

    def send_turn(
        self, content: str, window_ids: list[int] | None, replaces_turn_id: int | None = None
    ) -> dict[str, Any]:
        if self.refuse is not None:
            raise self.refuse
        self.sent.append((content, window_ids))
        self.replaced.append(replaces_turn_id)
        turn_id, self.next_turn_id = self.next_turn_id, self.next_turn_id + 1
        ids = list(window_ids) if window_ids else list(self.windows)
        self.script[turn_id] = turn_events(turn_id, ids, self.chunks, self.fail)
        return {"turn_id": turn_id, "window_ids": ids}

    def stream_ticket(self, turn_id: int) -> str:
        ticket = f"ticket-{turn_id}-{len(self.tickets) + 1}"
        self.tickets.append(ticket)
        return ticket

    def stream_path(self, turn_id: int) -> str:
        return f"chatmore/streams/turn/{turn_id}"

    def cancel(self, turn_id: int, window_ids: list[int] | None) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.cancelled.append((turn_id, window_ids))

    def iter_events(self, turn_id: int, last_event_id: int | None) -> Iterator[dict[str, Any]]:
        self.reads.append((turn_id, last_event_id))
        if turn_id not in self.script:
            raise BoardError("TURN_NOT_FOUND", f"no turn {turn_id}")
        broken = self.break_after
        self.break_after = None  # only the first read breaks
        sent = 0
        for event in self.script[turn_id]:
            if last_event_id is not None and event["id"] <= last_event_id:
                continue
            if broken is not None and sent == broken:
                raise ConnectionError("the stream dropped")
            if self.gate is not None and sent == self.gate_after:
                self.gate.wait(10)
            if self.pause_every and sent and sent % self.pause_every == 0:
                time.sleep(0.002)
            sent += 1
            yield event
