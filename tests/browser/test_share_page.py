"""A share link opened in Chromium by someone signed out: the conversation reads as on
the board, with no composer, no email, no script run and no request beyond the page
itself (no other conversation, no API, no kernel). On SQLite and MariaDB."""

from __future__ import annotations

import pytest

from tests.dashboard.browser import visit
from tests.support.api import make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_share_link_opens_read_only_signed_out(
    server: JupyterServer, demo_provider: DemoProvider
) -> None:
    admin = new_client(server, "admin")
    models = make_models(admin, demo_provider.url, ["echo;echo=1;tps=0", "demo-swift;tps=0"])
    owner = new_client(server)
    shared = make_conversation(owner, models, title="Shared one")
    prompt = 'Hello <img src=x onerror="window.pwned=1"> **there**'
    wait_turn(owner, send(owner, shared["id"], prompt)["turn_id"])
    private = make_conversation(owner, models, title="Private one")
    wait_turn(owner, send(owner, private["id"], "a private question")["turn_id"])
    link = owner.post(f"api/conversations/{shared['id']}/shares", json={}).json()

    url = server.base_url + link["path"]
    with visit(url) as v:
        page = v.page
        page.locator("[data-testid=reply]").nth(1).wait_for()
        assert page.title() == "Shared one · ChatMore"
        assert page.locator("[data-testid=prompt]").inner_text() == prompt
        echoed = page.locator("[data-testid=reply]").first
        assert echoed.locator("strong").inner_text() == "there"
        assert echoed.locator("img").count() == 0
        assert page.evaluate("() => window.pwned") is None
        # No composer, nothing to type into or send.
        assert page.locator("textarea, input, button, form, [contenteditable]").count() == 0
        text = page.locator("body").inner_text()
        assert owner.email not in text and "@" not in text
        assert "Private one" not in page.content() and "a private question" not in text
        # The page alone: no API call, no other conversation, no kernel, nothing remote.
        assert v.requests == [url], v.requests
        assert page.evaluate("() => document.scripts.length") == 0
        v.screenshot("share-page")

    owner.http.delete(f"api/shares/{link['id']}", headers=owner.auth)
    with visit(url) as v:
        assert "does not open anything" in v.page.locator("body").inner_text()
