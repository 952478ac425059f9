"""``cm.ask``: one prompt to several models without a widget, waiting on the turn's stream."""

from __future__ import annotations

import time

import pytest

import chatmore_kernel as cm
from tests.chatmore_kernel.conftest import Accounts, DemoModels, register
from tests.support.providers import DemoProvider


def test_ask_returns_the_turns_rows(accounts: Accounts, demo_models: DemoModels) -> None:
    rows = accounts.user.ask(
        "Explain SQL joins",
        [demo_models.swift, demo_models.scholar, demo_models.swift],
        params={"temperature": 0.2, "max_tokens": 300},
        system_prompt="Answer briefly.",
    )
    assert rows["model"].tolist() == [demo_models.swift, demo_models.scholar, demo_models.swift]
    assert rows["status"].tolist() == ["succeeded"] * 3
    assert rows["turn_id"].nunique() == 1 and rows["prompt"].eq("Explain SQL joins").all()
    assert rows["reply"].str.len().gt(20).all()
    assert [p["temperature"] for p in rows["params"]] == [0.2] * 3
    assert rows["source"].tolist() == ["ask"] * 3  # told apart from a board's (DESIGN §11)
    conversation = accounts.user.conversations().iloc[0]
    assert conversation["title"] == "Explain SQL joins"


def test_asked_turns_are_told_apart_from_a_boards(
    accounts: Accounts, demo_models: DemoModels
) -> None:
    """DESIGN §11: cm.ask's results are stored with source "ask", a board's with "board";
    the results, the turns and the usage by source read them so."""
    user = accounts.user
    swift, scholar = demo_models.swift, demo_models.scholar
    asked = user.ask("Asked without a widget", [swift, scholar])
    board = user.board([swift])
    board.send("Sent on a board")
    assert board.wait(timeout=60)
    board.close()

    results = user.results()
    of_turn = results.groupby("turn_id", observed=True)["source"].agg(lambda s: sorted(s))
    assert of_turn[int(asked["turn_id"].iloc[0])] == ["ask", "ask"]
    assert of_turn[board.last_turn_id] == ["board"]
    turns = user.turns()
    assert dict(zip(turns["prompt"], turns["source"], strict=True)) == {
        "Asked without a widget": "ask",
        "Sent on a board": "board",
    }
    usage = user.stats(by="source")
    calls = zip(usage["model_name"], usage["source"], usage["calls"], strict=True)
    assert sorted(calls) == sorted([(swift, "ask", 1), (scholar, "ask", 1), (swift, "board", 1)])
    assert user.stats(source="ask")["calls"].sum() == 2


def test_ask_with_windows_of_one_model(accounts: Accounts, demo_models: DemoModels) -> None:
    sweep = [
        {"model": demo_models.swift, "name": f"t={t}", "params": {"temperature": t}}
        for t in (0.0, 0.7, 1.4)
    ]
    rows = accounts.user.ask("Name a colour", sweep)
    assert rows["window"].tolist() == ["t=0.0", "t=0.7", "t=1.4"]
    assert [p["temperature"] for p in rows["params"]] == [0.0, 0.7, 1.4]


def test_ask_gives_up_after_its_timeout_and_cancels(
    accounts: Accounts, demo_provider: DemoProvider
) -> None:
    # Tokens come steadily (the server's idle limit is never reached) for ten minutes.
    slow = register(accounts.admin, demo_provider, "demo-sage;ttft_ms=0;tps=4;tokens=2400")
    with pytest.raises(cm.ChatMoreError) as late:
        accounts.user.ask("take your time", [slow], timeout=1.5)
    assert late.value.code == "TIMEOUT"
    # The turn was cancelled on the server, not left running: it gave up on its own
    # timeout (the reply would have taken ten minutes).
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        results = accounts.user.results()
        if results["status"].iloc[0] != "streaming":
            break
        time.sleep(0.1)
    assert results["status"].tolist() == ["cancelled"]
    assert results["error_code"].tolist() == ["CANCELLED"]


def test_ask_refuses_unknown_models_and_empty_prompts(accounts: Accounts) -> None:
    with pytest.raises(cm.ChatMoreError) as unknown:
        accounts.user.ask("hello", ["no such model"])
    assert unknown.value.code == "MODEL_NOT_FOUND"
    with pytest.raises(cm.ChatMoreError) as empty:
        accounts.user.ask("   ", ["no such model"])
    assert empty.value.code == "VALIDATION_FAILED"
