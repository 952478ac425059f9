"""Model management over HTTP against a real server and the demo provider's process."""

from __future__ import annotations

import secrets
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, insert, select

from server_ext.store.db import utcnow
from server_ext.store.tables import models
from tests.support.api import Client, new_client
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer


def error_code(answer) -> str:
    return answer.json()["error"]["code"]


def model_body(provider: DemoProvider, **overrides) -> dict:
    body = {
        "name": f"model-{secrets.token_hex(4)}",
        "provider_name": "demo",
        "base_url": provider.url,
        "upstream_model": "demo-swift;ttft_ms=0;tps=0",
        "default_params": {"temperature": 0.2, "max_tokens": 200},
        "notes": "for tests",
    }
    return {**body, **overrides}


def canary() -> str:
    return f"sk-canary-{secrets.token_hex(12)}"


def test_admins_write_users_read_enabled(server: JupyterServer, demo_provider) -> None:
    admin, user = new_client(server, "admin"), new_client(server)
    body = model_body(demo_provider)
    refused = user.post("api/models", json=body)
    assert refused.status_code == 403
    assert error_code(refused) == "FORBIDDEN"

    made = admin.post("api/models", json=body)
    assert made.status_code == 201, made.text
    model = made.json()
    assert model["name"] == body["name"]
    assert model["default_params"] == {"temperature": 0.2, "max_tokens": 200}
    assert model["api_key"] == {"set": False, "last4": None}
    assert model["enabled"] is True

    hidden = admin.post("api/models", json=model_body(demo_provider, enabled=False)).json()
    names = {m["name"] for m in user.get("api/models").json()["models"]}
    assert body["name"] in names and hidden["name"] not in names
    admin_names = {m["name"] for m in admin.get("api/models").json()["models"]}
    assert hidden["name"] in admin_names
    assert error_code(user.get(f"api/models/{hidden['id']}")) == "MODEL_NOT_FOUND"
    assert "api_key" not in user.get(f"api/models/{model['id']}").json()

    changed = admin.patch(
        f"api/models/{model['id']}", json={"notes": "changed", "default_params": {"top_p": 0.5}}
    )
    assert changed.status_code == 200
    assert changed.json()["notes"] == "changed"
    assert changed.json()["default_params"] == {"top_p": 0.5}
    assert user.patch(f"api/models/{model['id']}", json={"notes": "x"}).status_code == 403


def test_unknown_models_and_taken_names(server: JupyterServer, demo_provider) -> None:
    admin = new_client(server, "admin")
    body = model_body(demo_provider)
    assert admin.post("api/models", json=body).status_code == 201
    taken = admin.post("api/models", json={**model_body(demo_provider), "name": body["name"]})
    assert taken.status_code == 409
    assert error_code(taken) == "MODEL_NAME_TAKEN"
    for answer in (
        admin.get("api/models/987654"),
        admin.patch("api/models/987654", json={"notes": "x"}),
        admin.post("api/models/987654/test"),
    ):
        assert answer.status_code == 404
        assert error_code(answer) == "MODEL_NOT_FOUND"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"default_params": {"temperature": 3}}, "temperature"),
        ({"default_params": {"top_p": 0}}, "top_p"),
        ({"default_params": {"max_tokens": 0}}, "max_tokens"),
        ({"default_params": {"timeout_ms": 10}}, "timeout_ms"),
        ({"default_params": {"seed": 1}}, "unknown"),
        ({"base_url": "ftp://example.com/v1"}, "http"),
        ({"base_url": "http://user:pw@example.com/v1"}, "credentials"),
        ({"name": ""}, "name"),
        ({"upstream_model": 5}, "upstream_model"),
        ({"colour": "red"}, "unknown"),
    ],
)
def test_invalid_fields_are_refused(
    server: JupyterServer, demo_provider, change: dict, field: str
) -> None:
    admin = new_client(server, "admin")
    answer = admin.post("api/models", json=model_body(demo_provider, **change))
    assert answer.status_code == 400
    assert error_code(answer) == "VALIDATION_FAILED"
    assert field in answer.json()["error"]["message"]


def test_metadata_addresses_are_refused_when_saved(server: JupyterServer, demo_provider) -> None:
    admin = new_client(server, "admin")
    answer = admin.post(
        "api/models", json=model_body(demo_provider, base_url="http://169.254.169.254/v1")
    )
    assert answer.status_code == 400
    assert error_code(answer) == "PROVIDER_URL_REFUSED"


def test_the_key_never_leaves_the_server(server: JupyterServer, demo_provider) -> None:
    admin, user = new_client(server, "admin"), new_client(server)
    key = canary()
    made = admin.post("api/models", json=model_body(demo_provider, api_key=key))
    model = made.json()
    assert model["api_key"] == {"set": True, "last4": key[-4:]}
    answers = [
        made,
        admin.get("api/models"),
        admin.get(f"api/models/{model['id']}"),
        user.get("api/models"),
        admin.patch(f"api/models/{model['id']}", json={"notes": "n"}),
        admin.post(f"api/models/{model['id']}/test"),
    ]
    for answer in answers:
        assert key not in answer.text
        assert key[:-4] not in answer.text

    # It did reach the provider, in the Authorization header only.
    sent = [r for r in demo_provider.requests() if key in str(r)]
    assert sent
    for request in sent:
        headers = {name.lower(): value for name, value in request["headers"].items()}
        assert headers["authorization"] == f"Bearer {key}"
        assert key not in str(request["body"])

    # At rest it is ciphertext.
    engine = create_engine(server.env["CHATMORE_DB_URL"])
    with engine.connect() as conn:
        stored = conn.execute(
            select(models.c.api_key_enc).where(models.c.id == model["id"])
        ).scalar_one()
    engine.dispose()
    assert stored.startswith("v1:") and key not in stored
    # And never in the log.
    assert key not in server.log()

    cleared = admin.patch(f"api/models/{model['id']}", json={"api_key": None})
    assert cleared.json()["api_key"] == {"set": False, "last4": None}


def test_connectivity_test(server: JupyterServer, demo_provider) -> None:
    admin = new_client(server, "admin")

    def test_of(**change) -> dict:
        model = admin.post("api/models", json=model_body(demo_provider, **change)).json()
        answer = admin.post(f"api/models/{model['id']}/test")
        assert answer.status_code == 200
        return answer.json()

    ok = test_of()
    assert ok["ok"] is True
    assert ok["latency_ms"] >= 0
    assert "error" not in ok
    for fault, code in [
        ("rate_limit", "PROVIDER_RATE_LIMITED"),
        ("server_error", "PROVIDER_HTTP_ERROR"),
        ("redirect", "PROVIDER_HTTP_ERROR"),
        ("auth;key=right-key", "PROVIDER_AUTH_FAILED"),
    ]:
        failed = test_of(upstream_model=f"demo-swift;fault={fault};retry_after=30")
        assert failed["ok"] is False
        assert failed["error"]["code"] == code, (fault, failed)
    unreachable = test_of(base_url="http://127.0.0.1:9/v1")
    assert unreachable["error"]["code"] == "PROVIDER_UNREACHABLE"


def test_a_stored_metadata_url_is_refused_at_call_time(server: JupyterServer) -> None:
    """A row that slipped past the save-time check (written by hand into the database)
    is still refused when called: the address is checked on every call."""
    admin = new_client(server, "admin")
    engine = create_engine(server.env["CHATMORE_DB_URL"])
    now = utcnow()
    with engine.begin() as conn:
        model_id = conn.execute(
            insert(models).values(
                name=f"metadata-{secrets.token_hex(3)}",
                provider_name="x",
                base_url="http://169.254.169.254/latest",
                upstream_model="m",
                default_params={},
                enabled=True,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
    engine.dispose()
    answer = admin.post(f"api/models/{model_id}/test").json()
    assert answer["ok"] is False
    assert answer["error"]["code"] == "PROVIDER_URL_REFUSED"


# -- keys at rest: rotation ------------------------------------------------------------------


def key_text(kid: str) -> str:
    import base64
    import os

    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


def chatmore_cli(server: JupyterServer, *args: str, secret: str | None = None):
    import os

    env = {**os.environ, **server.env}
    if secret is not None:
        env["CHATMORE_SECRET_KEY"] = secret
    return subprocess.run(
        [sys.executable, "-m", "server_ext.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def stored_kid(server: JupyterServer, model_id: int) -> str:
    engine = create_engine(server.env["CHATMORE_DB_URL"])
    with engine.connect() as conn:
        value = conn.execute(
            select(models.c.api_key_enc).where(models.c.id == model_id)
        ).scalar_one()
    engine.dispose()
    return value.split(":")[1]


def probe(server: JupyterServer, admin_email: str, model_id: int) -> dict:
    from tests.support.api import login

    return login(server, admin_email).post(f"api/models/{model_id}/test").json()


def test_rotation_keeps_old_keys_readable(make_server, demo_provider: DemoProvider) -> None:
    old, new = key_text("k1"), key_text("k2")
    server = make_server(env={"CHATMORE_SECRET_KEY": old})
    admin: Client = new_client(server, "admin")
    secret = f"right-{secrets.token_hex(6)}"
    model = admin.post(
        "api/models",
        json=model_body(
            demo_provider, api_key=secret, upstream_model=f"demo-swift;fault=auth;key={secret}"
        ),
    ).json()
    assert probe(server, admin.email, model["id"])["ok"] is True
    assert stored_kid(server, model["id"]) == "k1"

    # A new active key, the old one kept for reading: old rows still work.
    server.stop()
    server.env["CHATMORE_SECRET_KEY"] = f"{new},{old}"
    server.start()
    assert probe(server, admin.email, model["id"])["ok"] is True
    done = chatmore_cli(server, "keys", "reencrypt")
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 1 API keys with key k2" in done.stdout
    assert stored_kid(server, model["id"]) == "k2"

    # The old key can now go.
    server.stop()
    server.env["CHATMORE_SECRET_KEY"] = new
    server.start()
    assert probe(server, admin.email, model["id"])["ok"] is True

    # A key that is gone makes a clear error, and nothing is sent upstream.
    server.stop()
    server.env["CHATMORE_SECRET_KEY"] = key_text("k3")
    server.start()
    before = len(demo_provider.requests())
    result = probe(server, admin.email, model["id"])
    assert result["ok"] is False
    assert result["error"]["code"] == "MODEL_KEY_UNREADABLE"
    assert len(demo_provider.requests()) == before
    # The key shows in the log only inside the upstream model name that tells the demo
    # provider which key to accept; never as a key.
    leaks = [line for line in server.log().splitlines() if secret in line and ";key=" not in line]
    assert not leaks


def test_generated_key_rotation(make_server, demo_provider: DemoProvider) -> None:
    server = make_server()
    admin = new_client(server, "admin")
    secret = f"right-{secrets.token_hex(6)}"
    model = admin.post(
        "api/models",
        json=model_body(
            demo_provider, api_key=secret, upstream_model=f"demo-swift;fault=auth;key={secret}"
        ),
    ).json()
    first = stored_kid(server, model["id"])
    keys_file = server.data_dir / "secret_keys.json"
    assert keys_file.stat().st_mode & 0o777 == 0o600
    server.stop()
    rotated = chatmore_cli(server, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert stored_kid(server, model["id"]) != first
    server.start()
    assert probe(server, admin.email, model["id"])["ok"] is True
