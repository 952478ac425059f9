"""The dashboard's own pages speak the visitor's language: the sign-in form and its
errors, in Chinese for a browser that prefers it or a visitor who chose it, in English
otherwise; and the choice reaches the visitor's kernel. (The page in Chinese, in
Chromium: test_language_browser.py.)"""

from __future__ import annotations

import re

import pytest

from server_ext.dashboard.language import LOCALE_COOKIE, visitor_language
from tests.conftest import REPO
from tests.dashboard.servers import DashboardServer
from tests.support.api import PASSWORD, unique_email

SIGN_IN = {"X-Requested-With": "ChatMore"}


@pytest.mark.parametrize(
    ("cookie", "accept", "language"),
    [
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, "en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        (None, "fr-FR, zh-TW;q=0.7, en;q=0.5", "zh"),  # the first language ChatMore speaks
        (None, "en;q=0.4, zh;q=0.6", "zh"),  # by quality, not by place
        (None, "zh;q=0, en", "en"),  # q=0: not wanted
        (None, "de, fr", "en"),
        (None, None, "en"),
        (None, "zh;q=abc, , ;;;", "en"),
        ("en", "zh-CN", "en"),  # the visitor's own choice wins
        ("zh", "en-US", "zh"),
        ("klingon", "zh-CN", "zh"),  # a cookie naming no language is ignored
    ],
)
def test_the_visitors_language(cookie: str | None, accept: str | None, language: str) -> None:
    assert visitor_language(cookie, accept) == language


def test_the_sign_in_page_in_the_browsers_language(dashboard: DashboardServer) -> None:
    chinese = dashboard.browser(headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get("")
    assert chinese.status_code == 200
    assert '<html lang="zh-CN">' in chinese.text
    assert "登录后即可并排比较多个模型。" in chinese.text
    assert "Sign in to compare" not in chinese.text
    english = dashboard.browser(headers={"Accept-Language": "en-GB"}).get("")
    assert '<html lang="en">' in english.text
    assert "Sign in to compare models side by side." in english.text
    # Both offer the switch, each language named in its own.
    for page in (chinese, english):
        assert 'data-locale="en"' in page.text and ">English<" in page.text
        assert 'data-locale="zh"' in page.text and ">中文<" in page.text


def test_a_chosen_language_outlives_the_browsers(dashboard: DashboardServer) -> None:
    browser = dashboard.browser(headers={"Accept-Language": "zh-CN"})
    browser.cookies.set("chatmore_locale", "en")
    page = browser.get("")
    assert "Sign in to compare models side by side." in page.text


def test_sign_in_errors_in_the_visitors_language(dashboard: DashboardServer) -> None:
    email = unique_email("language")
    dashboard.create_user(email, PASSWORD)
    chinese = dashboard.browser(headers={"Accept-Language": "zh-CN"})
    wrong = chinese.post(
        "dashboard/sign-in", json={"email": email, "password": "wrong"}, headers=SIGN_IN
    )
    assert wrong.status_code == 401
    error = wrong.json()["error"]
    assert error["code"] == "AUTH_INVALID_CREDENTIALS"  # the code is the same for all
    assert error["message"] == "邮箱或密码不正确。"
    english = dashboard.browser(headers={"Accept-Language": "en-US"})
    wrong = english.post(
        "dashboard/sign-in", json={"email": email, "password": "wrong"}, headers=SIGN_IN
    )
    assert wrong.json()["error"]["message"] == "Wrong email or password."
    # The API's own answers stay as they are, whatever the browser prefers.
    api = dashboard.client(headers={"Accept-Language": "zh-CN"})
    answer = api.post("auth/login", json={"email": email, "password": "wrong"})
    assert answer.json()["error"]["message"] == "wrong email or password"


def test_the_page_keeps_the_choice_where_server_and_board_read_it() -> None:
    """The template's script writes the cookie the server reads, the localStorage key
    the board reads, and the event the board listens for (three names, one each)."""
    template = (
        REPO / "server_ext/dashboard/share/voila/templates/chatmore/index.html.j2"
    ).read_text("utf-8")
    i18n_js = (REPO / "widgets/src/i18n.js").read_text("utf-8")
    assert f"{LOCALE_COOKIE}=${{language}}" in template
    storage = re.search(r'STORAGE_KEY = "([^"]+)"', i18n_js)
    event = re.search(r'LOCALE_EVENT = "([^"]+)"', i18n_js)
    assert storage and f'localStorage.setItem("{storage.group(1)}"' in template
    assert event and f'new CustomEvent("{event.group(1)}"' in template
