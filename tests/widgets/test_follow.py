"""The kernel follows its turns, so `history` is right without a browser."""

from __future__ import annotations

import pytest

from tests.widgets.conftest import BoardFactory
from tests.widgets.fakes import FakeBackend, turn_events
from widgets import BoardError


def test_history_records_each_reply_when_the_turn_ends(make_board: BoardFactory) -> None:
    backend = FakeBackend(chunks=40, fail={2: "PROVIDER_TIMEOUT"})
    board = make_board(backend=backend)
    turn = board.send("Compare")
    assert board.wait(turn["turn_id"], timeout=5)
    one, two = board.history["1"][0], board.history["2"][0]
    assert one["status"] == "succeeded"
    assert one["reply"] == "".join(f"w1.{i} " for i in range(40))
    assert (one["ttft_ms"], one["latency_ms"], one["completion_tokens"]) == (100, 1100, 40)
    assert one["tokens_per_second"] == 40.0
    assert two["status"] == "failed"
    assert two["error"] == {"code": "PROVIDER_TIMEOUT", "message": "it broke"}
    assert two["reply"] == "".join(f"w2.{i} " for i in range(40))
    # History is synced at each reply's end, not per token.
    history_updates = [u for u in board.comm.updates() if "history" in u]
    assert len(history_updates) <= 1 + 3 + 1  # the queued turn, 3 replies, done


def test_without_follow_the_history_stays_queued(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    board = make_board(follow=False)
    board.send("Hi?")
    assert board.wait(timeout=0.1)  # nothing followed: nothing to wait for
    assert {x[0]["status"] for x in board.history.values()} == {"queued"}
    assert backend.reads == []


def test_wait_reports_a_turn_that_cannot_be_followed(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    board = make_board()
    board.attach_turn(42, "started elsewhere", [1])  # the backend knows no turn 42
    with pytest.raises(BoardError, match="TURN_NOT_FOUND"):
        board.wait(42, timeout=5)
    assert board.history["1"][0]["prompt"] == "started elsewhere"


def test_attach_turn_shows_a_turn_started_elsewhere(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    backend.script[30] = turn_events(30, [3], chunks=2)
    board = make_board()
    board.attach_turn(30, "from the API", [3])
    message = board.comm.custom()[-1]
    assert (message["type"], message["turn_id"], message["request_id"]) == ("turn", 30, None)
    assert board.wait(30, timeout=5)
    assert board.history["3"][0]["reply"] == "w3.0 w3.1 "
    assert board.history["3"][0]["status"] == "succeeded"


def test_apply_events_folds_a_replayed_turn(make_board: BoardFactory) -> None:
    board = make_board(backend=None)
    board.apply_events(turn_events(5, [1, 2], chunks=2, fail={2: "CANCELLED"}), prompt="old")
    assert board.history["1"][0]["prompt"] == "old"
    assert board.history["1"][0]["reply"] == "w1.0 w1.1 "
    assert board.history["2"][0]["status"] == "cancelled"
