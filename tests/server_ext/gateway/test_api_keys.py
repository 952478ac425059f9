"""Personal API keys: made by their owner, shown once, listed without the key, revoked;
admins see and revoke everyone's; keys work only on the gateway, tokens only elsewhere."""

from __future__ import annotations

import chatmore_kernel as cm
from tests.support.api import PASSWORD, new_client
from tests.support.servers import JupyterServer


def test_a_key_is_shown_once_and_listed_by_its_last_four(server: JupyterServer) -> None:
    user = new_client(server)
    made = user.post("api/keys", json={"name": "laptop", "expires_in_days": 30})
    assert made.status_code == 201, made.text
    key = made.json()
    assert key["key"].startswith("cm-") and len(key["key"]) >= 3 + 43  # 256 bits
    assert key["last4"] == key["key"][-4:] and key["state"] == "active"
    assert key["expires_at"] is not None and key["last_used_at"] is None
    listed = user.get("api/keys").json()["keys"]
    assert [k["id"] for k in listed] == [key["id"]]
    assert "key" not in listed[0] and "key_hash" not in listed[0]
    assert key["key"] not in user.get("api/keys").text


def test_bad_key_requests_are_refused_with_a_code(server: JupyterServer) -> None:
    user = new_client(server)
    for body in (
        {},
        {"name": ""},
        {"name": "x" * 201},
        {"name": "a", "expires_in_days": -1},
        {"name": "a", "expires_at": "2001-01-01T00:00:00Z"},
        {"name": "a", "x": 1},
    ):
        answer = user.post("api/keys", json=body)
        assert answer.status_code == 400, body
        assert answer.json()["error"]["code"] == "VALIDATION_FAILED"


def test_users_revoke_their_own_keys_only_and_admins_anyone(server: JupyterServer) -> None:
    alice, bob, admin = new_client(server), new_client(server), new_client(server, "admin")
    key = alice.post("api/keys", json={"name": "ci"}).json()
    # Another user's key is "not found", in the list and to revoke.
    assert bob.get("api/keys").json()["keys"] == []
    refused = bob.http.delete(f"api/keys/{key['id']}", headers=bob.auth)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "API_KEY_NOT_FOUND"
    assert bob.get("api/keys?scope=all").json()["error"]["code"] == "FORBIDDEN"
    everyone = admin.get("api/keys?scope=all").json()["keys"]
    mine = next(k for k in everyone if k["id"] == key["id"])
    assert mine["user_email"] == alice.email and "key" not in mine
    revoked = admin.http.delete(f"api/keys/{key['id']}", headers=admin.auth)
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert alice.get("api/keys").json()["keys"][0]["state"] == "revoked"


def test_keys_only_open_the_gateway_and_tokens_never_do(server: JupyterServer) -> None:
    user = new_client(server)
    key = user.post("api/keys", json={"name": "k"}).json()["key"]
    with_key = user.http.get("api/conversations", headers={"Authorization": f"Bearer {key}"})
    assert with_key.status_code == 401
    assert with_key.json()["error"]["code"] == "AUTH_TOKEN_INVALID"
    with_token = user.http.get("v1/models", headers=user.auth)
    assert with_token.status_code == 401
    assert with_token.json()["error"]["code"] == "invalid_api_key"
    assert (
        user.http.get("v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    )


def test_the_notebook_makes_lists_and_revokes_keys(server: JupyterServer) -> None:
    user = new_client(server)
    with cm.Session(server.base_url, user.email, PASSWORD) as session:
        made = session.create_api_key("notebook", expires_in_days=1)
        frame = session.api_keys()
        assert list(frame["name"]) == ["notebook"]
        assert list(frame["last4"]) == [made["key"][-4:]]
        assert "key" not in frame.columns
        session.revoke_api_key(made["id"])
        assert list(session.api_keys()["state"]) == ["revoked"]
