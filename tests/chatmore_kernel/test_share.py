"""``cm.share``, ``cm.shares`` and ``cm.revoke_share``: links a notebook hands out."""

from __future__ import annotations

import httpx

from tests.chatmore_kernel.conftest import Accounts, DemoModels


def test_share_list_and_revoke(accounts: Accounts, demo_models: DemoModels) -> None:
    rows = accounts.user.ask("Explain SQL joins", [demo_models.swift])
    conversation_id = int(rows["conversation_id"].iloc[0])
    link = accounts.user.share(conversation_id, expires_in_days=2)
    assert link["url"].startswith(accounts.server.base_url)
    page = httpx.get(link["url"], timeout=30)
    assert page.status_code == 200 and "Explain SQL joins" in page.text

    listed = accounts.user.shares()
    assert listed["id"].tolist()[0] == link["id"] and bool(listed["active"].iloc[0])
    assert "token" not in listed.columns
    assert accounts.admin.shares().empty or link["id"] not in accounts.admin.shares()["id"]
    assert accounts.user.revoke_share(link["id"])["active"] is False
    assert httpx.get(link["url"], timeout=30).status_code == 404
