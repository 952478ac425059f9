"""Talking to a running ChatMore as a client would: accounts, logins, bearer calls."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from server_ext.services.accounts import create_user_sync
from server_ext.store.db import Database
from tests.support.servers import JupyterServer

PASSWORD = "correct horse battery"
CSRF = {"X-Requested-With": "ChatMore"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{secrets.token_hex(5)}@example.com"


def seed_user(server: JupyterServer, role: str = "user", email: str | None = None) -> str:
    """Create an account straight in the server's database (as `chatmore create-user`
    does), for roles self-registration cannot give."""
    db = Database(server.env["CHATMORE_DB_URL"], threads=1)
    try:
        user = create_user_sync(
            db,
            email=email or unique_email(role),
            password=PASSWORD,
            role=role,
            bcrypt_cost=int(server.env.get("BCRYPT_COST", "4")),
        )
    finally:
        db.close()
    return user["email"]


@dataclass
class Client:
    """A logged-in API client: the bearer token in memory, the refresh cookie in the jar."""

    server: JupyterServer
    email: str
    http: httpx.Client
    token: str = ""
    user: dict[str, Any] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.patch(path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs)

    def refresh(self) -> httpx.Response:
        answer = self.http.post("auth/refresh", headers=CSRF)
        if answer.status_code == 200:
            self.token = answer.json()["access_token"]
        return answer

    def refresh_cookie(self) -> str | None:
        return self.http.cookies.get("chatmore_refresh")


def login(server: JupyterServer, email: str, password: str = PASSWORD) -> Client:
    http = server.client()
    answer = http.post("auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return Client(server, email, http, body["access_token"], body["user"])


def new_client(server: JupyterServer, role: str = "user") -> Client:
    return login(server, seed_user(server, role))


# -- models, conversations, turns ----------------------------------------------------------


def make_models(admin: Client, base_url: str, upstreams: list[str], **fields: Any) -> list[int]:
    """Register one model per upstream name (unique display names) and return their ids."""
    ids = []
    for upstream in upstreams:
        answer = admin.post(
            "api/models",
            json={
                "name": f"{upstream.split(';')[0]}-{secrets.token_hex(4)}",
                "base_url": base_url,
                "upstream_model": upstream,
                **fields,
            },
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    return ids


def make_conversation(client: Client, model_ids: list[int], **body: Any) -> dict[str, Any]:
    windows = body.pop("windows", None) or [{"model_id": m} for m in model_ids]
    answer = client.post("api/conversations", json={"title": "test", "windows": windows, **body})
    assert answer.status_code == 201, answer.text
    return answer.json()


def send(client: Client, conversation_id: int, content: str, **body: Any) -> dict[str, Any]:
    answer = client.post(
        f"api/conversations/{conversation_id}/messages", json={"content": content, **body}
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


def wait_turn(client: Client, turn_id: int, timeout: float = 60) -> dict[str, Any]:
    """The turn once done (polling its detail)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        turn = client.get(f"api/turns/{turn_id}").json()
        if turn["status"] == "done":
            return turn
        time.sleep(0.05)
    raise TimeoutError(f"turn {turn_id} did not finish")
