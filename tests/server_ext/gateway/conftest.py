"""Fixtures of the gateway tests: a user with a personal API key, a model on the demo
provider, and OpenAI SDK clients pointed at ChatMore."""

from __future__ import annotations

from dataclasses import dataclass, field

import openai
import pytest

from tests.support.api import Client, make_models, new_client
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer


@dataclass
class Gateway:
    server: JupyterServer
    user: Client
    key: dict
    model: str  # the ChatMore model name to ask for
    clients: list[openai.OpenAI] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.api_url + "v1"

    def sdk(self, key: str | None = None, **kwargs) -> openai.OpenAI:
        client = openai.OpenAI(
            base_url=self.url, api_key=key or self.key["key"], max_retries=0, **kwargs
        )
        self.clients.append(client)  # closed after the test
        return client

    def async_sdk(self, key: str | None = None) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.url, api_key=key or self.key["key"], max_retries=0)


def add_model(server: JupyterServer, provider: DemoProvider, upstream: str) -> str:
    admin = new_client(server, "admin")
    model_id = make_models(admin, provider.url, [upstream])[0]
    return admin.get(f"api/models/{model_id}").json()["name"]


@pytest.fixture
def gateway(server: JupyterServer, demo_provider: DemoProvider) -> Gateway:
    user = new_client(server)
    answer = user.post("api/keys", json={"name": "laptop"})
    assert answer.status_code == 201, answer.text
    return Gateway(
        server, user, answer.json(), add_model(server, demo_provider, "demo-swift;tps=0")
    )
