"""Export of a conversation as Markdown and JSON, and import of that JSON, end to end on
SQLite and MariaDB."""

from __future__ import annotations

import copy
import json
import secrets

import pytest
from sqlalchemy import create_engine, func, select

from server_ext.store.tables import conversations, messages, turn_results, turns
from tests.support.api import Client, make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer


@pytest.fixture
def admin(server: JupyterServer) -> Client:
    return new_client(server, "admin")


@pytest.fixture
def models(admin: Client, demo_provider: DemoProvider) -> list[int]:
    return make_models(
        admin,
        demo_provider.url,
        ["echo;echo=1;tps=0", "echo;echo=1;tps=0", "x;fault=server_error"],
    )


@pytest.fixture
def conversation(server: JupyterServer, models: list[int]) -> tuple[Client, dict]:
    """A user's conversation of three windows (one failing), two turns, the second a fork."""
    user = new_client(server)
    made = make_conversation(
        user,
        models,
        title="Joins | and <b>more</b>",
        tags=["sql"],
        system_prompt="Be brief.",
        windows=[
            {"model_id": models[0], "name": "cold", "params": {"temperature": 0.1}},
            {"model_id": models[1], "system_prompt": "Answer in French."},
            {"model_id": models[2]},
        ],
    )
    wait_turn(user, send(user, made["id"], "How do I join <two> tables?")["turn_id"])
    first = made["windows"][0]["id"]
    wait_turn(user, send(user, made["id"], "And a left join?", window_ids=[first])["turn_id"])
    return user, made


def rows(server: JupyterServer) -> dict[str, int]:
    engine = create_engine(server.env["CHATMORE_DB_URL"])
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (conversations, turns, turn_results, messages)
            }
    finally:
        engine.dispose()


def test_markdown_has_a_section_per_turn_with_every_column(conversation) -> None:
    user, made = conversation
    answer = user.get(f"api/conversations/{made['id']}/export", params={"format": "md"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/markdown")
    assert "attachment" in answer.headers["content-disposition"]
    text = answer.text
    assert text.startswith("# Joins | and <b>more</b>\n")
    assert text.count("\n## Turn ") == 2
    first, second = text.split("\n## Turn ")[1:]
    assert "> How do I join <two> tables?" in first
    assert first.count("\n### ") == 3 and second.count("\n### ") == 1
    names = [w["model_name"] for w in made["windows"]]
    assert f"### cold ({names[0]})" in first and f"### {names[1]} ({names[1]})" in first
    assert "status: succeeded" in first and "latency: " in first and "tokens: " in first
    assert "params: temperature=0.1" in first
    assert "status: failed (PROVIDER_HTTP_ERROR)" in first
    assert "How do I join <two> tables?" in first.split("### cold")[1]  # the echo
    assert "> And a left join?" in second
    assert "@example.com" not in text


def test_json_export_then_import_rebuilds_the_conversation(
    server: JupyterServer, conversation
) -> None:
    user, made = conversation
    exported = user.get(f"api/conversations/{made['id']}/export", params={"format": "json"})
    assert exported.status_code == 200
    document = exported.json()
    assert document["format"] == "chatmore.conversation" and document["version"] == 1
    assert "@example.com" not in exported.text and "base_url" not in exported.text
    assert [t["content"] for t in document["turns"]] == [
        "How do I join <two> tables?",
        "And a left join?",
    ]
    assert [r["window"] for r in document["turns"][1]["results"]] == [0]

    other = new_client(server)
    imported = other.post("api/conversations/import", json=document)
    assert imported.status_code == 201, imported.text
    copy_ = imported.json()
    assert copy_["id"] != made["id"]
    assert copy_["imported"] == {"turns": 2, "results": 4}
    assert copy_["title"] == made["title"] and copy_["tags"] == ["sql"]
    assert [
        (w["name"], w["model_id"], w["params"], w["system_prompt"]) for w in copy_["windows"]
    ] == [(w["name"], w["model_id"], w["params"], w["system_prompt"]) for w in made["windows"]]
    # Its own now: exported again, it reads the same (apart from its dates).
    again = other.get(f"api/conversations/{copy_['id']}/export", params={"format": "json"})
    original, rebuilt = copy.deepcopy(document), again.json()
    for doc in (original, rebuilt):  # when it was exported, when it was created here
        doc.pop("exported_at"), doc["conversation"].pop("created_at")
    assert rebuilt == original
    # The owner's conversation is not the importer's, and the other way round.
    assert other.get(f"api/conversations/{made['id']}/export").status_code == 404
    assert user.get(f"api/conversations/{copy_['id']}/export").status_code == 404
    # Imported results are told apart from calls made here.
    results = other.get("api/results", params={"conversation_id": copy_["id"]}).json()
    assert len(results["results"]["result_id"]) == 4


def test_missing_models_are_reported_and_nothing_is_written(
    server: JupyterServer, conversation
) -> None:
    user, made = conversation
    document = user.get(f"api/conversations/{made['id']}/export").json()
    ghost = f"ghost-{secrets.token_hex(3)}"
    document["windows"][1]["model"] = ghost
    before = rows(server)
    answer = user.post("api/conversations/import", json=document)
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["code"] == "MODEL_NOT_FOUND" and error["details"]["missing_models"] == [ghost]
    assert rows(server) == before


def hostile_documents(good: dict) -> list[tuple[str, object]]:
    cases: list[tuple[str, object]] = [("not an object", [1, 2]), ("empty", {})]

    def changed(label: str, change) -> None:
        doc = copy.deepcopy(good)
        change(doc)
        cases.append((label, doc))

    changed("other format", lambda d: d.update(format="other"))
    changed("future version", lambda d: d.update(version=2))
    changed("no windows", lambda d: d.update(windows=[]))
    changed("window out of range", lambda d: d["turns"][0]["results"][0].update(window=9))
    changed("negative window", lambda d: d["turns"][0]["results"][0].update(window=-1))
    changed("bool window", lambda d: d["turns"][0]["results"][0].update(window=True))
    changed("streaming status", lambda d: d["turns"][0]["results"][0].update(status="streaming"))
    changed("bad params", lambda d: d["windows"][0].update(params={"temperature": 99}))
    changed("unknown param", lambda d: d["windows"][0].update(params={"api_key": "x"}))
    changed("bad time", lambda d: d["turns"][0].update(created_at="yesterday"))
    changed("huge tokens", lambda d: d["turns"][0]["results"][0].update(total_tokens=2**40))
    changed("reply not text", lambda d: d["turns"][0]["results"][0].update(reply={"x": 1}))
    changed("empty prompt", lambda d: d["turns"][0].update(content=""))
    changed(
        "twice one window",
        lambda d: d["turns"][0]["results"].append(copy.deepcopy(d["turns"][0]["results"][0])),
    )
    changed("bad mode", lambda d: d["turns"][0].update(mode="all"))
    changed("turns not a list", lambda d: d.update(turns={"0": {}}))
    changed("title too long", lambda d: d["conversation"].update(title="x" * 301))
    changed("second turn broken", lambda d: d["turns"][1].update(results=[]))
    return cases


def test_hostile_or_invalid_json_is_refused_and_nothing_is_written(
    server: JupyterServer, conversation
) -> None:
    user, made = conversation
    good = user.get(f"api/conversations/{made['id']}/export").json()
    before = rows(server)
    for label, document in hostile_documents(good):
        answer = user.post("api/conversations/import", json=document)
        assert answer.status_code == 400, (label, answer.text)
        assert answer.json()["error"]["code"] == "VALIDATION_FAILED", label
    for raw in (b"{not json", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b""):
        answer = user.post(
            "api/conversations/import", content=raw, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400, raw[:20]
        assert answer.json()["error"]["code"] == "VALIDATION_FAILED"
    assert rows(server) == before


def test_export_is_the_owners_only_and_formats_are_checked(conversation, server) -> None:
    user, made = conversation
    stranger = new_client(server)
    for fmt in ("md", "json"):
        answer = stranger.get(f"api/conversations/{made['id']}/export", params={"format": fmt})
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "CONVERSATION_NOT_FOUND"
    bad = user.get(f"api/conversations/{made['id']}/export", params={"format": "pdf"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_FAILED"
    assert server.client().get(f"api/conversations/{made['id']}/export").status_code == 401
    json.dumps(made)  # the fixture's conversation stays plain data


def test_a_retried_turn_keeps_what_it_replaced_through_export_and_import(
    server: JupyterServer, models: list[int]
) -> None:
    user = new_client(server)
    made = make_conversation(user, models[:1])
    first = send(user, made["id"], "Name a colour")["turn_id"]
    wait_turn(user, first)
    second = send(user, made["id"], "Name a fruit")["turn_id"]
    wait_turn(user, second)
    retry = send(user, made["id"], "Name a berry", replaces_turn_id=second)["turn_id"]
    wait_turn(user, retry)
    document = user.get(f"api/conversations/{made['id']}/export").json()
    assert [t.get("replaces") for t in document["turns"]] == [None, None, 1]
    markdown = user.get(f"api/conversations/{made['id']}/export", params={"format": "md"}).text
    assert "## Turn 3 — " in markdown and "(in place of turn 2)" in markdown

    other = new_client(server)
    imported = other.post("api/conversations/import", json=document)
    assert imported.status_code == 201, imported.text
    copy_id = imported.json()["id"]
    chain = other.get(f"api/conversations/{copy_id}/messages").json()["windows"][0]["messages"]
    turn_of = {m["content"]: m["turn_id"] for m in chain if m["role"] == "user"}
    berry = next(m for m in chain if m["content"] == "Name a berry")
    assert berry["replaces_turn_id"] == turn_of["Name a fruit"]
    again = other.get(f"api/conversations/{copy_id}/export").json()
    assert [t.get("replaces") for t in again["turns"]] == [None, None, 1]

    before = rows(server)
    for label, replaces in (("itself", 2), ("later", 5), ("negative", -1), ("bool", True)):
        broken = copy.deepcopy(document)
        broken["turns"][2]["replaces"] = replaces
        answer = other.post("api/conversations/import", json=broken)
        assert answer.status_code == 400, label
        assert answer.json()["error"]["code"] == "VALIDATION_FAILED", label
    broken = copy.deepcopy(document)
    broken["turns"][2]["replaces"] = "1"
    assert other.post("api/conversations/import", json=broken).status_code == 400
    assert rows(server) == before
