"""GET /chatmore/api/stats/usage over real turns, checked against pandas over the rows
the server stored (the store-level tests cover the figures on generated histories)."""

from __future__ import annotations

import datetime as dt
import secrets

import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select, update

from server_ext.store.tables import turn_results
from tests.support.api import make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer


def stored(server: JupyterServer, user_id: int) -> pd.DataFrame:
    engine = create_engine(server.env["CHATMORE_DB_URL"])
    with engine.connect() as conn:
        rows = conn.execute(select(turn_results).where(turn_results.c.user_id == user_id))
        frame = pd.DataFrame(rows.mappings().all())
    engine.dispose()
    return frame


def test_usage_matches_pandas_over_the_stored_rows(
    server: JupyterServer, demo_provider: DemoProvider
) -> None:
    admin, user, other = new_client(server, "admin"), new_client(server), new_client(server)
    ok, failing = make_models(
        admin,
        demo_provider.url,
        [f"s{secrets.token_hex(3)};tps=400", f"f{secrets.token_hex(3)};fault=server_error"],
    )
    conversation = make_conversation(user, [ok, failing])
    for i in range(4):
        wait_turn(user, send(user, conversation["id"], f"question {i}")["turn_id"])
    wait_turn(other, send(other, make_conversation(other, [ok])["id"], "elsewhere")["turn_id"])

    answer = user.get("api/stats/usage")
    assert answer.status_code == 200
    body = answer.json()
    assert body["group_by"] == "model" and body["scope"] == "mine"
    usage = {row["model_id"]: row for row in body["usage"]}
    rows = stored(server, user.user["id"])

    good = rows[rows.model_id == ok]
    succeeded = good[good.status == "succeeded"]
    assert usage[ok]["calls"] == len(good) == 4
    assert usage[ok]["succeeded"] == 4 and usage[ok]["success_rate"] == 1.0
    assert usage[ok]["latency_ms_avg"] == pytest.approx(succeeded.latency_ms.mean())
    assert usage[ok]["latency_ms_p50"] == succeeded.latency_ms.quantile(0.5)
    assert usage[ok]["latency_ms_p95"] == succeeded.latency_ms.quantile(0.95)
    assert usage[ok]["ttft_ms_p95"] == succeeded.ttft_ms.quantile(0.95)
    assert usage[ok]["completion_tokens"] == good.completion_tokens.sum()
    rated = succeeded[succeeded.decode_ms > 0]
    assert usage[ok]["output_tokens_per_s"] == pytest.approx(
        rated.completion_tokens.sum() / (rated.decode_ms.sum() / 1000)
    )

    # A model whose calls all failed: counted, no timings.
    bad = usage[failing]
    assert (bad["calls"], bad["failed"], bad["success_rate"]) == (4, 4, 0.0)
    assert bad["latency_ms_p50"] is None and bad["ttft_ms_avg"] is None

    # The other user's turn is not counted, unless an admin asks for everyone.
    everyone = admin.get("api/stats/usage", params={"scope": "all", "model_id": ok}).json()
    assert everyone["usage"][0]["calls"] == 5
    assert user.get("api/stats/usage", params={"scope": "all"}).status_code == 403

    # By day, and an empty range.
    today = dt.datetime.now(dt.UTC).date()
    by_day = user.get("api/stats/usage", params={"group_by": "day"}).json()["usage"]
    assert {row["day"] for row in by_day} == {today.isoformat()}
    empty = user.get("api/stats/usage", params={"from": "2020-01-01", "to": "2020-02-01"}).json()
    assert empty["usage"] == []


def test_usage_by_source(server: JupyterServer, demo_provider: DemoProvider) -> None:
    admin, user = new_client(server, "admin"), new_client(server)
    (ok,) = make_models(admin, demo_provider.url, [f"s{secrets.token_hex(3)};tps=400"])
    conversation = make_conversation(user, [ok])
    for i in range(3):
        wait_turn(user, send(user, conversation["id"], f"question {i}")["turn_id"])
    # One call recorded by the gateway, which writes its source so (standing in for it).
    engine = create_engine(server.env["CHATMORE_DB_URL"])
    with engine.begin() as conn:
        first = conn.execute(
            select(func.min(turn_results.c.id)).where(turn_results.c.user_id == user.user["id"])
        ).scalar_one()
        conn.execute(
            update(turn_results).where(turn_results.c.id == first).values(source="gateway")
        )
    engine.dispose()

    body = user.get("api/stats/usage", params={"group_by": "source"}).json()
    assert body["group_by"] == "source"
    assert [(r["source"], r["calls"]) for r in body["usage"]] == [("board", 2), ("gateway", 1)]
    gateway = user.get("api/stats/usage", params={"source": "gateway"}).json()
    assert gateway["source"] == "gateway" and [r["calls"] for r in gateway["usage"]] == [1]
    assert "source" not in gateway["usage"][0]
    both = user.get("api/stats/usage", params={"group_by": "day,source"}).json()["usage"]
    assert [(r["day"], r["source"]) for r in both] == [
        (dt.datetime.now(dt.UTC).date().isoformat(), s) for s in ("board", "gateway")
    ]
    bad = user.get("api/stats/usage", params={"source": "<script>"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_FAILED"


def test_usage_rejects_bad_queries(server: JupyterServer) -> None:
    user = new_client(server)
    for params in (
        {"from": "soon"},
        {"group_by": "week"},
        {"model_id": "abc"},
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"scope": "galaxy"},
        {"colour": "blue"},
    ):
        answer = user.get("api/stats/usage", params=params)
        assert answer.status_code == 400, params
        assert answer.json()["error"]["code"] == "VALIDATION_FAILED"
