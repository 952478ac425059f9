"""The board's synced traits: documented, sensible defaults, and validated."""

from __future__ import annotations

import pytest
import traitlets

from widgets import Board

PUBLIC_TRAITS = ("windows", "history", "conversation_id", "title", "transport", "height")


def test_defaults() -> None:
    board = Board()
    assert board.windows == []
    assert board.history == {}
    assert board.conversation_id is None
    assert board.title == ""
    assert board.transport == "auto"
    assert board.height == 520


def test_public_traits_are_synced_and_documented() -> None:
    traits = Board().traits(sync=True)
    for name in PUBLIC_TRAITS:
        assert name in traits, name
        assert traits[name].help, f"{name} has no help text"


def test_windows_are_normalised() -> None:
    board = Board(
        windows=[
            {"id": 4, "model_name": "gpt-x"},
            {"id": 5, "name": "hot", "params_diff": {"temperature": 1.5}},
        ]
    )
    assert board.windows == [
        {
            "id": 4,
            "name": "gpt-x",
            "model_name": "gpt-x",
            "params_diff": {},
            "effective_params": {},
            "system_prompt": None,
            "currency": None,
        },
        {
            "id": 5,
            "name": "hot",
            "model_name": "",
            "params_diff": {"temperature": 1.5},
            "effective_params": {},
            "system_prompt": None,
            "currency": None,
        },
    ]


@pytest.mark.parametrize(
    "windows",
    [
        [{"name": "no id"}],
        [{"id": "1"}],
        [{"id": True}],
        [{"id": 1}, {"id": 1}],
        [{"id": 1, "params_diff": ["temperature"]}],
        [{"id": 1, "effective_params": "temperature=1"}],
    ],
)
def test_bad_windows_are_refused(windows: list) -> None:
    with pytest.raises(traitlets.TraitError):
        Board(windows=windows)


def test_history_is_normalised() -> None:
    board = Board(
        history={1: [{"turn_id": 3, "prompt": "q", "reply": "a", "status": "succeeded"}]}
    )
    assert list(board.history) == ["1"]
    exchange = board.history["1"][0]
    assert exchange["status"] == "succeeded"
    assert exchange["error"] is None
    assert exchange["ttft_ms"] is None


@pytest.mark.parametrize(
    "history",
    [
        {"1": [{"prompt": "no turn id"}]},
        {"1": [{"turn_id": 1, "status": "done"}]},
        {"1": [{"turn_id": 1, "error": "oops"}]},
        {"1": [{"turn_id": 1, "latency_ms": "fast"}]},
        {"1": [{"turn_id": 2, "replaces_turn_id": "1"}]},
        {"1": "not a list"},
        ["not", "a", "dict"],
    ],
)
def test_bad_history_is_refused(history: object) -> None:
    with pytest.raises(traitlets.TraitError):
        Board(history=history)


def test_transport_and_height_are_checked() -> None:
    board = Board(transport="relay", height=300, conversation_id="c-1", title="Sweep")
    assert (board.transport, board.height, board.conversation_id) == ("relay", 300, "c-1")
    with pytest.raises(traitlets.TraitError):
        board.transport = "websocket"
    with pytest.raises(traitlets.TraitError):
        board.height = 20


def test_backend_must_be_a_board_backend() -> None:
    with pytest.raises(TypeError, match="BoardBackend"):
        Board(object())  # type: ignore[arg-type]
