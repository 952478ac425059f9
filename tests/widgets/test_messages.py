"""Custom messages between the front end and the kernel, routed to the backend."""

from __future__ import annotations

import json

import pytest

from tests.widgets.conftest import BoardFactory, RecordingComm
from tests.widgets.fakes import SECRET, FakeBackend
from widgets import Board, BoardError


def comm_of(board: Board) -> RecordingComm:
    assert isinstance(board.comm, RecordingComm)
    return board.comm


def test_send_starts_a_turn_and_answers_with_its_stream(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    board = make_board(follow=False)
    comm_of(board).receive(
        {"type": "send", "request_id": "r1", "content": "Hi?", "window_ids": None}
    )
    assert backend.sent == [("Hi?", None)]
    assert comm_of(board).custom()[-1] == {
        "type": "turn",
        "request_id": "r1",
        "turn_id": 7,
        "window_ids": [1, 2, 3],
        "content": "Hi?",
        "replaces_turn_id": None,
        "stream": {"path": "chatmore/streams/turn/7", "ticket": "ticket-7-1"},
    }
    # Every window shows the prompt with its reply queued.
    assert {
        k: [(x["turn_id"], x["prompt"], x["status"]) for x in v] for k, v in board.history.items()
    } == {
        "1": [(7, "Hi?", "queued")],
        "2": [(7, "Hi?", "queued")],
        "3": [(7, "Hi?", "queued")],
    }
    assert board.last_turn_id == 7


def test_a_fork_goes_to_the_named_window(make_board: BoardFactory, backend: FakeBackend) -> None:
    board = make_board(follow=False)
    comm_of(board).receive(
        {"type": "send", "request_id": "r2", "content": "Only you", "window_ids": [2]}
    )
    assert backend.sent == [("Only you", [2])]
    assert comm_of(board).custom()[-1]["window_ids"] == [2]
    assert list(board.history) == ["2"]


def test_a_retry_or_an_edit_names_the_turn_it_replaces(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    board = make_board(follow=False)
    comm = comm_of(board)
    comm.receive({"type": "send", "request_id": "r1", "content": "Hi?", "window_ids": None})
    # An edited prompt from the front end: to every window, in place of turn 7.
    comm.receive(
        {
            "type": "send",
            "request_id": "r2",
            "content": "Hello?",
            "window_ids": None,
            "replaces_turn_id": 7,
        }
    )
    assert backend.replaced == [None, 7]
    assert comm.custom()[-1]["replaces_turn_id"] == 7
    assert [(x["turn_id"], x["replaces_turn_id"]) for x in board.history["2"]] == [
        (7, None),
        (8, 7),
    ]
    # From Python: retry window 2's last exchange, to window 2 only.
    assert board.retry(2) == {"turn_id": 9, "window_ids": [2]}
    assert backend.sent[-1] == ("Hello?", [2]) and backend.replaced[-1] == 8
    with pytest.raises(BoardError, match="VALIDATION_FAILED"):
        make_board(follow=False).retry(1)  # nothing to retry yet
    comm.receive({"type": "send", "request_id": "r3", "content": "x", "replaces_turn_id": "8"})
    assert comm.custom()[-1]["code"] == "VALIDATION_FAILED"
    assert len(backend.sent) == 3


def test_relay_transport_sends_no_ticket(make_board: BoardFactory, backend: FakeBackend) -> None:
    board = make_board(follow=False, transport="relay")
    comm_of(board).receive(
        {"type": "send", "request_id": "r1", "content": "Hi?", "window_ids": None}
    )
    assert comm_of(board).custom()[-1]["stream"] == {
        "path": "chatmore/streams/turn/7",
        "ticket": None,
    }
    assert backend.tickets == []


def test_a_refused_turn_answers_with_the_backends_code(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    board = make_board(follow=False)
    backend.refuse = BoardError("WINDOW_BUSY", "beta is still answering")
    comm_of(board).receive(
        {"type": "send", "request_id": "r3", "content": "Hi?", "window_ids": [2]}
    )
    assert comm_of(board).custom()[-1] == {
        "type": "error",
        "request_id": "r3",
        "turn_id": None,
        "code": "WINDOW_BUSY",
        "message": "beta is still answering",
    }
    assert board.history == {}


@pytest.mark.parametrize(
    ("content", "window_ids", "message"),
    [
        ("   ", None, "the message is empty"),
        (42, None, "the message is empty"),
        ("Hi", [], "choose at least one window"),
        ("Hi", [9], "no such window on this board: [9]"),
        ("Hi", ["1"], "window_ids must be a list of window ids"),
        ("Hi", 1, "window_ids must be a list of window ids"),
    ],
)
def test_malformed_sends_are_refused_before_the_backend(
    make_board: BoardFactory,
    backend: FakeBackend,
    content: object,
    window_ids: object,
    message: str,
) -> None:
    board = make_board(follow=False)
    comm_of(board).receive(
        {"type": "send", "request_id": "r", "content": content, "window_ids": window_ids}
    )
    answer = comm_of(board).custom()[-1]
    assert (answer["type"], answer["code"], answer["message"]) == (
        "error",
        "VALIDATION_FAILED",
        message,
    )
    assert backend.sent == []


def test_an_unknown_message_type_is_answered(make_board: BoardFactory) -> None:
    board = make_board()
    comm_of(board).receive({"type": "launch", "request_id": "r9"})
    answer = comm_of(board).custom()[-1]
    assert (answer["request_id"], answer["code"]) == ("r9", "VALIDATION_FAILED")
    assert "launch" in answer["message"]


def test_an_unexpected_backend_failure_still_reaches_the_board(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    board = make_board(follow=False)
    backend.refuse = OSError("connection refused")
    comm_of(board).receive(
        {"type": "send", "request_id": "r4", "content": "Hi?", "window_ids": None}
    )
    answer = comm_of(board).custom()[-1]
    assert (answer["code"], answer["message"]) == ("INTERNAL_ERROR", "OSError: connection refused")


def test_cancel(make_board: BoardFactory, backend: FakeBackend) -> None:
    board = make_board(follow=False)
    comm_of(board).receive({"type": "cancel", "request_id": "c1", "turn_id": 7, "window_ids": [1]})
    comm_of(board).receive({"type": "cancel", "turn_id": 8, "window_ids": None})
    assert backend.cancelled == [(7, [1]), (8, None)]
    assert comm_of(board).custom() == []  # success is silent
    backend.refuse = BoardError("TURN_NOT_FOUND", "no such turn")
    comm_of(board).receive(
        {"type": "cancel", "request_id": "c2", "turn_id": 9, "window_ids": None}
    )
    assert comm_of(board).custom()[-1] == {
        "type": "error",
        "request_id": "c2",
        "turn_id": 9,
        "code": "TURN_NOT_FOUND",
        "message": "no such turn",
    }
    comm_of(board).receive(
        {"type": "cancel", "request_id": "c3", "turn_id": "7", "window_ids": None}
    )
    assert comm_of(board).custom()[-1]["code"] == "VALIDATION_FAILED"


def test_ticket(make_board: BoardFactory, backend: FakeBackend) -> None:
    board = make_board()
    comm_of(board).receive({"type": "ticket", "request_id": "t1", "turn_id": 7})
    assert comm_of(board).custom()[-1] == {
        "type": "ticket",
        "request_id": "t1",
        "turn_id": 7,
        "ticket": "ticket-7-1",
    }


def test_a_board_without_backend_only_shows_history(make_board: BoardFactory) -> None:
    board = make_board(backend=None)
    comm_of(board).receive(
        {"type": "send", "request_id": "r", "content": "Hi?", "window_ids": None}
    )
    assert comm_of(board).custom()[-1]["code"] == "NOT_CONNECTED"
    with pytest.raises(BoardError) as caught:
        board.send("Hi?")
    assert caught.value.code == "NOT_CONNECTED"


def test_send_from_python_announces_the_turn_without_a_ticket(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    board = make_board(follow=False)
    assert board.send("From a cell", window_ids=(1, 3)) == {"turn_id": 7, "window_ids": [1, 3]}
    message = comm_of(board).custom()[-1]
    # Each open view asks for a ticket of its own: a ticket opens one stream, once.
    assert (message["type"], message["request_id"], message["stream"]["ticket"]) == (
        "turn",
        None,
        None,
    )
    assert backend.tickets == []
    backend.refuse = BoardError("WINDOW_BUSY", "busy")
    with pytest.raises(BoardError, match="WINDOW_BUSY"):
        board.send("Again")


def test_python_cancel_stops_every_running_turn(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    board = make_board(follow=False)
    board.send("one", [1])
    board.send("two", [2])
    board.cancel()
    assert sorted(backend.cancelled) == [(7, None), (8, None)]
    board.cancel(7, [1])
    assert backend.cancelled[-1] == (7, [1])


def test_tickets_and_credentials_never_reach_a_trait(
    make_board: BoardFactory, backend: FakeBackend
) -> None:
    board = make_board(follow=False)
    comm_of(board).receive(
        {"type": "send", "request_id": "r1", "content": "Hi?", "window_ids": None}
    )
    comm_of(board).receive({"type": "ticket", "request_id": "t1", "turn_id": 7})
    assert backend.tickets == ["ticket-7-1", "ticket-7-2"]
    state = json.dumps(board.get_state(), default=str)
    synced = json.dumps(comm_of(board).updates(), default=str)
    opened = json.dumps(
        [d for kind, d in comm_of(board).messages if kind == "comm_open"], default=str
    )
    for secret in [*backend.tickets, SECRET]:
        assert secret not in state
        assert secret not in synced
        assert secret not in opened


def test_ipywidgets_send_contract_still_works(make_board: BoardFactory) -> None:
    board = make_board()
    board.send({"do": "focus"})  # what ipywidgets' DOMWidget.focus() does
    assert comm_of(board).custom()[-1] == {"do": "focus"}
