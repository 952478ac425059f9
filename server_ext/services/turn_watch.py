"""Following a turn that another server process runs (DESIGN §8, "Ownership and several
processes").

The process running a turn keeps its events in memory; every other process sees the
turn only through its rows: the chunk boundaries and text of each streaming result, as
checkpointed about once a second, and each result's end once it is finalised. Event ids
are dense within a turn (1, 2, 3, …), so a reader sends the stored events strictly in
id order and waits at a gap — an end event whose row is not yet written while a later
chunk's checkpoint already is — until the gap is filled. Once every result has ended,
the rest is the replay of the finished turn, identical to what the running process
sent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from ..errors import ChatMoreError
from ..store import turns as turn_store
from ..store.db import Database
from ..streaming.events import Event, replay, stored_events

POLL_SECONDS = 0.5


def _ended(turn: dict[str, Any]) -> bool:
    return all(r["status"] not in turn_store.ACTIVE for r in turn["results"])


def _in_order(turn: dict[str, Any], after: int) -> list[Event]:
    """The stored events after id ``after`` up to the first missing id."""
    found = sorted(
        (e for r in turn["results"] for e in stored_events(turn["id"], r) if e.seq > after),
        key=lambda e: e.seq,
    )
    ready: list[Event] = []
    for event in found:
        if event.seq != after + 1:
            break
        ready.append(event)
        after = event.seq
    return ready


async def follow_stored(
    db: Database,
    turn_id: int,
    user_id: int,
    after: int,
    heartbeat: float,
    poll: float = POLL_SECONDS,
) -> AsyncIterator[Event | None]:
    """The turn's events after id ``after`` as the database shows them, until the turn
    has ended; ``None`` after ``heartbeat`` seconds without an event (a keep-alive)."""
    quiet_since = time.monotonic()
    while True:
        turn = await db.read(turn_store.get_turn, user_id, turn_id)
        if turn is None:
            raise ChatMoreError("TURN_NOT_FOUND")
        if _ended(turn):
            for event in replay(turn):
                if event.seq > after:
                    yield event
            return
        for event in _in_order(turn, after):
            yield event
            after = event.seq
            quiet_since = time.monotonic()
        if time.monotonic() - quiet_since >= heartbeat:
            yield None
            quiet_since = time.monotonic()
        await asyncio.sleep(poll)
