"""``cm.templates``, ``cm.create_template`` and ``cm.fill_template``."""

from __future__ import annotations

import secrets

import pytest

import chatmore_kernel as cm
from tests.chatmore_kernel.conftest import Accounts


def test_templates_from_a_notebook(accounts: Accounts) -> None:
    name = f"teacher-{secrets.token_hex(3)}"
    made = accounts.user.create_template(name, "Explain to {audience}, in {language}.")
    assert made["variables"] == ["audience", "language"]
    shared = accounts.admin.create_template(f"s-{name}", "Be {tone}.", shared=True)

    frame = accounts.user.templates()
    assert list(frame.columns) == [
        "id",
        "name",
        "body",
        "variables",
        "shared",
        "mine",
        "created_at",
        "updated_at",
    ]
    row = frame.set_index("name").loc[name]
    assert row["variables"] == ["audience", "language"] and bool(row["mine"])
    assert shared["name"] in set(frame["name"])
    text = accounts.user.fill_template(name, audience="children", language="French")
    assert text == "Explain to children, in French."
    assert accounts.user.fill_template(shared["id"], tone="kind") == "Be kind."
    with pytest.raises(cm.ChatMoreError) as missing:
        accounts.user.fill_template(name, audience="children")
    assert missing.value.code == "VALIDATION_FAILED"
    with pytest.raises(KeyError):
        accounts.admin.fill_template(name)  # the user's own: the admin does not see it
    with pytest.raises(cm.ChatMoreError) as forbidden:
        accounts.user.create_template("x" + name, "y", shared=True)
    assert forbidden.value.code == "FORBIDDEN"
