"""The live event log of a running turn: appended by the fan-out, read by any number of
SSE clients, each from its own position.

Readers never block the writer: ``append`` stores the event and wakes every waiting
reader at once; a reader picks up everything after the last id it has seen. A client
that disconnects simply stops reading; the turn goes on.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import AsyncIterator

from .events import Event

# How long a finished turn's log stays in memory for late readers before they are served
# from the database instead (the replay is identical).
KEEP_FINISHED_SECONDS = 120.0


class TurnLog:
    def __init__(self, turn_id: int) -> None:
        self.turn_id = turn_id
        self.events: list[Event] = []
        self._seqs: list[int] = []
        self._next_seq = 1
        self.finished_at: float | None = None
        self._wake = asyncio.Event()

    def next_seq(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def append(self, event: Event) -> None:
        self.events.append(event)
        self._seqs.append(event.seq)
        self._wake.set()
        self._wake = asyncio.Event()

    def finish(self) -> None:
        self.finished_at = time.monotonic()
        self._wake.set()

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def after(self, seq: int) -> list[Event]:
        return self.events[bisect.bisect_right(self._seqs, seq) :]

    async def follow(self, after: int, heartbeat: float) -> AsyncIterator[Event | None]:
        """Events with ids above ``after``, as they come; ``None`` after ``heartbeat``
        seconds without any (time for a keep-alive), until the turn is finished."""
        cursor = after
        while True:
            fresh = self.after(cursor)
            if fresh:
                for event in fresh:
                    yield event
                cursor = fresh[-1].seq
                continue
            if self.finished:
                return
            wake = self._wake
            try:
                async with asyncio.timeout(heartbeat):
                    await wake.wait()
            except TimeoutError:
                yield None


class TurnLogs:
    """The logs of running (and recently finished) turns, by turn id."""

    def __init__(self) -> None:
        self._logs: dict[int, TurnLog] = {}

    def open(self, turn_id: int) -> TurnLog:
        self._prune()
        log = self._logs[turn_id] = TurnLog(turn_id)
        return log

    def get(self, turn_id: int) -> TurnLog | None:
        return self._logs.get(turn_id)

    def running(self) -> list[TurnLog]:
        return [log for log in self._logs.values() if not log.finished]

    def _prune(self) -> None:
        cutoff = time.monotonic() - KEEP_FINISHED_SECONDS
        for turn_id in [
            t for t, log in self._logs.items() if log.finished_at and log.finished_at < cutoff
        ]:
            del self._logs[turn_id]
