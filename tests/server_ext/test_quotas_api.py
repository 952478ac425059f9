"""Monthly budgets, end to end on SQLite and MariaDB: a user past their token budget is
refused before anything reaches the provider; auth/me shows used and left; admins set a
user's own budget; the default comes from the settings."""

from __future__ import annotations

import secrets

import pytest

from tests.support.api import Client, make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer


def quota(client: Client) -> dict:
    return client.get("auth/me").json()["quota"]


def test_a_user_past_their_budget_is_refused_before_any_call(
    server: JupyterServer, demo_provider: DemoProvider
) -> None:
    admin, user = new_client(server, "admin"), new_client(server)
    tag = f"q{secrets.token_hex(4)}"
    [model] = make_models(admin, demo_provider.url, [f"{tag};tps=0"])
    conversation = make_conversation(user, [model])

    # No default on the shared server: no limit.
    assert quota(user)["tokens"] == {"budget": None, "used": 0, "left": None}
    set_to = admin.http.put(
        f"api/users/{user.user['id']}/quota", headers=admin.auth, json={"monthly_tokens": 10}
    )
    assert set_to.status_code == 200, set_to.text
    assert set_to.json()["tokens"] == {"budget": 10, "used": 0, "left": 10}

    # The first turn runs (the budget is not used up yet) and crosses it.
    wait_turn(user, send(user, conversation["id"], "hello")["turn_id"])
    used = quota(user)["tokens"]
    assert used["used"] > 10 and used["left"] == 0
    demo_provider.clear()
    refused = user.post(
        f"api/conversations/{conversation['id']}/messages", json={"content": "more"}
    )
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "QUOTA_EXCEEDED" and error["details"]["budget"] == 10
    assert demo_provider.requests(model=tag) == []
    turns = user.get("api/results", params={"conversation_id": conversation["id"]}).json()
    assert len(turns["results"]["result_id"]) == 1  # nothing stored for the refused turn

    # An experiment and a gateway call are refused the same way, before any call.
    experiment = user.post(
        "api/experiments", json={"cases": [{"prompt": "x"}], "windows": [{"model_id": model}]}
    )
    assert experiment.status_code == 429, experiment.text
    assert experiment.json()["error"]["code"] == "QUOTA_EXCEEDED"
    key = user.post("api/keys", json={"name": "quota"}).json()["key"]
    model_name = user.get("api/models").json()["models"]
    name = next(m["name"] for m in model_name if m["id"] == model)
    gateway = user.http.post(
        "v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": name, "messages": [{"role": "user", "content": "x"}]},
    )
    assert gateway.status_code == 429, gateway.text
    assert gateway.json()["error"]["code"] == "insufficient_quota"
    assert demo_provider.requests(model=tag) == []

    # Raised (or lifted with 0), the user goes on; another user was never limited.
    admin.http.put(
        f"api/users/{user.user['id']}/quota", headers=admin.auth, json={"monthly_tokens": 0}
    )
    assert quota(user)["tokens"]["budget"] is None
    wait_turn(user, send(user, conversation["id"], "again")["turn_id"])


def test_the_default_budget_applies_unless_a_user_has_their_own(
    make_server, demo_provider: DemoProvider
) -> None:
    server = make_server(env={"CHATMORE_QUOTA_MONTHLY_TOKENS": "5"})
    admin, user = new_client(server, "admin"), new_client(server)
    assert quota(user)["tokens"] == {"budget": 5, "used": 0, "left": 5}
    [model] = make_models(admin, demo_provider.url, ["demo-swift;tps=0"])
    conversation = make_conversation(admin, [model])
    wait_turn(admin, send(admin, conversation["id"], "hello")["turn_id"])
    refused = admin.post(f"api/conversations/{conversation['id']}/messages", json={"content": "x"})
    assert refused.status_code == 429
    own = admin.http.put(
        f"api/users/{admin.user['id']}/quota",
        headers=admin.auth,
        json={"monthly_tokens": None, "monthly_cost": 0},
    )
    assert own.json()["tokens"]["budget"] == 5  # null: the default
    lifted = admin.http.put(
        f"api/users/{admin.user['id']}/quota", headers=admin.auth, json={"monthly_tokens": 0}
    )
    assert lifted.json()["tokens"]["budget"] is None
    wait_turn(admin, send(admin, conversation["id"], "again")["turn_id"])


@pytest.mark.parametrize(
    "body",
    [
        {"monthly_tokens": -1},
        {"monthly_tokens": 1.5},
        {"monthly_tokens": "9"},
        {"monthly_cost": -0.1},
        {"monthly_tokens": True},
        {"budget": 3},
    ],
)
def test_bad_budgets_are_refused_and_only_admins_set_them(server: JupyterServer, body) -> None:
    admin, user = new_client(server, "admin"), new_client(server)
    answer = admin.http.put(f"api/users/{user.user['id']}/quota", headers=admin.auth, json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "VALIDATION_FAILED"
    mine = user.http.put(
        f"api/users/{user.user['id']}/quota", headers=user.auth, json={"monthly_tokens": 0}
    )
    assert mine.status_code == 403
    assert (
        admin.http.put(
            "api/users/999999999/quota", headers=admin.auth, json={"monthly_tokens": 1}
        ).status_code
        == 404
    )


def test_imported_results_use_no_budget(
    server: JupyterServer, demo_provider: DemoProvider
) -> None:
    admin, user = new_client(server, "admin"), new_client(server)
    [model] = make_models(admin, demo_provider.url, ["demo-swift;tps=0"])
    conversation = make_conversation(admin, [model])
    wait_turn(admin, send(admin, conversation["id"], "hello")["turn_id"])
    document = admin.get(f"api/conversations/{conversation['id']}/export").json()
    assert document["turns"][0]["results"][0]["total_tokens"] > 0

    imported = user.post("api/conversations/import", json=document)
    assert imported.status_code == 201, imported.text
    assert quota(user)["tokens"]["used"] == 0
