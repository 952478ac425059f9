"""Experiments through the API of a real server, with the demo provider's process, on
SQLite and MariaDB: every cell a stored result, cancel and resume without duplicates,
replay of a stored conversation, and every call scoped to its owner."""

from __future__ import annotations

import secrets
import time

import pytest
from sqlalchemy import create_engine, func, select

from server_ext.store.tables import experiment_turns, turn_results
from tests.support.api import Client, make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer

PRICES = {"input": 1.0, "output": 4.0, "currency": "USD"}


@pytest.fixture
def admin(server: JupyterServer) -> Client:
    return new_client(server, "admin")


@pytest.fixture
def user(server: JupyterServer) -> Client:
    return new_client(server)


def wait_done(client: Client, experiment_id: int, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.get(f"api/experiments/{experiment_id}").json()
        if found["status"] != "running":
            return found
        time.sleep(0.1)
    raise TimeoutError(f"experiment {experiment_id} did not finish")


def cells(client: Client, experiment_id: int) -> list[dict]:
    rows: list[dict] = []
    after = 0
    while after is not None:
        page = client.get(
            f"api/experiments/{experiment_id}/results", params={"after_id": after, "limit": 7}
        ).json()
        names, values = list(page["results"]), page["results"].values()
        rows += [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
        after = page["next_after_id"]
    return rows


def stored_rows(server: JupyterServer, experiment_id: int) -> tuple[int, int]:
    engine = create_engine(server.env["CHATMORE_DB_URL"])
    try:
        with engine.connect() as conn:
            results = conn.execute(
                select(func.count()).where(turn_results.c.experiment_id == experiment_id)
            ).scalar_one()
            links = conn.execute(
                select(func.count()).where(experiment_turns.c.experiment_id == experiment_id)
            ).scalar_one()
    finally:
        engine.dispose()
    return results, links


def test_every_cell_is_a_result_with_its_cost(
    server: JupyterServer, admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    tag = f"e{secrets.token_hex(3)}"
    (model,) = make_models(admin, demo_provider.url, [f"{tag};tps=0"], pricing=PRICES)
    cases = [
        {"prompt": f"Translate {word} to French", "inputs": {"text": word, "expected": fr}}
        for word, fr in (("cat", "chat"), ("dog", "chien"), ("bird", "oiseau"))
    ]
    body = {
        "name": "translations",
        "cases": cases,
        "windows": [
            {"model_id": model, "name": "cold", "params": {"temperature": 0}},
            {"model_id": model, "name": "warm", "params": {"temperature": 0.7}},
        ],
        "samples": 2,
        "concurrency": 3,
        "template": "Translate {text} to French",
    }
    made = user.post("api/experiments", json=body)
    assert made.status_code == 201, made.text
    experiment = wait_done(user, made.json()["id"])
    assert experiment["status"] == "finished"
    progress = experiment["progress"]
    assert progress["total"] == progress["succeeded"] == 12
    assert progress["pending"] == progress["running"] == progress["failed"] == 0
    assert progress["currency"] == "USD"

    rows = cells(user, experiment["id"])
    assert len(rows) == 12
    windows = {w["id"]: w["name"] for w in experiment["windows"]}
    seen = {(r["case_id"], r["sample"], windows[r["window_id"]]) for r in rows}
    assert len(seen) == 12
    for row in rows:
        assert row["status"] == "succeeded" and row["reply"]
        expected = (row["prompt_tokens"] * 1.0 + row["completion_tokens"] * 4.0) / 1e6
        assert row["cost"] == pytest.approx(expected)
    assert progress["cost"] == pytest.approx(sum(r["cost"] for r in rows))

    sent = demo_provider.requests(model=f"{tag};tps=0")
    assert len(sent) == 12
    # each prompt alone: no other case's context
    assert all(len(r["body"]["messages"]) == 1 for r in sent)
    assert sorted({r["body"]["temperature"] for r in sent}) == [0, 0.7]

    case_page = user.get(f"api/experiments/{experiment['id']}/cases").json()["cases"]
    assert case_page["inputs"][1] == {"text": "dog", "expected": "chien"}

    # the cells are results like any other: source and experiment id, in api/results
    page = user.get("api/results", params={"experiment_id": experiment["id"]}).json()
    assert set(page["results"]["source"]) == {"experiment"}
    assert len(page["results"]["result_id"]) == 12
    # its own conversation stays out of the conversation list
    listed = user.get("api/conversations").json()["conversations"]
    assert all(c["title"] != "translations" for c in listed)
    assert stored_rows(server, experiment["id"]) == (12, 6)


def test_cancel_then_resume_runs_the_rest_without_duplicates(
    server: JupyterServer, admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    (model,) = make_models(admin, demo_provider.url, ["demo-swift;ttft_ms=150;tps=0"])
    body = {
        "cases": [{"prompt": f"question {i}"} for i in range(12)],
        "windows": [{"model_id": model}],
        "concurrency": 2,
    }
    experiment = user.post("api/experiments", json=body).json()
    deadline = time.monotonic() + 30
    while user.get(f"api/experiments/{experiment['id']}").json()["progress"]["succeeded"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stopped = user.post(f"api/experiments/{experiment['id']}/cancel", json={}).json()
    assert stopped["status"] == "cancelled"
    assert stopped["progress"]["running"] == 0
    assert 2 <= stopped["progress"]["succeeded"] < 12
    assert stopped["progress"]["pending"] > 0
    kept = {r["result_id"]: r for r in cells(user, experiment["id"])}

    again = user.post(f"api/experiments/{experiment['id']}/resume", json={})
    assert again.status_code == 200, again.text
    assert user.post(f"api/experiments/{experiment['id']}/resume", json={}).status_code in (
        200,
        409,
    )
    done = wait_done(user, experiment["id"])
    assert done["status"] == "finished"
    assert done["progress"]["succeeded"] == 12
    rows = cells(user, experiment["id"])
    assert len(rows) == 12 and {r["status"] for r in rows} == {"succeeded"}
    assert stored_rows(server, experiment["id"]) == (12, 12)
    # what had succeeded was not run again
    for row in rows:
        if kept.get(row["result_id"], {}).get("status") == "succeeded":
            assert row["finished_at"] == kept[row["result_id"]]["finished_at"]


def test_replay_a_conversation_on_another_model(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    tag = f"r{secrets.token_hex(3)}"
    original, other = make_models(
        admin, demo_provider.url, ["demo-swift;tps=0", f"{tag};tps=0;echo"]
    )
    conversation = make_conversation(user, [original])
    for prompt in ("first question", "second question", "third question"):
        wait_turn(user, send(user, conversation["id"], prompt)["turn_id"])
    made = user.post(
        "api/experiments",
        json={
            "name": "replay",
            "replay_conversation_id": conversation["id"],
            "windows": [{"model_id": other, "system_prompt": "Be brief."}],
        },
    )
    assert made.status_code == 201, made.text
    experiment = wait_done(user, made.json()["id"])
    assert experiment["kind"] == "replay" and experiment["cases"] == 3
    assert experiment["progress"]["succeeded"] == 3
    sent = demo_provider.requests(model=f"{tag};tps=0;echo")
    assert [m["content"] for m in sent[-1]["body"]["messages"]] == [
        "Be brief.",
        "first question",
        "first question",
        "second question",
        "second question",
        "third question",
    ]


def test_experiments_are_their_owners_and_bad_input_is_refused(
    server: JupyterServer, admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    (model,) = make_models(admin, demo_provider.url, ["demo-swift;tps=0"])
    experiment = user.post(
        "api/experiments",
        json={"cases": [{"prompt": "hi"}], "windows": [{"model_id": model}]},
    ).json()
    wait_done(user, experiment["id"])
    stranger = new_client(server)
    for method, path in (
        ("get", ""),
        ("post", "/cancel"),
        ("post", "/resume"),
        ("get", "/results"),
        ("get", "/cases"),
    ):
        call = getattr(stranger, method)
        kwargs = {"json": {}} if method == "post" else {}
        answer = call(f"api/experiments/{experiment['id']}{path}", **kwargs)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "EXPERIMENT_NOT_FOUND"
    assert stranger.get("api/experiments").json()["experiments"] == []
    assert [e["id"] for e in user.get("api/experiments").json()["experiments"]] == [
        experiment["id"]
    ]
    strangers_conversation = make_conversation(stranger, [model])
    bad = [
        {"cases": [], "windows": [{"model_id": model}]},
        {"cases": [{"prompt": ""}], "windows": [{"model_id": model}]},
        {"cases": [{"prompt": "x"}], "windows": []},
        {"cases": [{"prompt": "x"}], "windows": [{"model_id": model, "params": {"top_k": 1}}]},
        {"cases": [{"prompt": "x"}], "windows": [{"model_id": model}], "samples": 0},
        {"cases": [{"prompt": "x"}], "windows": [{"model_id": model}], "concurrency": 10**6},
        {"cases": [{"prompt": "x"}], "windows": [{"model_id": model}], "colour": "red"},
        {"windows": [{"model_id": model}]},
    ]
    for body in bad:
        answer = user.post("api/experiments", json=body)
        assert answer.status_code == 400, body
        assert answer.json()["error"]["code"] == "VALIDATION_FAILED"
    unknown = user.post(
        "api/experiments", json={"cases": [{"prompt": "x"}], "windows": [{"model_id": 987654}]}
    )
    assert unknown.json()["error"]["code"] == "MODEL_NOT_FOUND"
    theirs = user.post(
        "api/experiments",
        json={
            "replay_conversation_id": strangers_conversation["id"],
            "windows": [{"model_id": model}],
        },
    )
    assert theirs.json()["error"]["code"] == "CONVERSATION_NOT_FOUND"
    assert [e["id"] for e in user.get("api/experiments").json()["experiments"]] == [
        experiment["id"]
    ]


def test_a_killed_server_leaves_it_interrupted_and_resume_finishes_it(
    make_server, demo_provider: DemoProvider
) -> None:
    server = make_server()
    admin, user = new_client(server, "admin"), new_client(server)
    (model,) = make_models(admin, demo_provider.url, ["demo-swift;ttft_ms=300;tps=0"])
    experiment = user.post(
        "api/experiments",
        json={
            "cases": [{"prompt": f"question {i}"} for i in range(16)],
            "windows": [{"model_id": model}],
            "concurrency": 2,
        },
    ).json()
    deadline = time.monotonic() + 30
    while user.get(f"api/experiments/{experiment['id']}").json()["progress"]["succeeded"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    server.kill()
    server.start()

    after = user.get(f"api/experiments/{experiment['id']}").json()
    assert after["status"] == "interrupted"
    assert after["progress"]["running"] == 0 and after["progress"]["pending"] > 0
    assert user.post(f"api/experiments/{experiment['id']}/resume", json={}).status_code == 200
    done = wait_done(user, experiment["id"])
    assert done["status"] == "finished" and done["progress"]["succeeded"] == 16
    assert stored_rows(server, experiment["id"]) == (16, 16)


def test_cancel_after_every_cell_started_ends_each_of_them(
    server: JupyterServer, admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    (model,) = make_models(admin, demo_provider.url, ["demo-sage;ttft_ms=100;tps=5"])
    experiment = user.post(
        "api/experiments",
        json={
            "cases": [{"prompt": f"question {i}"} for i in range(3)],
            "windows": [{"model_id": model}, {"model_id": model, "params": {"top_p": 0.5}}],
            "concurrency": 16,
        },
    ).json()
    deadline = time.monotonic() + 30
    while user.get(f"api/experiments/{experiment['id']}").json()["progress"]["running"] < 6:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stopped = user.post(f"api/experiments/{experiment['id']}/cancel", json={}).json()
    assert stopped["status"] == "cancelled"
    assert stopped["progress"]["running"] == 0
    assert stopped["progress"]["cancelled"] == 6
    rows = cells(user, experiment["id"])
    assert {r["status"] for r in rows} == {"cancelled"}
    assert {r["error_code"] for r in rows} == {"CANCELLED"}


def test_a_cancel_amid_a_launch_answers_once_every_cell_has_ended(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    # Instant replies two at a time: a new batch is stored and launched nearly all the
    # time, so the cancels below arrive, some of them, while a launch is under way.
    (model,) = make_models(admin, demo_provider.url, ["demo-swift;ttft_ms=0;tps=0"])
    body = {
        "cases": [{"prompt": f"question {i}"} for i in range(400)],
        "windows": [{"model_id": model}],
        "concurrency": 2,
    }
    for wait in (0.3, 0.5, 0.7, 0.9, 1.1):
        experiment = user.post("api/experiments", json=body).json()
        time.sleep(wait)
        stopped = user.post(f"api/experiments/{experiment['id']}/cancel", json={}).json()
        assert stopped["status"] == "cancelled"
        assert stopped["progress"]["running"] == 0
        statuses = {r["status"] for r in cells(user, experiment["id"])}
        assert not statuses & {"queued", "streaming"}
