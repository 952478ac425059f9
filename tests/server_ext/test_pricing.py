"""Model prices and each result's cost, through the API of a real server and the demo
provider's process, on SQLite and MariaDB."""

from __future__ import annotations

import pytest

from tests.support.api import Client, make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer
from tests.support.sse import read_events

PRICES = {"input": 2.5, "output": 10.0, "currency": "eur"}


@pytest.fixture
def admin(server: JupyterServer) -> Client:
    return new_client(server, "admin")


def test_prices_set_by_admins_give_each_result_its_cost(
    server: JupyterServer, admin: Client, demo_provider: DemoProvider
) -> None:
    priced, free = make_models(admin, demo_provider.url, ["demo-swift;tps=0", "demo-sage;tps=0"])
    answer = admin.patch(f"api/models/{priced}", json={"pricing": PRICES})
    assert answer.status_code == 200, answer.text
    assert answer.json()["pricing"] == {"input": 2.5, "output": 10.0, "currency": "EUR"}
    assert admin.get(f"api/models/{free}").json()["pricing"] is None

    user = new_client(server)
    conversation = make_conversation(user, [priced, free])
    turn = wait_turn(user, send(user, conversation["id"], "What is a B-tree?")["turn_id"])
    by_model = {r["model_id"]: r for r in turn["results"]}
    row = by_model[priced]
    assert row["status"] == "succeeded" and row["prompt_tokens"] and row["completion_tokens"]
    expected = (row["prompt_tokens"] * 2.5 + row["completion_tokens"] * 10.0) / 1e6
    assert row["cost"] == pytest.approx(expected)
    assert by_model[free]["cost"] is None  # no prices: no cost, not zero
    # the board's footer shows it from the final events
    finals = {
        e.data["model_id"]: e.data for e in read_events(user, turn["id"]) if e.name == "final"
    }
    assert finals[priced]["cost"] == pytest.approx(expected)
    assert finals[free]["cost"] is None

    page = user.get("api/results", params={"conversation_id": conversation["id"]}).json()
    costs = dict(zip(page["results"]["model_id"], page["results"]["cost"], strict=True))
    assert costs == {priced: pytest.approx(expected), free: None}
    assert set(page["results"]["source"]) == {"board"}
    currencies = dict(zip(page["models"]["model_id"], page["models"]["currency"], strict=True))
    assert currencies == {priced: "EUR", free: None}

    usage = {u["model_id"]: u for u in user.get("api/stats/usage").json()["usage"]}
    assert usage[priced]["cost"] == pytest.approx(expected)
    assert usage[priced]["currency"] == "EUR"
    assert usage[free]["cost"] is None and usage[free]["currency"] is None

    # Prices changed later leave past costs as they were; removing them stops new costs.
    assert admin.patch(f"api/models/{priced}", json={"pricing": None}).json()["pricing"] is None
    again = wait_turn(user, send(user, conversation["id"], "And a hash index?")["turn_id"])
    assert {r["model_id"]: r["cost"] for r in again["results"]} == {priced: None, free: None}
    first = user.get(f"api/turns/{turn['id']}").json()
    assert {r["model_id"]: r["cost"] for r in first["results"]}[priced] == pytest.approx(expected)


@pytest.mark.parametrize(
    "pricing",
    [
        {"input": 1},
        {"input": -1, "output": 1},
        {"input": "1", "output": 1},
        {"input": 1, "output": 1, "currency": "dollars"},
        {"input": 1, "output": 1, "tier": "pro"},
        {"input": True, "output": 1},
        [1, 2],
    ],
)
def test_bad_prices_are_refused_and_change_nothing(
    admin: Client, demo_provider: DemoProvider, pricing: object
) -> None:
    (model,) = make_models(admin, demo_provider.url, ["demo-swift"])
    answer = admin.patch(f"api/models/{model}", json={"pricing": pricing})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "VALIDATION_FAILED"
    assert admin.get(f"api/models/{model}").json()["pricing"] is None


def test_only_admins_set_prices(server: JupyterServer, admin: Client, demo_provider) -> None:
    (model,) = make_models(admin, demo_provider.url, ["demo-swift"], pricing=PRICES)
    user = new_client(server)
    refused = user.patch(f"api/models/{model}", json={"pricing": None})
    assert refused.status_code == 403
    # everyone reads the prices of the models they can use
    shown = {m["id"]: m for m in user.get("api/models").json()["models"]}
    assert shown[model]["pricing"]["currency"] == "EUR"
