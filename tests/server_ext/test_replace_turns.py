"""A turn that replaces the last one (a retry, an edited prompt), end to end on SQLite and
MariaDB: the old turn stays stored and listed, but no model sees it as context again."""

from __future__ import annotations

import secrets

import pytest

from tests.support.api import Client, make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer


@pytest.fixture
def admin(server: JupyterServer) -> Client:
    return new_client(server, "admin")


@pytest.fixture
def user(server: JupyterServer) -> Client:
    return new_client(server)


def tag() -> str:
    return f"r{secrets.token_hex(4)}"


def chain(user: Client, conversation_id: int, window_id: int) -> list[dict]:
    answer = user.get(
        f"api/conversations/{conversation_id}/messages", params={"window_id": window_id}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["windows"][0]["messages"]


def refusal(user: Client, conversation_id: int, body: dict) -> dict:
    answer = user.post(f"api/conversations/{conversation_id}/messages", json=body)
    assert answer.status_code == 400, answer.text
    return answer.json()["error"]


def test_a_retry_after_a_failure_sends_the_prompt_once_and_keeps_the_failure(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    ok_name, failing = tag(), f"{tag()};fault=server_error"
    models = make_models(admin, demo_provider.url, [ok_name, failing])
    conversation = make_conversation(user, models)
    ok, broken = (w["id"] for w in conversation["windows"])
    first = wait_turn(user, send(user, conversation["id"], "one")["turn_id"])
    status = {r["window_id"]: r["status"] for r in first["results"]}
    assert status == {ok: "succeeded", broken: "failed"}

    retry = send(
        user, conversation["id"], "one", window_ids=[broken], replaces_turn_id=first["id"]
    )
    assert retry["window_ids"] == [broken] and retry["mode"] == "single"
    assert retry["replaces_turn_id"] == first["id"]
    turn = wait_turn(user, retry["turn_id"])
    assert turn["replaces_turn_id"] == first["id"]
    assert [r["window_id"] for r in turn["results"]] == [broken]

    # Upstream, the retry carried the prompt once: not the failed attempt's as well.
    calls = demo_provider.requests(model=failing)
    assert [m["content"] for m in calls[-1]["body"]["messages"]] == ["one"]

    # The failed attempt stays stored and listed; the retry says what it replaced.
    messages = chain(user, conversation["id"], broken)
    assert [(m["turn_id"], m["role"]) for m in messages] == [
        (first["id"], "user"),
        (first["id"], "assistant"),
        (retry["turn_id"], "user"),
        (retry["turn_id"], "assistant"),
    ]
    assert messages[1]["result"]["status"] == "failed"
    assert messages[0]["replaces_turn_id"] is None
    assert messages[2]["replaces_turn_id"] == first["id"]

    # Later turns leave the replaced attempt out too; the other window never saw a retry.
    wait_turn(user, send(user, conversation["id"], "two")["turn_id"])
    sent = demo_provider.requests(model=failing)[-1]["body"]["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [("user", "one"), ("user", "two")]
    sent = demo_provider.requests(model=ok_name)[-1]["body"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]


def test_an_edited_prompt_replaces_the_last_exchange_in_every_window(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    names = [tag(), tag()]
    models = make_models(admin, demo_provider.url, names)
    conversation = make_conversation(user, models)
    a, b = (w["id"] for w in conversation["windows"])
    first = wait_turn(user, send(user, conversation["id"], "first")["turn_id"])
    second = wait_turn(user, send(user, conversation["id"], "secnod, typo")["turn_id"])

    edited = send(user, conversation["id"], "second", replaces_turn_id=second["id"])
    assert edited["window_ids"] == [a, b] and edited["mode"] == "broadcast"
    wait_turn(user, edited["turn_id"])
    for name in names:
        sent = demo_provider.requests(model=name)[-1]["body"]["messages"]
        assert [(m["role"], m["content"]) for m in sent if m["role"] == "user"] == [
            ("user", "first"),
            ("user", "second"),
        ]
        assert len(sent) == 3  # first, its reply, the edited prompt
    # Both turns stay, in order.
    turns = [m["turn_id"] for m in chain(user, conversation["id"], a) if m["role"] == "user"]
    assert turns == [first["id"], second["id"], edited["turn_id"]]

    # Retrying the edit replaces the edit, in window a only: b keeps its own chain.
    again = send(
        user, conversation["id"], "second", window_ids=[a], replaces_turn_id=edited["turn_id"]
    )
    wait_turn(user, again["turn_id"])
    sent = demo_provider.requests(model=names[0])[-1]["body"]["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["first", "second"]
    wait_turn(user, send(user, conversation["id"], "third", window_ids=[b])["turn_id"])
    sent = demo_provider.requests(model=names[1])[-1]["body"]["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["first", "second", "third"]


def test_only_the_last_turn_of_each_window_can_be_replaced(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    models = make_models(admin, demo_provider.url, [tag(), tag()])
    conversation = make_conversation(user, models)
    a, b = (w["id"] for w in conversation["windows"])
    cid = conversation["id"]
    first = wait_turn(user, send(user, cid, "first")["turn_id"])
    fork = wait_turn(user, send(user, cid, "only a", window_ids=[a])["turn_id"])

    older = refusal(user, cid, {"content": "x", "replaces_turn_id": first["id"]})
    assert older["code"] == "VALIDATION_FAILED"
    assert older["details"]["window_ids"] == [a]
    # Window b never took part in the fork: there is nothing of it to replace there.
    absent = refusal(
        user, cid, {"content": "x", "window_ids": [b], "replaces_turn_id": fork["id"]}
    )
    assert absent["details"]["field"] == "replaces_turn_id"
    # Window b's last turn is still the first one: a retry there is fine.
    retry = send(user, cid, "first", window_ids=[b], replaces_turn_id=first["id"])
    wait_turn(user, retry["turn_id"])

    # Another conversation's turn, or one that does not exist, is not this one's.
    other = make_conversation(user, models)
    foreign = wait_turn(user, send(user, other["id"], "elsewhere")["turn_id"])
    for turn_id in (foreign["id"], 10**9):
        stranger = refusal(user, cid, {"content": "x", "replaces_turn_id": turn_id})
        assert stranger["details"]["field"] == "replaces_turn_id"
    for bad in (0, -1, "3", True, 1.5):
        assert refusal(user, cid, {"content": "x", "replaces_turn_id": bad})["code"] == (
            "VALIDATION_FAILED"
        )

    # Nothing refused was stored: the fork is still window a's last turn.
    again = send(user, cid, "only a", window_ids=[a], replaces_turn_id=fork["id"])
    wait_turn(user, again["turn_id"])
