"""The conversation list as a sidebar reads it (a preview of the first prompt, a search
by title) and a window added to an open conversation, through the API of a real server
with the demo provider, on SQLite and MariaDB. Every answer is the caller's own."""

from __future__ import annotations

import secrets

import httpx
import pytest
from sqlalchemy import create_engine, select

from server_ext.services.conversations import MAX_WINDOWS
from server_ext.store.conversations import PREVIEW_CHARS
from server_ext.store.tables import experiments
from tests.support.api import Client, make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer


def error_code(answer: httpx.Response) -> str:
    return answer.json()["error"]["code"]


@pytest.fixture
def admin(server: JupyterServer) -> Client:
    return new_client(server, "admin")


@pytest.fixture
def user(server: JupyterServer) -> Client:
    return new_client(server)


@pytest.fixture
def models(admin: Client, demo_provider: DemoProvider) -> list[int]:
    return make_models(admin, demo_provider.url, ["echo;tps=2000", "demo-swift;tps=2000"])


def listed(client: Client, **query: str) -> list[dict]:
    answer = client.get("api/conversations", params=query)
    assert answer.status_code == 200, answer.text
    return answer.json()["conversations"]


# -- the list: preview and title search ------------------------------------------------------


def test_each_entry_previews_its_first_prompt(user: Client, models: list[int]) -> None:
    untouched = make_conversation(user, models, title="Nothing said yet")
    talked = make_conversation(user, models, title="Joins")
    first = "How do I join two tables? " + "x" * 400
    wait_turn(user, send(user, talked["id"], first)["turn_id"])
    wait_turn(user, send(user, talked["id"], "And a left join?")["turn_id"])

    entries = {c["id"]: c for c in listed(user)}
    assert entries[talked["id"]]["first_prompt"] == first[:PREVIEW_CHARS]
    assert entries[untouched["id"]]["first_prompt"] is None
    # Newest first: the one just talked in leads.
    assert [c["id"] for c in listed(user)][:2] == [talked["id"], untouched["id"]]


def test_search_by_title_any_case_and_only_the_callers(
    user: Client, server: JupyterServer, models: list[int]
) -> None:
    word = secrets.token_hex(4)
    mine = make_conversation(user, models, title=f"SQL {word.upper()} joins")
    make_conversation(user, models, title="Something else")
    other = new_client(server)
    theirs = make_conversation(other, models, title=f"sql {word} joins")

    found = listed(user, q=f"sql {word}")
    assert [c["id"] for c in found] == [mine["id"]]
    assert [c["id"] for c in listed(other, q=word)] == [theirs["id"]]
    # LIKE's wildcards are searched for as text.
    assert listed(user, q="%") == []
    assert listed(user, q="_") == []


def test_a_title_search_pages_like_the_list(user: Client, models: list[int]) -> None:
    word = secrets.token_hex(4)
    made = [make_conversation(user, models, title=f"{word} {i}")["id"] for i in range(3)]
    first = user.get("api/conversations", params={"q": word, "limit": 2}).json()
    assert [c["id"] for c in first["conversations"]] == made[::-1][:2]
    rest = user.get(
        "api/conversations", params={"q": word, "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [c["id"] for c in rest["conversations"]] == [made[0]]
    assert rest["next_cursor"] is None


def test_an_overlong_search_is_refused(user: Client) -> None:
    answer = user.get("api/conversations", params={"q": "x" * 301})
    assert answer.status_code == 400
    assert error_code(answer) == "VALIDATION_FAILED"


# -- adding a window -------------------------------------------------------------------------


def test_a_new_window_joins_from_the_next_turn(user: Client, models: list[int]) -> None:
    echo, swift = models
    conversation = make_conversation(user, [echo])
    old = conversation["windows"][0]["id"]
    wait_turn(user, send(user, conversation["id"], "first")["turn_id"])

    answer = user.post(
        f"api/conversations/{conversation['id']}/windows",
        json={
            "model_id": swift,
            "name": "Swift, cool",
            "params": {"temperature": 0.1, "max_tokens": 64},
            "system_prompt": "Answer briefly.",
        },
    )
    assert answer.status_code == 201, answer.text
    windows = answer.json()["windows"]
    assert windows[0]["id"] == old
    added = windows[-1]
    assert added["name"] == "Swift, cool"
    assert added["params"] == {"temperature": 0.1, "max_tokens": 64}
    assert added["system_prompt"] == "Answer briefly."
    assert added["sort_order"] > windows[0]["sort_order"]
    assert user.get(f"api/conversations/{conversation['id']}").json()["windows"] == windows

    # The next turn goes to both; the new window's chain starts with it.
    turn = send(user, conversation["id"], "second")
    assert turn["window_ids"] == [old, added["id"]]
    wait_turn(user, turn["turn_id"])
    history = user.get(f"api/conversations/{conversation['id']}/messages").json()
    chains = {w["window_id"]: w["messages"] for w in history["windows"]}
    assert [m["content"] for m in chains[added["id"]] if m["role"] == "user"] == ["second"]
    assert [m["content"] for m in chains[old] if m["role"] == "user"] == ["first", "second"]


def test_adding_a_window_is_validated_and_scoped(
    user: Client, admin: Client, server: JupyterServer, models: list[int]
) -> None:
    echo, _ = models
    conversation = make_conversation(user, [echo])
    path = f"api/conversations/{conversation['id']}/windows"

    stranger = new_client(server)
    answer = stranger.post(path, json={"model_id": echo})
    assert answer.status_code == 404
    assert error_code(answer) == "CONVERSATION_NOT_FOUND"
    missing = user.post("api/conversations/999999999/windows", json={"model_id": echo})
    assert missing.status_code == 404

    for body, code in (
        ({}, "VALIDATION_FAILED"),
        ({"model_id": "one"}, "VALIDATION_FAILED"),
        ({"model_id": echo, "params": {"temperature": 9}}, "VALIDATION_FAILED"),
        ({"model_id": echo, "colour": "red"}, "VALIDATION_FAILED"),
        ({"model_id": 999999999}, "MODEL_NOT_FOUND"),
    ):
        answer = user.post(path, json=body)
        assert error_code(answer) == code, (body, answer.text)

    off = make_models(admin, "http://127.0.0.1:9/v1", ["off"], enabled=False)[0]
    assert error_code(user.post(path, json={"model_id": off})) == "MODEL_NOT_FOUND"

    for _ in range(MAX_WINDOWS - 1):
        assert user.post(path, json={"model_id": echo}).status_code == 201
    full = user.post(path, json={"model_id": echo})
    assert full.status_code == 400
    assert error_code(full) == "VALIDATION_FAILED"
    # Nothing of the refused ones was stored.
    stored = user.get(f"api/conversations/{conversation['id']}").json()["windows"]
    assert len(stored) == MAX_WINDOWS


def test_an_experiments_conversation_takes_no_new_window(
    user: Client, server: JupyterServer, models: list[int]
) -> None:
    echo, _ = models
    made = user.post(
        "api/experiments",
        json={"name": "one", "cases": [{"prompt": "hi"}], "windows": [{"model_id": echo}]},
    )
    assert made.status_code == 201, made.text
    engine = create_engine(server.env["CHATMORE_DB_URL"])
    try:
        with engine.connect() as conn:
            conversation_id = conn.execute(
                select(experiments.c.conversation_id).where(experiments.c.id == made.json()["id"])
            ).scalar_one()
    finally:
        engine.dispose()
    answer = user.post(f"api/conversations/{conversation_id}/windows", json={"model_id": echo})
    assert answer.status_code == 400
    assert error_code(answer) == "VALIDATION_FAILED"
