"""Rate limits on board turns and gateway calls: requests and tokens per minute and
concurrent streams, per user and per key, per-user overrides by admins, and one limit
held by two server processes sharing one database."""

from __future__ import annotations

import threading
import time

import openai
import pytest

from tests.server_ext.gateway.conftest import Gateway, add_model
from tests.support.api import make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider

HELLO = [{"role": "user", "content": "Hello"}]


def gateway_on(server, provider: DemoProvider, upstream: str = "demo-swift;tps=0") -> Gateway:
    user = new_client(server)
    key = user.post("api/keys", json={"name": "k"}).json()
    return Gateway(server, user, key, add_model(server, provider, upstream))


def test_board_turns_over_the_request_limit_wait_and_admins_raise_it(
    make_server, demo_provider: DemoProvider
) -> None:
    server = make_server(env={"CHATMORE_RATE_LIMIT_RPM": "2"})
    admin, user = new_client(server, "admin"), new_client(server)
    model_id = make_models(admin, demo_provider.url, ["demo-swift;tps=0"])[0]
    conversation = make_conversation(user, [model_id])
    for text in ("one", "two"):
        wait_turn(user, send(user, conversation["id"], text)["turn_id"])
    refused = user.post(f"api/conversations/{conversation['id']}/messages", json={"content": "3"})
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "RATE_LIMITED" and error["details"]["limit"] == "requests_per_minute"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert error["details"]["retry_after"] == int(refused.headers["Retry-After"])
    # Nothing of the refused turn is stored.
    history = user.get(f"api/conversations/{conversation['id']}/messages").json()
    assert len(history["windows"][0]["messages"]) == 4

    limits = admin.http.put(
        f"api/users/{user.user['id']}/limits",
        headers=admin.auth,
        json={"requests_per_minute": 5},
    )
    assert limits.status_code == 200, limits.text
    assert limits.json()["effective"]["requests_per_minute"] == 5
    assert limits.json()["defaults"]["requests_per_minute"] == 2
    wait_turn(user, send(user, conversation["id"], "three")["turn_id"])
    assert (
        user.http.put(f"api/users/{user.user['id']}/limits", headers=user.auth, json={}).json()[
            "error"
        ]["code"]
        == "FORBIDDEN"
    )
    bad = admin.http.put(
        f"api/users/{user.user['id']}/limits", headers=admin.auth, json={"concurrent_streams": -1}
    )
    assert bad.status_code == 400


def test_a_key_over_its_limit_gets_openai_429_and_another_key_goes_on(
    make_server, demo_provider: DemoProvider
) -> None:
    server = make_server(env={"CHATMORE_KEY_RATE_LIMIT_RPM": "1"})
    gateway = gateway_on(server, demo_provider)
    sdk = gateway.sdk()
    sdk.chat.completions.create(model=gateway.model, messages=HELLO)
    with pytest.raises(openai.RateLimitError) as limited:
        sdk.chat.completions.create(model=gateway.model, messages=HELLO)
    assert limited.value.code == "rate_limit_exceeded"
    assert limited.value.body["type"] == "requests"
    assert 1 <= int(limited.value.response.headers["retry-after"]) <= 60
    other = gateway.user.post("api/keys", json={"name": "second"}).json()["key"]
    assert gateway.sdk(key=other).chat.completions.create(model=gateway.model, messages=HELLO)
    for client in gateway.clients:
        client.close()


def test_concurrent_streams_and_tokens_are_limited(
    make_server, demo_provider: DemoProvider
) -> None:
    server = make_server(env={"CHATMORE_RATE_LIMIT_STREAMS": "1", "CHATMORE_RATE_LIMIT_TPM": "40"})
    gateway = gateway_on(server, demo_provider, "demo-swift;tps=40;tokens=60")
    sdk = gateway.sdk()
    stream = sdk.chat.completions.create(model=gateway.model, messages=HELLO, stream=True)
    first = next(iter(stream))
    assert first.choices is not None
    with pytest.raises(openai.RateLimitError) as busy:
        sdk.chat.completions.create(model=gateway.model, messages=HELLO)
    assert "streaming at once" in busy.value.message
    # Board turns count against the same streams.
    admin = new_client(server, "admin")
    model_id = make_models(admin, demo_provider.url, ["demo-swift;tps=0"])[0]
    refused = gateway.user.post("api/conversations", json={"windows": [{"model_id": model_id}]})
    conversation_id = refused.json()["id"]
    board = gateway.user.post(
        f"api/conversations/{conversation_id}/messages", json={"content": "hi"}
    )
    assert board.status_code == 429 and board.json()["error"]["code"] == "RATE_LIMITED"
    list(stream)  # the reply ends: 60 tokens used, over the 40 per minute
    time.sleep(0.5)
    with pytest.raises(openai.RateLimitError) as tokens:
        sdk.chat.completions.create(model=gateway.model, messages=HELLO)
    assert tokens.value.body["type"] == "tokens"
    for client in gateway.clients:
        client.close()


def test_two_server_processes_share_one_limit(
    make_server, demo_provider: DemoProvider, backend: str
) -> None:
    first = make_server(env={"CHATMORE_RATE_LIMIT_RPM": "4"})
    second = make_server(
        env={"CHATMORE_RATE_LIMIT_RPM": "4", "CHATMORE_DB_URL": first.env["CHATMORE_DB_URL"]}
    )
    gateway = gateway_on(first, demo_provider)
    on_second = Gateway(second, gateway.user, gateway.key, gateway.model)
    outcomes: list[str] = []

    def call(where: Gateway) -> None:
        try:
            where.sdk().chat.completions.create(model=where.model, messages=HELLO)
            outcomes.append("ok")
        except openai.RateLimitError:
            outcomes.append("429")

    # Eight calls at once, four through each process: exactly four get through.
    threads = [threading.Thread(target=call, args=(g,)) for g in [gateway, on_second] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["429"] * 4 + ["ok"] * 4
    for client in gateway.clients + on_second.clients:
        client.close()
