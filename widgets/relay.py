"""Following a turn's events from the kernel, and relaying them to the browser in batches.

The browser normally reads a turn's events from the server itself (EventSource). Where it
cannot (VS Code, a remote kernel, a proxy), it asks the kernel to relay them: a
:class:`Relay` reads ``backend.iter_events`` in one thread and sends batches from another,
so that a slow iterator never holds back a batch and a fast one never floods iopub.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .backend import BoardError
from .protocol import RELAY_INTERVAL_S, RELAY_MAX_BATCH

log = logging.getLogger(__name__)

Event = dict[str, Any]
EventSource = Callable[[int | None], Iterator[Event]]

RETRIES = 3
_END = object()


def follow_events(
    source: EventSource,
    last_event_id: int | None,
    stop: threading.Event,
    retries: int = RETRIES,
    backoff_s: float = 0.5,
) -> Iterator[Event]:
    """Yield a turn's events after ``last_event_id`` until "done", resuming on failures.

    A connection that breaks is reopened after the last id seen (a few times, with
    backoff); ids at or below it are dropped, so a resume never repeats an event.
    A :class:`BoardError` (the turn is gone, access denied) is final and propagates;
    another exception propagates as ``RELAY_FAILED`` once the retries are spent.
    """
    last, failures = last_event_id, 0
    while not stop.is_set():
        try:
            for event in source(last):
                if stop.is_set():
                    return
                event_id = event.get("id")
                if isinstance(event_id, int):
                    if last is not None and event_id <= last:
                        continue
                    last = event_id
                failures = 0
                yield event
                if event.get("event") == "done":
                    return
            return  # the iterator ended by itself: the turn is over
        except BoardError:
            raise
        except Exception as exc:
            failures += 1
            if failures > retries:
                raise BoardError("RELAY_FAILED", f"{type(exc).__name__}: {exc}") from exc
            log.info("turn events interrupted (%s); resuming after id %s", exc, last)
            stop.wait(backoff_s * 2 ** (failures - 1))


class Relay:
    """Relays one turn's events through ``send_batch`` in batches.

    A batch goes out when it holds ``max_batch`` events or ``interval_s`` after its first
    event, whichever comes first; the last partial batch always goes out. A failure is
    reported once through ``on_error`` after the events that came before it.
    """

    def __init__(
        self,
        source: EventSource,
        last_event_id: int | None,
        send_batch: Callable[[list[Event]], None],
        on_error: Callable[[BoardError], None],
        *,
        interval_s: float = RELAY_INTERVAL_S,
        max_batch: int = RELAY_MAX_BATCH,
    ) -> None:
        self._source = source
        self._last_event_id = last_event_id
        self._send_batch = send_batch
        self._on_error = on_error
        self._interval_s = interval_s
        self._max_batch = max_batch
        self._queue: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, name="chatmore-relay-read", daemon=True)
        self._sender = threading.Thread(target=self._send, name="chatmore-relay-send", daemon=True)

    def start(self) -> Relay:
        self._reader.start()
        self._sender.start()
        return self

    def stop(self) -> None:
        """Stop sending; the reader ends at its next event (it cannot be interrupted)."""
        self._stop.set()
        self._queue.put(_END)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the last batch to go out; return whether it did."""
        self._sender.join(timeout)
        return not self._sender.is_alive()

    @property
    def running(self) -> bool:
        return self._sender.is_alive()

    def _read(self) -> None:
        try:
            for event in follow_events(self._source, self._last_event_id, self._stop):
                self._queue.put(event)
        except BoardError as exc:
            self._queue.put(exc)
        except Exception as exc:  # a bug in the backend must still reach the user
            log.exception("relay reader failed")
            self._queue.put(BoardError("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}"))
        self._queue.put(_END)

    def _send(self) -> None:
        batch: list[Event] = []
        deadline = 0.0
        while True:
            timeout = max(0.0, deadline - time.monotonic()) if batch else None
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                batch = self._flush(batch)
                continue
            if item is _END or isinstance(item, BoardError):
                self._flush(batch)
                if isinstance(item, BoardError) and not self._stop.is_set():
                    self._on_error(item)
                return
            if not batch:
                deadline = time.monotonic() + self._interval_s
            batch.append(item)
            if len(batch) >= self._max_batch:
                batch = self._flush(batch)

    def _flush(self, batch: list[Event]) -> list[Event]:
        if batch and not self._stop.is_set():
            try:
                self._send_batch(batch)
            except Exception:  # the comm may be closed; nothing else can be told
                log.exception("relay could not send a batch")
        return []
