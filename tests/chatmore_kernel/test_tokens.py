"""The access token is renewed in the background: before it expires, and once when the
server says it expired; concurrent calls renew it once, never twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

import chatmore_kernel as cm
from server_ext.security.tokens import LEEWAY_SECONDS
from tests.conftest import ServerFactory
from tests.support.api import PASSWORD, seed_user

TTL_S = 2


def record_calls(session: cm.Session) -> list[tuple[str, int]]:
    """(path, status) of every answer the session gets from now on."""
    seen: list[tuple[str, int]] = []

    def hook(response: httpx.Response) -> None:
        seen.append((response.request.url.path.split("/chatmore/")[-1], response.status_code))

    session._api._http.event_hooks["response"].append(hook)
    return seen


def wait_past(seconds: float, since: float) -> None:
    time.sleep(max(0.0, since + seconds - time.monotonic()))


@pytest.fixture
def short_lived(make_server: ServerFactory) -> Callable[[], cm.Session]:
    server = make_server(env={"JWT_ACCESS_TTL": f"{TTL_S}s"})
    email = seed_user(server)
    return lambda: cm.Session(server.base_url, email, PASSWORD)


def test_token_is_renewed_before_it_expires_and_when_it_did(short_lived) -> None:
    session = short_lived()
    began = time.monotonic()
    calls = record_calls(session)
    # Past four fifths of its life, the next call renews it first: no 401 is ever seen.
    wait_past(TTL_S * 0.85, began)
    assert session.me()["email"] == session.user["email"]
    assert calls == [("auth/refresh", 200), ("auth/me", 200)]

    # A machine that slept: this clock thinks the token is fresh, the server does not.
    calls.clear()
    session._api._expires_at = time.monotonic() + 3600
    wait_past(TTL_S + LEEWAY_SECONDS + 0.5, time.monotonic())
    assert session.models().columns[0] == "id"
    assert calls == [("api/models", 401), ("auth/refresh", 200), ("api/models", 200)]
    session.close()


def test_concurrent_calls_refresh_the_token_once(short_lived) -> None:
    session = short_lived()
    calls = record_calls(session)
    session._api._expires_at = time.monotonic()  # every thread finds the token old
    errors: list[BaseException] = []

    def call() -> None:
        try:
            session.me()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert calls.count(("auth/refresh", 200)) == 1
    # Two refreshes of one token would have revoked the family; this one still renews.
    session._api._expires_at = time.monotonic()
    assert session.me()["email"] == session.user["email"]
    session.close()
