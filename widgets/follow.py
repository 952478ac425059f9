"""Following a turn in the kernel, so that ``Board.history`` is right without a browser.

The browser renders every delta; the kernel only needs each reply's end. A
:class:`TurnFollower` reads the turn's events in a daemon thread and hands them over in
one piece whenever a reply finishes (a final or error event) and at "done" — a dozen
history updates per turn, not one per token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .backend import BoardError
from .relay import Event, EventSource, follow_events

log = logging.getLogger(__name__)

_FINISHING = frozenset({"final", "error", "done"})


class TurnFollower:
    """Reads one turn's events and passes them to ``commit`` at each reply's end."""

    def __init__(self, turn_id: int, source: EventSource, commit: Callable[[list[Event]], None]):
        self.turn_id = turn_id
        self.error: BoardError | None = None
        self._source = source
        self._commit = commit
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"chatmore-follow-{turn_id}", daemon=True
        )

    def start(self) -> TurnFollower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the turn is over (or following failed); return False on timeout."""
        return self._done.wait(timeout)

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def _run(self) -> None:
        pending: list[Event] = []
        try:
            for event in follow_events(self._source, None, self._stop):
                pending.append(event)
                if event.get("event") in _FINISHING:
                    self._commit(pending)
                    pending = []
        except BoardError as exc:
            self.error = exc
            log.warning("could not follow turn %s: %s", self.turn_id, exc)
        except Exception as exc:
            self.error = BoardError("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}")
            log.exception("following turn %s failed", self.turn_id)
        finally:
            if pending and not self._stop.is_set():
                self._commit(pending)
            self._done.set()
