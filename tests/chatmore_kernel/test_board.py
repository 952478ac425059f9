"""``cm.board``: a board on a new conversation or a stored one, and its backend against
the real server — send, stream ticket, events until done, cancel — with no credential
in the widget's state."""

from __future__ import annotations

import json
import re

import pytest

import chatmore_kernel as cm
from chatmore_kernel.backend import ServerBackend
from tests.chatmore_kernel.conftest import Accounts, DemoModels
from widgets import Board, BoardBackend, BoardError

HISTORY_FIELDS = ("turn_id", "prompt", "reply", "status", "error", "finish_reason")

JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*")


def comparable(history: dict) -> dict:
    return {w: [{k: x[k] for k in HISTORY_FIELDS} for x in xs] for w, xs in history.items()}


def test_board_builds_a_conversation(accounts: Accounts, demo_models: DemoModels) -> None:
    board = accounts.user.board(
        windows=[
            {"model": demo_models.scholar, "name": "cold", "params": {"temperature": 0.0}},
            {"model": demo_models.scholar, "name": "hot", "params": {"temperature": 1.4}},
            {"model": demo_models.swift, "system_prompt": "Be brief."},
        ],
        height=400,
    )
    assert isinstance(board, Board) and isinstance(board._backend, BoardBackend)
    assert [w["name"] for w in board.windows] == ["cold", "hot", demo_models.swift]
    assert [w["params_diff"] for w in board.windows] == [
        {"temperature": 0.0},
        {"temperature": 1.4},
        {},
    ]
    assert board.windows[2]["system_prompt"] == "Be brief."
    assert board.height == 400 and board.transport == "auto" and board.history == {}
    stored = accounts.user.conversations()
    assert stored["id"].tolist() == [board.conversation_id]
    assert stored["title"].iloc[0] == board.title == f"cold vs hot vs {demo_models.swift}"
    board.close()


def test_a_turn_through_the_backend(accounts: Accounts, demo_models: DemoModels) -> None:
    board = accounts.user.board([demo_models.swift, demo_models.scholar], title="Joins")
    backend = board._backend
    assert isinstance(backend, ServerBackend)
    ids = [w["id"] for w in board.windows]

    started = backend.send_turn("How do I join two tables?", None)
    assert started["window_ids"] == ids
    turn_id = started["turn_id"]
    assert backend.stream_path(turn_id) == f"chatmore/streams/turn/{turn_id}"
    ticket = backend.stream_ticket(turn_id)
    assert ticket.count(".") == 2  # a JWT, for the browser's EventSource

    events = list(backend.iter_events(turn_id, None))
    names = [e["event"] for e in events]
    assert names[-1] == "done" and names.count("final") == 2 and "chunk" in names
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert events[-1]["data"]["models_succeeded"] == 2
    text = "".join(
        e["data"].get("delta_text") or "" for e in events if e["data"].get("window_id") == ids[0]
    )
    assert text.strip()
    # Resuming after an id gives exactly what came after it.
    middle = events[len(events) // 2]["id"]
    assert list(backend.iter_events(turn_id, middle)) == [e for e in events if e["id"] > middle]

    # The same turn folded into the board's history, as the board's follower does.
    board.attach_turn(turn_id, "How do I join two tables?", ids)
    assert board.wait(timeout=30)
    exchange = board.history[str(ids[0])][0]
    assert exchange["status"] == "succeeded" and exchange["reply"] == text
    assert exchange["latency_ms"] > 0 and exchange["completion_tokens"] > 0
    board.close()


def test_send_fork_and_reopen_with_history(accounts: Accounts, demo_models: DemoModels) -> None:
    user = accounts.user
    board = user.board([demo_models.swift, demo_models.failing])
    first, second = (w["id"] for w in board.windows)
    board.send("Compare SQL and NoSQL")
    assert board.wait(timeout=30)
    board.send("Go on", window_ids=[first])  # a fork: this column only
    assert board.wait(timeout=30)
    assert [x["prompt"] for x in board.history[str(first)]] == ["Compare SQL and NoSQL", "Go on"]
    assert len(board.history[str(second)]) == 1
    failed = board.history[str(second)][0]
    assert failed["status"] == "failed" and failed["error"]["code"] == "PROVIDER_HTTP_ERROR"

    reopened = cm.Session.board(user, conversation=board.conversation_id)
    assert reopened.conversation_id == board.conversation_id
    assert reopened.windows == board.windows and reopened.title == board.title
    assert comparable(reopened.history) == comparable(board.history)
    mine, live = reopened.history[str(first)][0], board.history[str(first)][0]
    for metric in ("ttft_ms", "latency_ms", "prompt_tokens", "completion_tokens"):
        assert mine[metric] == live[metric] is not None, metric
    # A reopened board goes on with the same conversation.
    reopened.send("And then?", window_ids=[first])
    assert reopened.wait(timeout=30)
    assert len(user.turns(conversation=reopened)) == 3
    board.close()
    reopened.close()


def test_cancel_one_window_mid_stream(accounts: Accounts, demo_models: DemoModels) -> None:
    board = accounts.user.board([demo_models.slow, demo_models.swift])
    slow, fast = (w["id"] for w in board.windows)
    backend = board._backend
    turn_id = backend.send_turn("Think about distributed consensus", None)["turn_id"]
    events = []
    for event in backend.iter_events(turn_id, None):
        events.append(event)
        if event["event"] == "chunk" and event["data"]["window_id"] == slow:
            backend.cancel(turn_id, [slow])  # it has started to answer: stop it
            break
    events += backend.iter_events(turn_id, events[-1]["id"])
    ends = {e["data"]["window_id"]: e for e in events if e["event"] in ("final", "error")}
    assert ends[slow]["event"] == "error"
    assert ends[slow]["data"]["error"]["code"] == "CANCELLED"
    assert ends[fast]["event"] == "final"
    results = accounts.user.results(conversation=board)
    by_window = dict(zip(results["window_id"], results["status"], strict=True))
    assert by_window == {slow: "cancelled", fast: "succeeded"}
    board.close()


def test_errors_reach_the_board_with_the_servers_codes(
    accounts: Accounts, demo_models: DemoModels
) -> None:
    board = accounts.user.board([demo_models.slow])
    backend = board._backend
    backend.send_turn("a long answer, please", None)
    with pytest.raises(BoardError) as busy:
        backend.send_turn("and another", None)
    assert busy.value.code == "WINDOW_BUSY"
    board.cancel()
    with pytest.raises(BoardError) as gone:
        backend.stream_ticket(10**9)
    assert gone.value.code == "TURN_NOT_FOUND"
    with pytest.raises(BoardError) as gone:
        list(backend.iter_events(10**9, None))
    assert gone.value.code == "TURN_NOT_FOUND"

    # Another user's conversation does not exist for this one.
    with pytest.raises(cm.ChatMoreError) as other:
        accounts.admin.board(conversation=board.conversation_id)
    assert other.value.code == "CONVERSATION_NOT_FOUND" and other.value.status == 404
    with pytest.raises(BoardError) as other_send:
        ServerBackend(accounts.admin._api, board.conversation_id).send_turn("hi", None)
    assert other_send.value.code == "CONVERSATION_NOT_FOUND"
    with pytest.raises(cm.ChatMoreError) as unknown:
        accounts.user.board(["no such model"])
    assert unknown.value.code == "MODEL_NOT_FOUND"
    assert "no such model" in unknown.value.message
    with pytest.raises(cm.ChatMoreError) as nothing:
        accounts.user.board()
    assert nothing.value.code == "VALIDATION_FAILED"
    board.close()


def test_no_credential_in_the_widget_state(accounts: Accounts, demo_models: DemoModels) -> None:
    user = accounts.user
    board = user.board([demo_models.swift])
    board.send("Tell me about tokens")
    assert board.wait(timeout=30)
    reopened = user.board(conversation=board.conversation_id)
    token = user._api._auth._token
    for widget in (board, reopened):
        state = json.dumps(widget.get_state(), default=str)
        assert token not in state
        # No JWT of any kind (access, refresh or ticket): header and payload are base64 of
        # JSON objects. (A bare "eyJ" also turns up in the bundle's base64 font data.)
        assert not JWT.search(state), JWT.search(state)
        assert "Bearer" not in state
        assert token not in repr(widget._backend)
    assert token not in repr(user) and token not in repr(user._api.__dict__)
    board.close()
    reopened.close()


def test_retry_a_failed_column_and_reopen(
    accounts: Accounts, demo_models: DemoModels, demo_provider
) -> None:
    from tests.chatmore_kernel.conftest import register

    priced = register(
        accounts.admin,
        demo_provider,
        "demo-swift;tps=0",
        pricing={"input": 1.0, "output": 2.0, "currency": "EUR"},
    )
    user = accounts.user
    board = user.board([priced, demo_models.failing])
    ok, broken = (w["id"] for w in board.windows)
    assert [w["currency"] for w in board.windows] == ["EUR", None]
    board.send("Compare SQL and NoSQL")
    assert board.wait(timeout=30)
    first = board.last_turn_id
    assert board.history[str(ok)][0]["cost"] > 0
    retried = board.retry(broken)
    assert retried["window_ids"] == [broken]
    assert board.wait(timeout=30)
    assert [(x["turn_id"], x["replaces_turn_id"]) for x in board.history[str(broken)]] == [
        (first, None),
        (retried["turn_id"], first),
    ]
    reopened = cm.Session.board(user, conversation=board.conversation_id)
    assert reopened.windows == board.windows
    assert [x["replaces_turn_id"] for x in reopened.history[str(broken)]] == [None, first]
    board.close()
    reopened.close()
