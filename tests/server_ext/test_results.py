"""GET /chatmore/api/results: the rows notebooks turn into DataFrames."""

from __future__ import annotations

import re
import secrets

from tests.support.api import Client, make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer


def rows_of(answer) -> list[dict]:
    """The page's rows, each with what it points to looked up (as a client does)."""
    page = answer.json()
    results = page["results"]
    side = {
        key: {
            values[0]: dict(zip(table, values, strict=True))
            for values in zip(*table.values(), strict=True)
        }
        for key, table in (
            ("turn_id", page["turns"]),
            ("window_id", page["windows"]),
            ("model_id", page["models"]),
        )
        if table[key]
    }
    rows = []
    for values in zip(*results.values(), strict=True):
        row = dict(zip(results, values, strict=True))
        for key, found in side.items():
            row |= {k: v for k, v in found[row[key]].items() if k != key}
        rows.append(row)
    return rows


def test_results_are_rows_of_turn_by_window(
    server: JupyterServer, demo_provider: DemoProvider
) -> None:
    admin, alice, bob = new_client(server, "admin"), new_client(server), new_client(server)
    fast, failing = make_models(
        admin,
        demo_provider.url,
        [f"r{secrets.token_hex(3)}", f"r{secrets.token_hex(3)};fault=server_error"],
        default_params={"temperature": 0.3},
    )
    conversation = make_conversation(
        alice,
        [],
        windows=[{"model_id": fast, "params": {"temperature": 1.1}}, {"model_id": failing}],
    )
    first = wait_turn(alice, send(alice, conversation["id"], "first prompt")["turn_id"])
    wait_turn(alice, send(alice, conversation["id"], "second prompt")["turn_id"])

    answer = alice.get("api/results", params={"conversation_id": conversation["id"]})
    assert answer.status_code == 200
    rows = rows_of(answer)
    assert len(rows) == 4
    assert [r["prompt"] for r in rows] == ["first prompt"] * 2 + ["second prompt"] * 2
    ok = rows[0]
    assert ok["status"] == "succeeded" and ok["reply"] == first["results"][0]["reply"]
    assert ok["params"] == {"temperature": 1.1}
    assert ok["completion_tokens"] > 0 and ok["ttft_ms"] <= ok["latency_ms"]
    # UTC, as stored: "YYYY-MM-DD HH:MM:SS.ffffff"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", ok["created_at"])
    assert ok["created_at"] <= ok["started_at"] <= ok["finished_at"]
    assert ok["window"] and ok["model"] and ok["mode"] == "broadcast"
    assert rows[1]["status"] == "failed" and rows[1]["error_code"] == "PROVIDER_HTTP_ERROR"
    assert rows[1]["params"] == {"temperature": 0.3}

    # Paging: one row at a time, in order, to the end.
    seen, after = [], 0
    while True:
        page = alice.get(
            "api/results",
            params={"conversation_id": conversation["id"], "limit": 1, "after_id": after},
        ).json()
        seen += page["results"]["result_id"]
        if page["next_after_id"] is None:
            break
        after = page["next_after_id"]
    assert seen == [r["result_id"] for r in rows]
    # An id range: after_id and before_id are both exclusive.
    ids = seen
    ranged = alice.get("api/results", params={"after_id": ids[0], "before_id": ids[3]}).json()
    assert ranged["results"]["result_id"] == ids[1:3]

    # Without text, and filtered by model.
    lean = alice.get("api/results", params={"text": "false", "model_id": fast}).json()
    assert "reply" not in lean["results"] and "prompt" not in lean["turns"]
    assert "conversations" not in lean
    assert len(lean["results"]["result_id"]) == 2

    # Scoped to the caller; everyone's only for admins.
    assert rows_of(bob.get("api/results", params={"conversation_id": conversation["id"]})) == []
    assert bob.get("api/results", params={"scope": "all"}).status_code == 403
    everyone = rows_of(admin.get("api/results", params={"scope": "all", "model_id": fast}))
    assert {r["user_id"] for r in everyone} == {alice.user["id"]}


def test_results_reject_bad_parameters(server: JupyterServer) -> None:
    client: Client = new_client(server)
    for params in (
        {"from": "yesterday"},
        {"limit": "0"},
        {"limit": "10001"},
        {"model_id": "x"},
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"colour": "red"},
        {"text": "maybe"},
    ):
        answer = client.get("api/results", params=params)
        assert answer.status_code == 400, params
        assert answer.json()["error"]["code"] == "VALIDATION_FAILED"
