"""Fixtures of the widget tests: a comm that records what the board sends, a fake backend."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from typing import Any

import comm
import pytest
from comm import DummyComm

from tests.widgets.fakes import FakeBackend
from widgets import Board

WINDOWS = [
    {"id": 1, "name": "alpha", "model_name": "gpt-a", "params_diff": {}},
    {"id": 2, "name": "beta", "model_name": "gpt-b", "params_diff": {"temperature": 0.2}},
    {
        "id": 3,
        "name": "gamma",
        "model_name": "gpt-c",
        "params_diff": {},
        "system_prompt": "Be brief.",
    },
]


class RecordingComm(DummyComm):
    """A comm with no kernel behind it that keeps every message the widget publishes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: Any = None,
        metadata: Any = None,
        buffers: Any = None,
        **keys: Any,
    ) -> None:
        self.messages.append((msg_type, copy.deepcopy(data or {})))

    def custom(self) -> list[dict[str, Any]]:
        """The custom messages sent to the front end, in order."""
        return [
            data["content"]
            for kind, data in self.messages
            if kind == "comm_msg" and data.get("method") == "custom"
        ]

    def updates(self) -> list[dict[str, Any]]:
        """The trait updates sent to the front end, in order."""
        return [
            data["state"]
            for kind, data in self.messages
            if kind == "comm_msg" and data.get("method") == "update"
        ]

    def receive(self, content: dict[str, Any]) -> None:
        """A custom message from the front end, through the widget's comm handler."""
        self.handle_msg(
            {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
        )


@pytest.fixture(autouse=True)
def recording_comms(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[RecordingComm]]:
    made: list[RecordingComm] = []

    def create(*args: Any, **kwargs: Any) -> RecordingComm:
        made.append(RecordingComm(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(comm, "create_comm", create)
    yield made


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


BoardFactory = Callable[..., Board]


@pytest.fixture
def make_board(backend: FakeBackend) -> Iterator[BoardFactory]:
    boards: list[Board] = []

    def factory(**kwargs: Any) -> Board:
        kwargs.setdefault("windows", WINDOWS)
        board = Board(kwargs.pop("backend", backend), **kwargs)
        boards.append(board)
        return board

    yield factory
    for board in boards:
        board.close()


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll until ``predicate()`` is truthy (the board works in background threads)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")
