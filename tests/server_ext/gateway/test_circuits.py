"""Circuit breakers per model: repeated provider failures open a model's circuit for a
cool-down (board windows and gateway calls fail at once with PROVIDER_CIRCUIT_OPEN),
its state shows in api/models, cm.models() and Prometheus, and one probe closes it."""

from __future__ import annotations

import time

import openai
import pytest

import chatmore_kernel as cm
from tests.server_ext.gateway.conftest import Gateway
from tests.support.api import (
    PASSWORD,
    make_conversation,
    make_models,
    new_client,
    send,
    wait_turn,
)
from tests.support.providers import DemoProvider

HELLO = [{"role": "user", "content": "Hello"}]
CIRCUIT_ENV = {
    "CHATMORE_CIRCUIT_FAILURES": "2",
    "CHATMORE_CIRCUIT_WINDOW": "60s",
    "CHATMORE_CIRCUIT_COOLDOWN": "3s",
}


def circuit_of(client, model_id: int) -> dict:
    models = client.get("api/models").json()["models"]
    return next(m for m in models if m["id"] == model_id)["circuit"]


def test_the_gateway_answers_503_while_open_and_a_probe_closes_it(
    make_server, demo_provider: DemoProvider
) -> None:
    server = make_server(env=CIRCUIT_ENV)
    admin, user = new_client(server, "admin"), new_client(server)
    model_id = make_models(admin, demo_provider.url, ["demo-swift;fault=server_error"])[0]
    name = admin.get(f"api/models/{model_id}").json()["name"]
    key = user.post("api/keys", json={"name": "k"}).json()
    gateway = Gateway(server, user, key, name)
    sdk = gateway.sdk()
    assert circuit_of(user, model_id)["state"] == "closed"
    for _ in range(2):
        with pytest.raises(openai.InternalServerError) as failed:
            sdk.chat.completions.create(model=name, messages=HELLO)
        assert failed.value.status_code == 502
    demo_provider.clear()
    with pytest.raises(openai.InternalServerError) as refused:
        sdk.chat.completions.create(model=name, messages=HELLO)
    assert refused.value.status_code == 503 and refused.value.code == "circuit_open"
    assert 1 <= int(refused.value.response.headers["retry-after"]) <= 3
    assert demo_provider.requests() == []  # refused at once: the provider never heard of it
    circuit = circuit_of(user, model_id)
    assert circuit["state"] == "open" and circuit["failures"] == 2 and circuit["retry_at"]
    metrics = admin.get("metrics").text
    assert f'chatmore_model_circuit_state{{model="{name}"}} 2.0' in metrics
    with cm.Session(server.base_url, admin.email, PASSWORD) as session:
        frame = session.models()
        assert frame.set_index("name").loc[name, "circuit"] == "open"

    # The provider recovers; after the cool-down one probe goes through and closes it.
    admin.patch(f"api/models/{model_id}", json={"upstream_model": "demo-swift;tps=0"})
    time.sleep(3.2)
    answer = sdk.chat.completions.create(model=name, messages=HELLO)
    assert answer.choices[0].message.content
    assert circuit_of(user, model_id)["state"] == "closed"
    assert sdk.chat.completions.create(model=name, messages=HELLO).choices
    for client in gateway.clients:
        client.close()


def test_a_board_column_shows_the_open_circuit(make_server, demo_provider: DemoProvider) -> None:
    server = make_server(env=CIRCUIT_ENV)
    admin, user = new_client(server, "admin"), new_client(server)
    broken, fine = make_models(
        admin, demo_provider.url, ["demo-swift;fault=server_error", "demo-swift;tps=0"]
    )
    conversation = make_conversation(user, [broken, fine])
    codes = []
    for text in ("one", "two", "three"):
        turn = wait_turn(user, send(user, conversation["id"], text)["turn_id"])
        by_model = {r["model_id"]: r for r in turn["results"]}
        assert by_model[fine]["status"] == "succeeded"  # the other column goes on
        codes.append(by_model[broken]["error_code"])
    assert codes == ["PROVIDER_HTTP_ERROR", "PROVIDER_HTTP_ERROR", "PROVIDER_CIRCUIT_OPEN"]
    assert circuit_of(admin, broken)["state"] == "open"
    assert circuit_of(admin, fine)["state"] == "closed"
