"""GET /chatmore/api/results: the rows notebooks turn into DataFrames."""

from __future__ import annotations

import re
import secrets

import pyarrow as pa

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


ARROW = "application/vnd.apache.arrow.stream"


def test_results_in_arrow_are_the_json_rows(
    server: JupyterServer, demo_provider: DemoProvider
) -> None:
    admin, alice, bob = new_client(server, "admin"), new_client(server), new_client(server)
    (fast,) = make_models(admin, demo_provider.url, [f"r{secrets.token_hex(3)}"])
    secret = f"alice's own window {secrets.token_hex(3)}"
    conversation = make_conversation(alice, [], windows=[{"model_id": fast, "name": secret}])
    wait_turn(alice, send(alice, conversation["id"], "private prompt ünïcode")["turn_id"])
    bobs = make_conversation(bob, [fast])
    wait_turn(bob, send(bob, bobs["id"], "bob's prompt")["turn_id"])

    answer = alice.get("api/results", headers={"Accept": ARROW})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == ARROW
    table = pa.ipc.open_stream(answer.content).read_all()
    assert table.schema.metadata[b"next_after_id"] == b""  # the last page
    (row,) = table.to_pylist()
    (json_row,) = rows_of(alice.get("api/results"))
    assert row["result_id"] == json_row["result_id"] and row["window"] == secret
    assert row["prompt"] == "private prompt ünïcode" and row["reply"] == json_row["reply"]
    assert row["source"] == "board" == json_row["source"]
    assert row["created_at"].isoformat(sep=" ").startswith(json_row["created_at"][:23])
    assert str(row["created_at"].tzinfo) == "UTC"

    # A filtered page holds only what its rows point to, not the rest of the id range.
    other = make_conversation(alice, [fast])
    wait_turn(alice, send(alice, other["id"], "another prompt")["turn_id"])
    wait_turn(alice, send(alice, conversation["id"], "a later prompt")["turn_id"])
    filtered = alice.get(
        "api/results", params={"conversation_id": conversation["id"]}, headers={"Accept": ARROW}
    )
    assert b"another prompt" not in filtered.content
    assert [r["prompt"] for r in pa.ipc.open_stream(filtered.content).read_all().to_pylist()] == [
        "private prompt ünïcode",
        "a later prompt",
    ]

    # Another user's page holds nothing of Alice's, not even in a dictionary.
    answer = bob.get("api/results", headers={"Accept": ARROW})
    assert secret.encode() not in answer.content and b"private prompt" not in answer.content
    assert [r["prompt"] for r in pa.ipc.open_stream(answer.content).read_all().to_pylist()] == [
        "bob's prompt"
    ]

    # Pages of Arrow may be larger than JSON ones, up to 100,000; errors stay JSON.
    big = alice.get("api/results", params={"limit": "100000"}, headers={"Accept": ARROW})
    assert big.status_code == 200
    for params in ({"limit": "100001"}, {"text": "maybe"}):
        bad = alice.get("api/results", params=params, headers={"Accept": ARROW})
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "VALIDATION_FAILED"
    assert (
        bob.get("api/results", params={"scope": "all"}, headers={"Accept": ARROW}).json()["error"][
            "code"
        ]
        == "FORBIDDEN"
    )


def test_results_name_the_turn_a_retry_or_an_edit_replaced(
    server: JupyterServer, demo_provider: DemoProvider
) -> None:
    admin, alice = new_client(server, "admin"), new_client(server)
    models = make_models(
        admin,
        demo_provider.url,
        [f"r{secrets.token_hex(3)}", f"r{secrets.token_hex(3)};fault=server_error"],
    )
    conversation = make_conversation(alice, models)
    cid = conversation["id"]
    ok, broken = (w["id"] for w in conversation["windows"])
    first = wait_turn(alice, send(alice, cid, "first prompt")["turn_id"])["id"]
    # The failed column retried, then the other column's prompt edited: each in place of
    # the first turn in its own window.
    retry = send(alice, cid, "first prompt", window_ids=[broken], replaces_turn_id=first)
    wait_turn(alice, retry["turn_id"])
    edit = send(alice, cid, "first prompt, edited", window_ids=[ok], replaces_turn_id=first)
    wait_turn(alice, edit["turn_id"])
    later = wait_turn(alice, send(alice, cid, "second prompt")["turn_id"])["id"]
    expected = [
        (first, None),
        (first, None),
        (retry["turn_id"], first),
        (edit["turn_id"], first),
        (later, None),
        (later, None),
    ]

    for text in ("true", "false"):
        params = {"conversation_id": cid, "text": text}
        rows = rows_of(alice.get("api/results", params=params))
        assert [(r["turn_id"], r["replaces_turn_id"]) for r in rows] == expected, text
        arrow = alice.get("api/results", params=params, headers={"Accept": ARROW})
        table = pa.ipc.open_stream(arrow.content).read_all()
        assert table.schema.field("replaces_turn_id").type == pa.int64()
        turns, replaced = table.column("turn_id"), table.column("replaces_turn_id")
        assert list(zip(turns.to_pylist(), replaced.to_pylist(), strict=True)) == expected
