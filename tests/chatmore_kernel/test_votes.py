"""Votes on turns through the notebook API and the HTTP API: stored, changed by their
author, scoped to the caller, and bad votes refused without a row written."""

from __future__ import annotations

import pytest

import chatmore_kernel as cm
from tests.chatmore_kernel.conftest import Accounts, DemoModels
from tests.support.api import login


def test_a_vote_is_stored_changed_and_listed(accounts: Accounts, demo_models: DemoModels) -> None:
    user = accounts.user
    turn = user.ask("Which is better?", [demo_models.swift, demo_models.scholar])
    swift, scholar = (
        int(turn.loc[turn["model"] == name, "result_id"].iloc[0])
        for name in (demo_models.swift, demo_models.scholar)
    )
    first = user.vote(turn, winner=demo_models.scholar, blind=True)
    assert first["outcome"] == "best" and first["winner_result_id"] == scholar
    assert first["conversation_id"] == int(turn["conversation_id"].iloc[0])
    assert first["loser_result_ids"] == [swift] and first["blind"] is True
    assert sorted(first["result_ids"]) == sorted([swift, scholar])

    again = user.vote(int(turn["turn_id"].iloc[0]), winner="tie")
    assert again["id"] == first["id"] and again["outcome"] == "tie"
    assert again["winner_result_id"] is None and again["loser_result_ids"] == []

    votes = user.votes()
    assert len(votes) == 1
    row = votes.iloc[0]
    assert row["vote_id"] == first["id"] and row["outcome"] == "tie"
    assert row["blind"] == False  # noqa: E712 - a pandas boolean
    assert row["updated_at"] >= row["created_at"]
    assert user.vote(turn, winner=swift)["winner_result_id"] == swift


def test_votes_over_the_http_api(accounts: Accounts, demo_models: DemoModels) -> None:
    user = accounts.user
    turn = user.ask("three of them", [demo_models.swift, demo_models.scholar, demo_models.failing])
    turn_id = int(turn["turn_id"].iloc[0])
    results = sorted(int(r) for r in turn["result_id"])
    client = login(accounts.server, accounts.user_email)

    created = client.post("api/votes", json={"turn_id": turn_id, "winner": "all_bad"})
    assert created.status_code == 201, created.text
    vote = created.json()
    assert vote["outcome"] == "all_bad" and sorted(vote["result_ids"]) == results

    put = client.http.put(
        f"api/votes/{vote['id']}",
        headers=client.auth,
        json={"winner": results[0], "result_ids": results[:2]},
    )
    assert put.status_code == 200, put.text
    assert put.json()["loser_result_ids"] == [results[1]]
    assert client.get(f"api/votes/{vote['id']}").json()["winner_result_id"] == results[0]
    assert client.post("api/votes", json={"turn_id": turn_id, "winner": "tie"}).status_code == 200
    assert client.get(f"api/votes?turn_id={turn_id}").json()["votes"][0]["outcome"] == "tie"

    deleted = client.http.delete(f"api/votes/{vote['id']}", headers=client.auth)
    assert deleted.status_code == 204
    assert client.get(f"api/votes/{vote['id']}").status_code == 404
    assert client.get("api/votes").json()["votes"] == []
    for bad in ("colour=red", "turn_id=x", "from=yesterday", "scope=everyone"):
        answer = client.get(f"api/votes?{bad}")
        assert answer.status_code == 400, bad
        assert answer.json()["error"]["code"] == "VALIDATION_FAILED"
    assert client.get("api/scores?colour=red").status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"winner": "tie"}, "turn_id"),
        ({"turn_id": "1", "winner": "tie"}, "turn_id"),
        ({"winner": "the best"}, "winner"),
        ({"winner": None}, "winner"),
        ({"winner": 10**12}, "winner"),
        ({"winner": "tie", "result_ids": "all"}, "result_ids"),
        ({"winner": "tie", "result_ids": [1, 1]}, "result_ids"),
        ({"winner": "tie", "blind": "yes"}, "blind"),
        ({"winner": "tie", "colour": "red"}, "colour"),
    ],
)
def test_bad_votes_are_refused(
    accounts: Accounts, demo_models: DemoModels, body: dict, field: str
) -> None:
    turn = accounts.user.ask("hello", [demo_models.swift, demo_models.scholar])
    client = login(accounts.server, accounts.user_email)
    if field != "turn_id":
        body = {"turn_id": int(turn["turn_id"].iloc[0]), **body}
    answer = client.post("api/votes", json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "VALIDATION_FAILED" and error["details"]["field"] == field
    assert accounts.user.votes().empty


def test_one_result_is_no_comparison_and_foreign_results_are_refused(
    accounts: Accounts, demo_models: DemoModels
) -> None:
    user = accounts.user
    single = user.ask("alone", [demo_models.swift])
    other = user.ask("pair", [demo_models.swift, demo_models.scholar])
    with pytest.raises(cm.ChatMoreError) as alone:
        user.vote(single, winner="tie")
    assert alone.value.code == "VALIDATION_FAILED"
    with pytest.raises(cm.ChatMoreError) as foreign:  # a result of another turn
        user.vote(other, winner=int(single["result_id"].iloc[0]))
    assert foreign.value.code == "VALIDATION_FAILED"
    with pytest.raises(cm.ChatMoreError) as unknown:
        user.vote(other, winner="no such column")
    assert unknown.value.code == "VALIDATION_FAILED"
    assert user.votes().empty


def test_another_users_turn_and_vote_are_not_found(
    accounts: Accounts, demo_models: DemoModels
) -> None:
    turn = accounts.user.ask("mine", [demo_models.swift, demo_models.scholar])
    vote = accounts.user.vote(turn, winner="tie")
    admin = accounts.admin
    with pytest.raises(cm.ChatMoreError) as theirs:
        admin.vote(int(turn["turn_id"].iloc[0]), winner="tie")
    assert theirs.value.code == "TURN_NOT_FOUND" and theirs.value.status == 404
    client = login(accounts.server, accounts.admin_email)
    assert client.get(f"api/votes/{vote['id']}").json()["error"]["code"] == "VOTE_NOT_FOUND"
    put = client.http.put(f"api/votes/{vote['id']}", headers=client.auth, json={"winner": "tie"})
    assert put.status_code == 404
    assert client.http.delete(f"api/votes/{vote['id']}", headers=client.auth).status_code == 404
    assert admin.votes().empty
    assert admin.votes(everyone=True)["vote_id"].tolist().count(vote["id"]) == 1
    with pytest.raises(cm.ChatMoreError) as forbidden:
        accounts.user.votes(everyone=True)
    assert forbidden.value.code == "FORBIDDEN"
    assert accounts.user.votes()["outcome"].tolist() == ["tie"]
