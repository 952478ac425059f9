"""Results and turns: every page of the results API, its filters, and who sees what."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import chatmore_kernel as cm
from chatmore_kernel import result_frames
from tests.chatmore_kernel.conftest import Accounts, DemoModels


def test_results_come_in_many_pages(
    accounts: Accounts, demo_models: DemoModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = accounts.user
    for i in range(4):
        user.ask(f"question {i}", [demo_models.swift, demo_models.scholar])
    whole = user.results()
    assert len(whole) == 8

    requests: list[int] = []
    fetch = result_frames.ApiClient.request

    def counted(self, method, path, **kwargs):
        if path == "api/results":
            requests.append(kwargs["params"]["after_id"])
        return fetch(self, method, path, **kwargs)

    monkeypatch.setattr(result_frames.ApiClient, "request", counted)
    monkeypatch.setattr(result_frames, "PAGE_SIZE", 3)
    paged = user.results()
    assert len(requests) == 3  # 3 + 3 + 2 rows
    assert requests[0] == 0 and requests == sorted(requests)
    pd.testing.assert_frame_equal(paged, whole)
    assert paged["result_id"].is_monotonic_increasing and paged["result_id"].is_unique

    requests.clear()
    monkeypatch.setattr(result_frames, "PAGE_SIZE", 2)  # the last page is full: one more
    assert len(user.results(text=False)) == 8 and len(requests) == 5


def test_filters(accounts: Accounts, demo_models: DemoModels) -> None:
    user = accounts.user
    first = user.ask("the first one", [demo_models.swift, demo_models.scholar])
    middle = pd.Timestamp.now(tz="UTC")
    second = user.ask("the second one", [demo_models.swift])

    by_conversation = user.results(conversation=int(first["conversation_id"].iloc[0]))
    assert by_conversation["prompt"].tolist() == ["the first one"] * 2
    by_model = user.results(model=demo_models.scholar)
    assert by_model["model"].tolist() == [demo_models.scholar]
    assert user.results(since=middle)["prompt"].tolist() == ["the second one"]
    assert user.results(until=middle.to_pydatetime())["prompt"].tolist() == ["the first one"] * 2
    naive_utc = middle.tz_convert(None).to_pydatetime()  # naive times are UTC
    assert len(user.results(since=naive_utc)) == 1
    assert len(user.results(since=dt.date.today() + dt.timedelta(days=1))) == 0
    assert user.turns(model=demo_models.swift)["turn_id"].tolist() == [
        first["turn_id"].iloc[0],
        second["turn_id"].iloc[0],
    ]
    with pytest.raises(cm.ChatMoreError) as bad:
        user.results(since="yesterday")
    assert bad.value.code == "VALIDATION_FAILED" and bad.value.status == 400
    with pytest.raises(cm.ChatMoreError) as unknown:
        user.results(model="no such model")
    assert unknown.value.code == "MODEL_NOT_FOUND"


def test_each_user_sees_their_own_and_admins_everyone(
    accounts: Accounts, demo_models: DemoModels
) -> None:
    mine = accounts.user.ask("a private question", [demo_models.swift])
    conversation = int(mine["conversation_id"].iloc[0])
    admin = accounts.admin
    assert admin.results().empty  # an admin's own results: none yet
    assert admin.results(conversation=conversation).empty  # another user's: nothing
    everyone = admin.results(everyone=True, conversation=conversation)
    assert everyone["prompt"].tolist() == ["a private question"]
    assert everyone["user_id"].tolist() == [accounts.user.user["id"]]
    with pytest.raises(cm.ChatMoreError) as forbidden:
        accounts.user.results(everyone=True)
    assert forbidden.value.code == "FORBIDDEN" and forbidden.value.status == 403


def test_turns_summarise_their_results(accounts: Accounts, demo_models: DemoModels) -> None:
    user = accounts.user
    user.ask("mixed fortunes", [demo_models.swift, demo_models.failing, demo_models.scholar])
    turns = user.turns()
    assert len(turns) == 1
    turn = turns.iloc[0]
    assert turn["prompt"] == "mixed fortunes" and turn["mode"] == "broadcast"
    assert (turn["windows"], turn["succeeded"], turn["failed"], turn["cancelled"]) == (3, 2, 1, 0)
    results = user.results()
    assert turn["created_at"] == results["created_at"].min()
    assert turn["finished_at"] == results["finished_at"].max()


def test_retries_and_edits_name_the_turn_they_replaced(
    accounts: Accounts, demo_models: DemoModels
) -> None:
    user = accounts.user
    board = user.board([demo_models.swift, demo_models.failing])
    ok, broken = (w["id"] for w in board.windows)
    board.send("Compare SQL and NoSQL")
    assert board.wait(timeout=60)
    first = board.last_turn_id
    retried = board.retry(broken)["turn_id"]  # the failed column, again
    assert board.wait(timeout=60)
    edited = board.send("Compare SQL and NoSQL, briefly", [ok], replaces_turn_id=first)
    assert board.wait(timeout=60)
    board.close()

    turns = user.turns().set_index("turn_id")
    assert turns.loc[[retried, edited["turn_id"]], "replaces_turn_id"].tolist() == [first] * 2
    assert pd.isna(turns.loc[first, "replaces_turn_id"])
    for text in (True, False):
        rows = user.results(text=text)
        replaced = rows.dropna(subset=["replaces_turn_id"])
        assert replaced[["turn_id", "replaces_turn_id"]].values.tolist() == [
            [retried, first],
            [edited["turn_id"], first],
        ]
        assert rows.loc[rows["turn_id"] == first, "replaces_turn_id"].isna().tolist() == [True] * 2
