"""The dashboard's search box and export links, in a real browser: the visitor's own
prompts and replies, the matches marked, nothing of a hostile prompt run, a hit opens its
conversation, which downloads as Markdown and JSON and shares as a read-only link."""

from __future__ import annotations

import base64
import json
import re
import secrets

import httpx
import pytest

from tests.dashboard.browser import visit
from tests.dashboard.servers import DashboardServer
from tests.dashboard.test_browser import TIMEOUT, sign_in
from tests.support.api import PASSWORD, login, make_conversation, send, unique_email, wait_turn

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_visitor_searches_exports_and_opens_a_hit(dashboard: DashboardServer) -> None:
    email, other = unique_email("searcher"), unique_email("other")
    key = f"zq{secrets.token_hex(5)}"
    hostile = f'Why do {key} <img src=x onerror="window.pwned=1"> glow?'
    for who in (email, other):
        dashboard.create_user(who, PASSWORD)
        client = login(dashboard, who)  # type: ignore[arg-type]
        models = {m["name"]: m["id"] for m in client.get("api/models").json()["models"]}
        conversation = make_conversation(client, [models["Demo Swift"]], title=f"by {who}")
        wait_turn(client, send(client, conversation["id"], hostile)["turn_id"])

    with visit(dashboard.url) as v:
        page = v.page
        page.set_default_timeout(TIMEOUT)
        sign_in(v, email, PASSWORD)
        page.get_by_text(f"Signed in as {email}").wait_for()
        page.get_by_role("tab", name="Search").click()
        page.get_by_placeholder("Search your prompts and replies").fill(key)
        page.get_by_placeholder("Search your prompts and replies").press("Enter")
        page.get_by_text(re.compile(r"^\d+ found$")).wait_for()  # shown after the hits
        hits = page.locator(".widget-hbox", has=page.locator("mark"))
        assert hits.count() >= 1  # the prompt, and the reply if it quotes the word
        hit = hits.filter(has_text="Why do")
        assert hit.count() == 1
        assert hit.locator("mark").inner_text() == key
        assert "<img src=x" in hit.inner_text()  # shown as text
        assert f"by {email}" in hit.inner_text() and other not in page.content()
        assert hit.locator("img").count() == 0
        assert page.evaluate("() => window.pwned") is None
        v.screenshot("search")
        # A hit opens its conversation in the Chat tab.
        hit.get_by_role("button", name="Open").click()
        page.locator("[data-testid=prompt]", has_text=f"Why do {key}").first.wait_for()
        assert page.get_by_label("Title").input_value() == f"by {email}"
        # Export: download links made in the kernel, nothing fetched.
        page.get_by_role("button", name="Export").click()
        links = {}
        for label in ("Markdown", "JSON"):
            href = page.get_by_role("link", name=label).get_attribute("href")
            assert href and href.startswith("data:")
            links[label] = base64.b64decode(href.split(",", 1)[1]).decode()
        assert links["Markdown"].startswith(f"# by {email}") and "## Turn 1" in links["Markdown"]
        assert json.loads(links["JSON"])["turns"][0]["content"] == hostile
        # Share: a read-only link that opens signed out (its own page, checked elsewhere).
        page.get_by_role("button", name="Share").click()
        shared = page.locator('a[href^="chatmore/share"]')
        path = shared.inner_text()
        assert httpx.get(dashboard.url + path, timeout=30).status_code == 200
        assert v.remote_requests() == []
