"""Read-only share links, end to end on SQLite and MariaDB: made, listed and revoked by
the owner; the page opens without signing in, shows one conversation, sanitised, and
nothing of its owner; a revoked, expired or unknown link is a 404."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import pytest
from sqlalchemy import create_engine, select, update

from server_ext.store.tables import share_links
from tests.support.api import Client, make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer

HOSTILE = (
    'Look <script>window.pwned=1</script> <img src=x onerror="alert(1)">'
    " [click](javascript:alert(2)) [ok](https://example.org) **bold**"
)


@pytest.fixture
def shared(server: JupyterServer, demo_provider: DemoProvider) -> tuple[Client, dict]:
    admin = new_client(server, "admin")
    models = make_models(admin, demo_provider.url, ["echo;echo=1;tps=0", "x;fault=server_error"])
    owner = new_client(server)
    conversation = make_conversation(
        owner,
        models,
        title="Shared <i>title</i>",
        windows=[{"model_id": models[0], "name": "echo"}, {"model_id": models[1]}],
    )
    wait_turn(owner, send(owner, conversation["id"], HOSTILE)["turn_id"])
    return owner, conversation


def page(server: JupyterServer, path: str):
    """The page as a signed-out browser gets it."""
    return server.client().get(path.removeprefix("chatmore/"))


def test_a_link_opens_the_conversation_read_only_without_signing_in(
    server: JupyterServer, shared
) -> None:
    owner, conversation = shared
    made = owner.post(f"api/conversations/{conversation['id']}/shares", json={})
    assert made.status_code == 201, made.text
    link = made.json()
    assert len(link["token"]) == 43 and link["path"] == f"chatmore/share?key={link['token']}"
    assert link["active"] and link["expires_at"] is None

    answer = page(server, link["path"])
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["referrer-policy"] == "no-referrer"
    body = answer.text
    assert "Shared &lt;i&gt;title&lt;/i&gt;" in body
    assert body.count("data-testid=reply") == 2 and body.count("data-testid=prompt") == 1
    # The echoed reply, rendered as Markdown and sanitised; the prompt as text.
    assert "<strong>bold</strong>" in body and 'href="https://example.org"' in body
    assert "<script" not in body and "<img" not in body
    assert 'href="javascript' not in body  # the link kept as text, made harmless
    assert 'onerror="' not in body and "&lt;img src=x onerror=&quot;" in body  # as text
    assert "PROVIDER_HTTP_ERROR" in body
    # Nothing of the owner, the models' addresses or the composer.
    assert owner.email not in body and "@example.com" not in body
    assert "http://127.0.0.1" not in body and "<textarea" not in body and "<form" not in body
    # Only the token's hash is stored.
    engine = create_engine(server.env["CHATMORE_DB_URL"])
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                select(share_links.c.token_hash).where(share_links.c.id == link["id"])
            ).scalar_one()
    finally:
        engine.dispose()
    assert stored == hashlib.sha256(link["token"].encode()).hexdigest()


def test_owner_lists_and_revokes_and_a_revoked_link_is_gone(server: JupyterServer, shared) -> None:
    owner, conversation = shared
    first = owner.post(f"api/conversations/{conversation['id']}/shares", json={}).json()
    second = owner.post(
        f"api/conversations/{conversation['id']}/shares", json={"expires_in_days": 7}
    ).json()
    assert second["expires_at"] is not None
    listed = owner.get("api/shares").json()["shares"]
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    assert all("token" not in s for s in listed)
    assert owner.get(f"api/conversations/{conversation['id']}/shares").json()["shares"] == listed

    revoked = owner.http.delete(f"api/shares/{first['id']}", headers=owner.auth)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    gone = page(server, first["path"])
    assert gone.status_code == 404 and "text/html" in gone.headers["content-type"]
    assert page(server, second["path"]).status_code == 200

    # Another user can neither list, revoke nor create links of this conversation.
    stranger = new_client(server)
    assert stranger.get("api/shares").json()["shares"] == []
    theirs = stranger.http.delete(f"api/shares/{second['id']}", headers=stranger.auth)
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "SHARE_LINK_NOT_FOUND"
    foreign = stranger.post(f"api/conversations/{conversation['id']}/shares", json={})
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "CONVERSATION_NOT_FOUND"
    assert page(server, second["path"]).status_code == 200


def test_an_expired_or_unknown_link_is_a_404(server: JupyterServer, shared) -> None:
    owner, conversation = shared
    link = owner.post(
        f"api/conversations/{conversation['id']}/shares", json={"expires_in_days": 1}
    ).json()
    engine = create_engine(server.env["CHATMORE_DB_URL"])
    try:
        with engine.begin() as conn:
            conn.execute(
                update(share_links)
                .where(share_links.c.id == link["id"])
                .values(expires_at=dt.datetime(2000, 1, 1))
            )
    finally:
        engine.dispose()
    assert page(server, link["path"]).status_code == 404
    assert owner.get("api/shares").json()["shares"][0]["active"] is False
    for key in (secrets.token_urlsafe(32), "", "x" * 43, link["token"][:-1], "../../etc"):
        assert page(server, f"chatmore/share?key={key}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"expires_in_days": 0},
        {"expires_in_days": 366},
        {"expires_in_days": "7"},
        {"expires_in_days": True},
        {"expires_at": "2030-01-01"},
    ],
)
def test_bad_expiry_is_refused(shared, body: dict) -> None:
    owner, conversation = shared
    answer = owner.post(f"api/conversations/{conversation['id']}/shares", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "VALIDATION_FAILED"
