"""The kernel relays a turn's events in batches: few messages, every event, in order."""

from __future__ import annotations

import threading
import time

from tests.widgets.conftest import BoardFactory, RecordingComm, wait_for
from tests.widgets.fakes import FakeBackend, turn_events
from widgets.protocol import RELAY_MAX_BATCH


def start_relay(
    board, backend: FakeBackend, turn_id: int = 7, last_event_id: int | None = None
) -> RecordingComm:
    comm = board.comm
    comm.receive({"type": "relay", "turn_id": turn_id, "last_event_id": last_event_id})
    return comm


def batches(comm: RecordingComm) -> list[list[dict]]:
    return [m["events"] for m in comm.custom() if m["type"] == "events"]


def relayed_all(comm: RecordingComm) -> bool:
    return any(e["event"] == "done" for batch in batches(comm) for e in batch)


def test_a_fast_turn_arrives_complete_and_ordered_in_few_messages(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    # 12 columns, 417 chunks each: 5,004 chunks, 12 finals and done = 5,017 events.
    backend.script[7] = turn_events(7, list(range(1, 13)), chunks=417)
    board = make_board(follow=False)
    started = time.monotonic()
    comm = start_relay(board, backend)
    wait_for(lambda: relayed_all(comm), what="the relay to finish")
    elapsed = time.monotonic() - started
    sent = batches(comm)
    events = [e for batch in sent for e in batch]
    assert [e["id"] for e in events] == list(range(1, 5018))
    assert events == backend.script[7]
    assert all(len(batch) <= RELAY_MAX_BATCH for batch in sent)
    # At most one batch per 200 events, plus one per 50 ms of streaming.
    assert len(sent) <= 5017 // RELAY_MAX_BATCH + 1 + elapsed / 0.05 + 1
    assert len(sent) < 60
    assert {m["turn_id"] for m in comm.custom()} == {7}


def test_a_slow_turn_is_flushed_within_the_interval(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    # The reader blocks after 3 events: those 3 must not wait for the next one.
    backend.script[7] = turn_events(7, [1], chunks=5)
    backend.gate, backend.gate_after = threading.Event(), 3
    board = make_board(follow=False)
    comm = start_relay(board, backend)
    first = wait_for(lambda: batches(comm), timeout=1.0, what="the first batch")
    assert [e["id"] for e in first[0]] == [1, 2, 3]
    backend.gate.set()
    wait_for(lambda: relayed_all(comm), what="the rest")
    assert [e["id"] for batch in batches(comm) for e in batch] == list(range(1, 8))


def test_a_dropped_read_resumes_after_the_last_event(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    backend.script[7] = turn_events(7, [1, 2], chunks=10)
    backend.break_after = 5
    board = make_board(follow=False)
    comm = start_relay(board, backend)
    wait_for(lambda: relayed_all(comm), what="the relay to finish")
    ids = [e["id"] for batch in batches(comm) for e in batch]
    assert ids == list(range(1, len(backend.script[7]) + 1))
    assert backend.reads == [(7, None), (7, 5)]


def test_a_relay_resumes_where_the_browser_stopped(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    backend.script[7] = turn_events(7, [1], chunks=4)
    board = make_board(follow=False)
    comm = start_relay(board, backend, last_event_id=3)
    wait_for(lambda: relayed_all(comm), what="the relay to finish")
    assert [e["id"] for batch in batches(comm) for e in batch] == [4, 5, 6]
    assert backend.reads == [(7, 3)]


def test_a_failing_turn_reports_its_error_after_the_events_before_it(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    board = make_board(follow=False)
    comm = start_relay(board, backend, turn_id=99)  # the backend knows no such turn
    error = wait_for(lambda: [m for m in comm.custom() if m["type"] == "error"], what="an error")
    assert error == [
        {
            "type": "error",
            "request_id": None,
            "turn_id": 99,
            "code": "TURN_NOT_FOUND",
            "message": "no turn 99",
        }
    ]


def test_the_same_relay_asked_twice_runs_once(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    backend.script[7] = turn_events(7, [1], chunks=3)
    backend.gate, backend.gate_after = threading.Event(), 1
    board = make_board(follow=False)
    comm = start_relay(board, backend)
    start_relay(board, backend)  # a second view of the same board asks too
    backend.gate.set()
    wait_for(lambda: relayed_all(comm), what="the relay to finish")
    assert backend.reads == [(7, None)]


def test_a_malformed_relay_request_is_refused(make_board: BoardFactory) -> None:
    board = make_board(follow=False)
    board.comm.receive({"type": "relay", "turn_id": 7, "last_event_id": "3"})
    assert board.comm.custom()[-1]["code"] == "VALIDATION_FAILED"
