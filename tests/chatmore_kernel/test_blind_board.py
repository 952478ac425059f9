"""A blind board: its front end gets shuffled columns called Model A, B, … and nothing
that names a model, until the first vote; then the real names, in the same order."""

from __future__ import annotations

import json

import pytest

from tests.chatmore_kernel.conftest import Accounts, DemoModels
from widgets import BoardError


def test_a_blind_board_hides_the_models_until_the_vote(
    accounts: Accounts, demo_models: DemoModels
) -> None:
    user = accounts.user
    models = [demo_models.swift, demo_models.scholar]
    windows = [
        {"model": demo_models.swift, "params": {"temperature": 0.3}},
        {"model": demo_models.scholar, "system_prompt": "Be brief."},
    ]
    board = user.board(windows=windows, blind=True)
    assert board.title == "Blind comparison"  # the default title would name the models
    created = sorted(w["id"] for w in board._hidden_windows)
    shown = [w["id"] for w in board.windows]
    assert shown == sorted(shown, reverse=True) and sorted(shown) == created  # shuffled
    assert [w["name"] for w in board.windows] == ["Model A", "Model B"]
    synced = {k: v for k, v in board.get_state().items() if k not in ("_esm", "_css")}
    state = json.dumps(synced, default=str)
    assert not any(name in state for name in models)
    assert "Be brief." not in state and "0.3" not in state

    board.send("Say something")
    assert board.wait(timeout=60)
    with pytest.raises(BoardError) as unknown:
        board.vote("Model Q")
    assert unknown.value.code == "VALIDATION_FAILED"
    assert user.votes().empty

    stored = board.vote("B")
    assert [w["id"] for w in board.windows] == shown  # same order, now named
    assert {w["model_name"] for w in board.windows} == set(models)
    assert board.votes == {
        str(board.last_turn_id): {"winner": shown[1], "vote_id": stored["id"], "blind": True}
    }
    votes = user.votes()
    assert len(votes) == 1 and votes["blind"].item() == True  # noqa: E712
    rows = user.results(conversation=board).set_index("window_id")
    assert stored["winner_result_id"] == rows.loc[shown[1], "result_id"]
    assert stored["result_ids"] == [int(rows.loc[w, "result_id"]) for w in shown]

    changed = board.vote("tie")  # changed by its author; no longer blind
    assert changed["id"] == stored["id"] and changed["outcome"] == "tie"
    assert user.votes()["blind"].item() == False  # noqa: E712


def test_an_open_board_votes_too(accounts: Accounts, demo_models: DemoModels) -> None:
    board = accounts.user.board([demo_models.swift, demo_models.scholar])
    assert [w["name"] for w in board.windows] == [demo_models.swift, demo_models.scholar]
    with pytest.raises(BoardError):
        board.vote("tie")  # nothing to vote on yet
    board.send("hello")
    assert board.wait(timeout=60)
    stored = board.vote(board.windows[0]["id"])
    assert stored["blind"] is False and stored["outcome"] == "best"
    assert board.vote("both_bad")["outcome"] == "all_bad"
