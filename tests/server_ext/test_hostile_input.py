"""Hostile input answers with a clear 4xx, never a 5xx, and writes nothing half-way:
deep or huge JSON, ids beyond 64 bits, text that is not Unicode, crafted cursors,
non-finite numbers, odd provider URLs, tokens with a strange subject. Each case was
once a 500 (issue 11); each runs against a real server on SQLite and MariaDB."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx
import jwt
import pytest

from server_ext.security.keys import Keyring
from server_ext.store import conversations as conversation_store
from server_ext.store import models as model_store
from server_ext.store.db import Database
from tests.support.api import (
    PASSWORD,
    Client,
    login,
    make_conversation,
    make_models,
    new_client,
    seed_user,
    send,
    unique_email,
    wait_turn,
)
from tests.support.servers import JupyterServer

HUGE = 2**63  # one more than the largest id the database holds
JSON = {"Content-Type": "application/json"}


def error_code(answer: httpx.Response) -> str:
    return answer.json()["error"]["code"]


def refused(answer: httpx.Response, code: str = "VALIDATION_FAILED", status: int = 400) -> None:
    assert (answer.status_code, error_code(answer)) == (status, code), answer.text


def log_since(server: JupyterServer, offset: int) -> str:
    return server.log()[offset:]


@pytest.fixture
def user(server: JupyterServer) -> Client:
    return new_client(server)


@pytest.fixture
def admin(server: JupyterServer) -> Client:
    return new_client(server, "admin")


@pytest.fixture
def model_id(admin: Client, demo_provider) -> int:
    return make_models(admin, demo_provider.url, ["demo-swift;tps=2000"])[0]


# -- JSON nesting and size -------------------------------------------------------------


def test_deeply_nested_json_is_refused_before_parsing(server: JupyterServer, user: Client) -> None:
    offset = len(server.log())
    deep = b"[" * 100_000
    http = server.client()
    refused(http.post("auth/login", content=deep, headers=JSON))
    refused(user.post("api/conversations", content=deep, headers=JSON))
    # 33 levels of a valid object: over the limit, even though the parser could read it
    nested = b'{"a":' * 33 + b"1" + b"}" * 33
    body = b'{"title": "x", "windows": [], "metadata": ' + nested + b"}"
    answer = user.post("api/conversations", content=body, headers=JSON)
    refused(answer)
    assert "deeper" in answer.json()["error"]["message"]
    refused(http.post("auth/login", content=b"[" + b" " * (1024 * 1024 + 1) + b"]", headers=JSON))
    # Client errors are answers: no traceback, no request headers in the log.
    log = log_since(server, offset)
    assert "Traceback" not in log
    assert user.token not in log


# -- ids beyond 64 bits --------------------------------------------------------------


def test_path_ids_beyond_64_bits_are_not_found(
    server: JupyterServer, user: Client, admin: Client
) -> None:
    cases = [
        (user.get, f"api/conversations/{HUGE}", "CONVERSATION_NOT_FOUND"),
        (user.patch, f"api/conversations/{HUGE}", "CONVERSATION_NOT_FOUND"),
        (user.get, f"api/conversations/{HUGE}/messages", "CONVERSATION_NOT_FOUND"),
        (user.post, f"api/conversations/{HUGE}/messages", "CONVERSATION_NOT_FOUND"),
        (user.get, f"api/turns/{HUGE}", "TURN_NOT_FOUND"),
        (user.post, f"api/turns/{HUGE}/cancel", "TURN_NOT_FOUND"),
        (user.get, f"api/models/{HUGE}", "MODEL_NOT_FOUND"),
        (admin.patch, f"api/models/{HUGE}", "MODEL_NOT_FOUND"),
        (admin.post, f"api/models/{HUGE}/test", "MODEL_NOT_FOUND"),
        (admin.patch, f"api/users/{HUGE}", "NOT_FOUND"),
        (user.get, f"streams/turn/{HUGE}?st=x", "TURN_NOT_FOUND"),
        (user.get, f"api/conversations/{'9' * 40}", "CONVERSATION_NOT_FOUND"),
    ]
    for call, path, code in cases:
        body = {} if call.__name__ == "get" else {"json": {"content": "hi"}}
        refused(call(path, **body), code, 404)
    # The largest id the database holds is merely absent.
    refused(user.get(f"api/conversations/{HUGE - 1}"), "CONVERSATION_NOT_FOUND", 404)


def test_query_and_body_ids_beyond_64_bits_are_refused(
    server: JupyterServer, user: Client, model_id: int
) -> None:
    conversation = make_conversation(user, [model_id])
    cid = conversation["id"]
    for path in (
        f"api/results?after_id={HUGE}",
        f"api/results?before_id={HUGE}",
        f"api/results?conversation_id={HUGE}",
        f"api/stats/usage?model_id={HUGE}",
        f"api/conversations/{cid}/messages?before={HUGE}",
        f"api/conversations/{cid}/messages?window_id={HUGE}",
        f"api/conversations/{cid}/messages?before=-{HUGE}",
    ):
        refused(user.get(path))
    refused(user.post("streams/ticket", json={"turn_id": HUGE}))
    refused(user.post("api/conversations", json={"windows": [{"model_id": HUGE}]}))
    refused(
        user.post(f"api/conversations/{cid}/messages", json={"content": "x", "window_ids": [HUGE]})
    )
    assert user.get(f"api/conversations/{cid}/messages").status_code == 200


# -- text that is not Unicode ----------------------------------------------------------


def raw_json(**fields: object) -> bytes:
    """A JSON body whose string values may hold escapes json.dumps would not write."""
    parts = []
    for key, value in fields.items():
        text = value if isinstance(value, str) and value.startswith("RAW:") else None
        parts.append(f'"{key}": ' + (text[4:] if text else json.dumps(value)))
    return ("{" + ", ".join(parts) + "}").encode()


LONE = 'RAW:"a\\ud800b"'


def test_lone_surrogates_are_refused_and_nothing_is_written(
    server: JupyterServer, user: Client, admin: Client, model_id: int
) -> None:
    windows = [{"model_id": model_id}]
    before = user.get("api/conversations?archived=all").json()["conversations"]
    for body in (
        raw_json(windows=windows, tags=f'RAW:["ok", {LONE[4:]}]'),
        raw_json(windows=windows, title=LONE),
        raw_json(windows=windows, metadata='RAW:{"\\udc00": 1}'),
    ):
        refused(user.post("api/conversations", content=body, headers=JSON))
    # invalid UTF-8 (a surrogate encoded as bytes) is no better
    refused(
        user.post(
            "api/conversations",
            content=b'{"title": "\xed\xa0\x80", "windows": [{"model_id": %d}]}' % model_id,
            headers=JSON,
        )
    )
    after = user.get("api/conversations?archived=all")
    assert after.status_code == 200
    assert after.json()["conversations"] == before

    cid = make_conversation(user, [model_id])["id"]
    refused(
        user.patch(
            f"api/conversations/{cid}", content=raw_json(tags=f"RAW:[{LONE[4:]}]"), headers=JSON
        )
    )
    refused(
        user.post(
            f"api/conversations/{cid}/messages", content=raw_json(content=LONE), headers=JSON
        )
    )
    assert user.get(f"api/conversations/{cid}/messages").json()["windows"][0]["messages"] == []

    http = server.client()
    refused(http.post("auth/login", content=raw_json(email=LONE, password=PASSWORD), headers=JSON))
    refused(
        http.post(
            "auth/register",
            content=raw_json(email=unique_email(), password=PASSWORD, display_name=LONE),
            headers=JSON,
        )
    )
    email = unique_email()
    refused(
        admin.post(
            "api/users",
            content=raw_json(email=email, password=PASSWORD, display_name=LONE),
            headers=JSON,
        )
    )
    assert email not in {u["email"] for u in admin.get("api/users").json()["users"]}
    refused(
        admin.post(
            "api/models",
            content=raw_json(name=LONE, base_url="http://x.example", upstream_model="m"),
            headers=JSON,
        )
    )
    # a query string that is not UTF-8
    refused(user.get("api/conversations?archived=%ED%A0%80"))
    assert user.get("api/conversations").status_code == 200


def test_a_lone_surrogate_stored_by_an_older_version_does_not_break_the_list(
    server: JupyterServer, user: Client, model_id: int, backend: str
) -> None:
    """Rows written before input was checked: shown with U+FFFD, not a 500 forever."""
    if backend == "mariadb":
        pytest.skip("MariaDB's JSON_VALID check never let such a row in")
    db = Database(server.env["CHATMORE_DB_URL"], threads=1)
    try:
        db.write_sync(
            conversation_store.insert_conversation,
            user_id=user.user["id"],
            title="legacy",
            system_prompt=None,
            tags=["a\ud800b"],
            metadata={"\udc00": "x"},
            window_specs=[{"model_id": model_id, "name": "", "params": {}}],
        )
    finally:
        db.close()
    answer = user.get("api/conversations")
    assert answer.status_code == 200
    legacy = answer.json()["conversations"][0]
    assert (legacy["tags"], legacy["metadata"]) == (["a\ufffdb"], {"\ufffd": "x"})


# -- cursors ---------------------------------------------------------------------------


def cursor_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        b"[1,2]",
        b"1e400",
        b'["2026-01-01T00:00:00.000Z", 1e400]',
        b'["2026-01-01T00:00:00.000Z", 9223372036854775808]',
        b'["2026-01-01T00:00:00.000Z", true]',
        b'["2026-01-01T00:00:00+05:00", 1]',
        b'["not a time", 1]',
        b'["2026-01-01T00:00:00Z", 1, 2]',
        b"[" * 5000,
        b'"\xed\xa0\x80"',
        b"{}",
    ],
)
def test_crafted_cursors_are_refused(server: JupyterServer, user: Client, raw: bytes) -> None:
    refused(user.get(f"api/conversations?cursor={cursor_of(raw)}"))


def test_a_cursor_that_is_not_base64_is_refused(server: JupyterServer, user: Client) -> None:
    for cursor in ("%%%", "é", "a"):
        refused(user.get("api/conversations", params={"cursor": cursor}))


# -- numbers that are not finite ---------------------------------------------------------


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused(
    server: JupyterServer, user: Client, admin: Client, model_id: int, number: str
) -> None:
    before = len(user.get("api/conversations").json()["conversations"])
    for param in ("temperature", "top_p"):
        body = b'{"windows": [{"model_id": %d, "params": {"%s": %s}}]}' % (
            model_id,
            param.encode(),
            number.encode(),
        )
        refused(user.post("api/conversations", content=body, headers=JSON))
    assert len(user.get("api/conversations").json()["conversations"]) == before
    change = b'{"default_params": {"temperature": %s}}' % number.encode()
    refused(admin.patch(f"api/models/{model_id}", content=change, headers=JSON))
    assert admin.get(f"api/models/{model_id}").json()["default_params"] == {}


# -- provider URLs ---------------------------------------------------------------------


ODD_URLS = [
    "http://0251.0376.0251.0376/v1",  # octal 169.254.169.254
    "http://0x7f.0.0.1/v1",
    "http://127.1/v1",
    "http://2130706433/v1",
    "http://1.2.3.400/v1",
    "http://%31%32%37.0.0.1/v1",
    "http://[fe80::1%25eth0]/v1",
    "http://xn--/v1",
]


@pytest.mark.parametrize("url", ODD_URLS)
def test_odd_provider_urls_are_refused_when_saved(
    server: JupyterServer, admin: Client, model_id: int, url: str
) -> None:
    body = {"name": unique_email("m"), "base_url": url, "upstream_model": "demo-swift"}
    refused(admin.post("api/models", json=body), "PROVIDER_URL_REFUSED")
    refused(admin.patch(f"api/models/{model_id}", json={"base_url": url}), "PROVIDER_URL_REFUSED")
    assert url not in {m["base_url"] for m in admin.get("api/models").json()["models"]}


def test_a_stored_odd_url_fails_calls_cleanly(
    server: JupyterServer, admin: Client, user: Client, model_id: int
) -> None:
    """A URL stored before the policy knew better: the test and turns end
    PROVIDER_URL_REFUSED, never INTERNAL_ERROR."""
    db = Database(server.env["CHATMORE_DB_URL"], threads=1)
    try:
        db.write_sync(model_store.update_model, model_id, {"base_url": ODD_URLS[0]})
    finally:
        db.close()
    probe = admin.post(f"api/models/{model_id}/test")
    assert probe.status_code == 200
    assert probe.json()["error"]["code"] == "PROVIDER_URL_REFUSED"
    conversation = make_conversation(user, [model_id])
    turn = wait_turn(user, send(user, conversation["id"], "hello")["turn_id"])
    assert [r["error_code"] for r in turn["results"]] == ["PROVIDER_URL_REFUSED"]


# -- tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["admin", "1.5", "-1", str(HUGE), "", "٣"])
def test_a_signed_token_with_a_strange_subject_is_refused(
    server: JupyterServer, subject: str
) -> None:
    ring = Keyring.load(Path(server.env["CHATMORE_DATA_DIR"]))
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": "chatmore",
            "aud": "chatmore",
            "sub": subject,
            "iat": now,
            "exp": now + 60,
            "jti": "j",
            "type": "access",
        },
        ring.signing_key,
        algorithm="RS256",
        headers={"kid": ring.signing_kid},
    )
    answer = server.client().get("auth/me", headers={"Authorization": f"Bearer {token}"})
    refused(answer, "AUTH_TOKEN_INVALID", 401)


def test_a_real_token_still_works(server: JupyterServer) -> None:
    client = login(server, seed_user(server))
    assert client.get("auth/me").status_code == 200
