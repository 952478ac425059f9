"""The dashboard in Chinese, in Chromium against `chatmore dashboard` (issue: English and
Chinese everywhere): a browser that prefers zh-CN gets the sign-in page, every tab, the
board on the page and the kernel's messages in Chinese, with dates the Chinese way; the
switch in the header turns all of it into English at once, and the choice outlives a
reload and the browser's own preference. The README's Chinese screenshot is taken here.
"""

from __future__ import annotations

import json
import re
import secrets

import pytest
from playwright.sync_api import Page

from tests.conftest import REPO
from tests.dashboard.browser import visit
from tests.dashboard.servers import DashboardServer
from tests.dashboard.test_daily import ALL_SUCCEEDED, new_user
from tests.support.api import PASSWORD
from tests.support.docs_shots import docs_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

EN = json.loads((REPO / "widgets/locales/en.json").read_text("utf-8"))
ZH = json.loads((REPO / "widgets/locales/zh.json").read_text("utf-8"))
TABS = ("chat", "search", "experiments", "stats", "leaderboard", "keys")
CJK = re.compile(r"[\u3400-\u9fff]")


def tab_labels(page: Page) -> list[str]:
    return [t.strip() for t in page.locator(".lm-TabBar-tab").all_inner_texts()]


def english_left(text: str) -> list[str]:
    """Sentences of the English catalog, other than their Chinese, found in ``text``: an
    English string on a Chinese page (short words are left out: model names hold them)."""
    return sorted(
        english
        for key, english in EN.items()
        if "{" not in english
        and len(english) >= 12
        and " " in english
        and ZH[key] != english
        and english in text
    )


def test_a_chinese_browser_gets_the_dashboard_in_chinese_and_can_switch(
    dashboard: DashboardServer,
) -> None:
    client = new_user(dashboard, "zh")
    prompt = f"What is a B-tree? {secrets.token_hex(3)}"
    with visit(dashboard.url, locale="zh-CN") as v:
        page = v.page
        # The sign-in page, in Chinese; Enter signs in.
        page.get_by_role("button", name=ZH["signin.submit"]).wait_for()
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        assert ZH["signin.lead"] in page.inner_text("body")
        page.get_by_label(ZH["signin.email"]).fill(client.email)
        page.get_by_label(ZH["signin.password"]).fill(PASSWORD)
        page.get_by_label(ZH["signin.password"]).press("Enter")

        # Every tab in Chinese, the page's language kept for the next visit.
        page.locator(".cm-language select").wait_for()
        assert tab_labels(page)[: len(TABS)] == [ZH[f"dashboard.tab.{t}"] for t in TABS]
        switch = page.locator(".cm-language select")
        assert switch.input_value() == ZH["language.name"]  # ipywidgets: the label
        page.wait_for_function("document.documentElement.lang === 'zh-CN'")
        assert page.evaluate("localStorage.getItem('chatmore.locale')") == "zh"
        cookies = {c["name"]: c["value"] for c in page.context.cookies()}
        assert cookies.get("chatmore_locale") == "zh"

        # A comparison: the form and the board on the page speak Chinese.
        page.get_by_label("Demo Swift").check()
        page.get_by_role("button", name=ZH["dashboard.new.start"]).click()
        shared = page.locator("[data-testid=shared-input]")
        shared.wait_for()
        assert shared.get_attribute("placeholder") == ZH["board.placeholder"]
        assert page.locator("[data-testid=send-button]").inner_text() == ZH["composer.send"]
        shared.fill(prompt)
        page.locator("[data-testid=send-button]").click()
        page.wait_for_function(ALL_SUCCEEDED, arg=1)
        status = page.locator("[data-testid=column-status]").first
        assert status.inner_text() == ZH["status.succeeded"]
        # The sidebar's entry: its date the Chinese way.
        entry = page.locator(".cm-sidebar .cm-entry").first
        entry.wait_for()
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", entry.inner_text())
        v.screenshot("language-zh-chat")
        docs_screenshot(page, "dashboard-zh.png")

        # No English sentence on any tab.
        for index, name in enumerate(TABS):
            page.locator(".lm-TabBar-tab").nth(index).click()
            page.wait_for_timeout(500)  # the tab reads the server when opened
            page.wait_for_load_state("networkidle")
            text = page.inner_text("body")
            assert english_left(text) == [], name
            assert CJK.search(text), name
        page.locator(".lm-TabBar-tab").nth(0).click()

        # The switch: English everywhere, the board too, the conversation still open.
        switch.select_option(label=EN["language.name"])
        page.wait_for_function(
            "(chat) => document.querySelector('.lm-TabBar-tab')?.innerText.trim() === chat",
            arg=EN["dashboard.tab.chat"],
        )
        assert tab_labels(page)[: len(TABS)] == [EN[f"dashboard.tab.{t}"] for t in TABS]
        page.locator("[data-testid=prompt]", has_text=prompt).first.wait_for()
        page.wait_for_function(
            "(send) => document.querySelector('[data-testid=send-button]')?.innerText === send",
            arg=EN["composer.send"],
        )
        assert status.inner_text() == EN["status.succeeded"]
        page.wait_for_function("document.documentElement.lang === 'en'")
        assert page.evaluate("localStorage.getItem('chatmore.locale')") == "en"

        # A reload keeps English, though the browser prefers Chinese.
        page.reload()
        page.get_by_text(f"Signed in as {client.email}").wait_for()
        page.locator("[data-testid=prompt]", has_text=prompt).first.wait_for()
        assert tab_labels(page)[0] == EN["dashboard.tab.chat"]
        send = page.locator("[data-testid=send-button]")
        assert send.inner_text() == EN["composer.send"]
        body = page.inner_text("body")
        chinese = [line for line in body.splitlines() if CJK.search(line)]
        assert chinese == [ZH["language.name"]] or all(
            ZH["language.name"] in line for line in chinese
        ), chinese
        assert v.remote_requests() == []
