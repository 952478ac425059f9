"""Prompt templates (``api/templates``), on SQLite and MariaDB: personal ones, ones an
admin shares with everyone, filling in their variables, and who may change what."""

from __future__ import annotations

import secrets

import pytest

from tests.support.api import Client, new_client
from tests.support.servers import JupyterServer


def name() -> str:
    return f"tpl-{secrets.token_hex(4)}"


def create(client: Client, **body) -> dict:
    answer = client.post("api/templates", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def listed(client: Client) -> dict[int, dict]:
    return {t["id"]: t for t in client.get("api/templates").json()["templates"]}


def test_personal_and_shared_templates(server: JupyterServer) -> None:
    admin, alice, bob = new_client(server, "admin"), new_client(server), new_client(server)
    mine = create(alice, name=name(), body="You teach {audience} about {topic}. {{literally}}")
    assert mine["variables"] == ["audience", "topic"] and mine["mine"] and not mine["shared"]
    shared = create(admin, name=name(), body="Answer as {persona}.", shared=True)

    assert mine["id"] in listed(alice) and shared["id"] in listed(alice)
    assert mine["id"] not in listed(bob) and shared["id"] in listed(bob)
    assert listed(bob)[shared["id"]]["mine"] is False

    filled = alice.post(
        f"api/templates/{mine['id']}/render",
        json={"variables": {"audience": "children", "topic": "{stars}"}},
    )
    assert filled.status_code == 200
    assert filled.json()["text"] == "You teach children about {stars}. {literally}"
    missing = alice.post(f"api/templates/{mine['id']}/render", json={"variables": {}})
    assert missing.status_code == 400
    assert missing.json()["error"]["details"]["missing"] == ["audience", "topic"]
    # Another user's personal template is not found, whatever the call.
    for answer in (
        bob.post(f"api/templates/{mine['id']}/render", json={"variables": {}}),
        bob.patch(f"api/templates/{mine['id']}", json={"name": "x"}),
        bob.http.delete(f"api/templates/{mine['id']}", headers=bob.auth),
    ):
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "TEMPLATE_NOT_FOUND"
    # A shared one is read by all, changed by admins only.
    assert bob.post(
        f"api/templates/{shared['id']}/render", json={"variables": {"persona": "a pirate"}}
    ).json()["text"] == ("Answer as a pirate.")
    refused = bob.patch(f"api/templates/{shared['id']}", json={"body": "hacked"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    assert (
        alice.post("api/templates", json={"name": name(), "body": "x", "shared": True}).json()[
            "error"
        ]["code"]
        == "FORBIDDEN"
    )


def test_update_rename_and_delete(server: JupyterServer) -> None:
    alice = new_client(server)
    first = create(alice, name=name(), body="Be {tone}.")
    second = create(alice, name=name(), body="Be brief.")
    changed = alice.patch(f"api/templates/{first['id']}", json={"body": "Be {tone} and {length}."})
    assert changed.status_code == 200 and changed.json()["variables"] == ["tone", "length"]
    taken = alice.patch(f"api/templates/{first['id']}", json={"name": second["name"]})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "TEMPLATE_NAME_TAKEN"
    again = alice.post("api/templates", json={"name": second["name"], "body": "x"})
    assert again.status_code == 409
    # Another user may use the same name for theirs.
    create(new_client(server), name=second["name"], body="x")
    gone = alice.http.delete(f"api/templates/{second['id']}", headers=alice.auth)
    assert gone.status_code == 200
    assert second["id"] not in listed(alice) and first["id"] in listed(alice)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "", "body": "x"},
        {"name": "n", "body": ""},
        {"name": "n" * 201, "body": "x"},
        {"name": "n", "body": 3},
        {"name": "n", "body": "x", "shared": "yes"},
        {"name": "n", "body": "x", "owner": 1},
    ],
)
def test_bad_templates_are_refused(server: JupyterServer, body: dict) -> None:
    answer = new_client(server).post("api/templates", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "VALIDATION_FAILED"
