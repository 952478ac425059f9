"""notebooks/dashboard.ipynb in English and Chinese, without a server or a browser: its
cells run here against a stand-in for ``chatmore_kernel``. Every string a visitor sees on
every screen comes from the catalogs, no chart draws words into its image (a fresh machine
has no font for Chinese), dates read the locale's way, and the language switch builds the
page again in the other language with the same conversation open and the same tab."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import ipywidgets as W
import matplotlib.text
import nbformat
import pandas as pd
import pytest
import traitlets

from chatmore_kernel import ChatMoreError
from tests.dashboard.conftest import NOTEBOOK
from widgets import i18n

ADMIN = {
    "id": 1,
    "email": "ada@example.com",
    "role": "admin",
    "quota": {"tokens": {"used": 1234}, "cost": {"used": 0.5, "budget": 10, "left": 9.5}},
}
MODELS = ["Demo Swift", "Demo Scholar"]
NOW = pd.Timestamp("2025-01-05 15:04", tz="UTC")

# Words a Chinese page may hold in Latin letters: names (the product, models, formats, the
# fake data's), technical terms kept as they are (API, token, TTFT, p50, UTC, Base URL,
# Top p), and the language switch's own "English".
KEPT = {
    "ChatMore",
    "Demo",
    "Swift",
    "Scholar",
    "Sage",
    "API",
    "token",
    "TTFT",
    "UTC",
    "Base",
    "URL",
    "Top",
    "Markdown",
    "JSON",
    "OpenAI",
    "gpt",
    "mini",
    "https",
    "api",
    "example",
    "com",
    "you",
    "ada",
    "cm",
    "run",
    "notebook",
    "word",
    "English",
    "USD",
    "sql",
    "correctness",
}
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# The fake data's Chinese (titles, prompts, names): all the Chinese an English page may hold.
DATA = [
    "连接查询",
    "两张表怎么",
    "连接",
    "导师",
    "受众",
    "笔记本",
    "服务器",
    "首都",
    "用",
    "中文",
    "？",
]


class FakeBoard(W.Box):
    """What the page needs of a board: a widget with a conversation, blind or not."""

    conversation_id = traitlets.Int()
    blind = traitlets.Bool(False)
    history = traitlets.Dict()
    votes = traitlets.Dict()
    title = traitlets.Unicode()
    locale = traitlets.Unicode()

    @traitlets.observe("locale")
    def _speak_the_front_ends_language(self, change: dict[str, Any]) -> None:
        i18n.set_locale(change["new"])  # as widgets.Board does

    def close(self) -> None:
        self.closed = True
        super().close()


class FakeApi:
    """The notebook API's calls the dashboard makes, answering from fixed data."""

    ChatMoreError = ChatMoreError

    def __init__(self) -> None:
        self.boards: list[FakeBoard] = []

    def connect(self, **_: Any) -> None:
        pass

    def me(self) -> dict[str, Any]:
        return ADMIN

    def logout(self) -> None:
        pass

    def models(self, all: bool = False) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "id": [1, 2, 3],
                "name": [*MODELS, "Demo Sage"],
                "circuit": ["closed", "open", "half_open"],
            }
        )

    def model(self, model_id: int) -> dict[str, Any]:
        return {
            "id": model_id,
            "name": "Demo Swift",
            "provider_name": "demo",
            "base_url": "http://127.0.0.1/demo/v1",
            "upstream_model": "demo-swift",
            "api_key": {"set": True, "last4": "9f3c"},
            "default_params": {"temperature": 0.2},
            "enabled": True,
        }

    def templates(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "id": [4],
                "name": ["导师"],
                "shared": [True],
                "mine": [False],
                "variables": [["受众"]],
            }
        )

    def conversations(self, **_: Any) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "id": [7, 8],
                "title": ["连接查询", None],
                "first_prompt": ["两张表怎么连接？", None],
                "tags": [["sql"], []],
                "last_message_at": [NOW, pd.NaT],
                "created_at": [NOW, NOW],
            }
        )

    def conversation(self, conversation_id: int) -> dict[str, Any]:
        return {"id": conversation_id, "title": "连接查询", "tags": ["sql"], "archived_at": None}

    def board(self, conversation: int | None = None, blind: bool = False, **_: Any) -> FakeBoard:
        board = FakeBoard(conversation_id=conversation or 9, blind=blind)
        self.boards.append(board)
        return board

    def stats(self, by: str | None = None, **_: Any) -> pd.DataFrame:
        if by == "day":
            return pd.DataFrame(
                {
                    "day": pd.to_datetime(["2025-01-03", "2025-01-04"]),
                    "model_name": MODELS,
                    "total_tokens": [120, 300],
                }
            )
        return pd.DataFrame(
            {
                "model_name": MODELS,
                "calls": [3, 2],
                "succeeded": [2, 0],
                "failed": [1, 2],
                "cancelled": [0, 0],
                "success_rate": [2 / 3, 0.0],
                "latency_ms_p50": [800.0, None],
                "latency_ms_p95": [900.0, None],
                "ttft_ms_p50": [200.0, None],
                "ttft_ms_p95": [250.0, None],
                "total_tokens": [420, None],
            }
        )

    def results(self, **_: Any) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "model": ["Demo Swift", "Demo Swift", "Demo Scholar"],
                "status": ["succeeded", "succeeded", "failed"],
                "latency_ms": [700.0, 900.0, None],
                "ttft_ms": [None, None, None],  # no first token timed: an empty chart
            }
        )

    def leaderboard(self, **_: Any) -> pd.DataFrame:
        board = pd.DataFrame(
            {
                "model": MODELS,
                "rating": [1016.0, 984.0],
                "rating_low": [990.0, 950.0],
                "rating_high": [1040.0, 1010.0],
                "votes": [3, 3],
                "success_rate": [1.0, 0.5],
                "latency_ms_p50": [800.0, 1200.0],
                "ttft_ms_p50": [200.0, 300.0],
                "output_tokens_per_s": [40.0, 30.0],
                "cost_per_1k": [None, None],  # no prices: the cost chart has nothing
                "score_correctness": [0.8, 0.6],
            }
        )
        board.attrs["reference"] = "Demo Scholar"
        return board

    def search(self, words: str, limit: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "kind": ["prompt", "reply"],
                "window": MODELS,
                "created_at": [NOW, NOW],
                "conversation": ["连接查询", None],
                "snippet": ["两张表怎么<mark>连接</mark>？", "用 <mark>连接</mark>"],
                "conversation_id": [7, 8],
            }
        )

    def api_keys(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "id": [1, 2],
                "name": ["笔记本", "服务器"],
                "last4": ["1234", "5678"],
                "state": ["active", "revoked"],
                "last_used_at": [NOW, pd.NaT],
            }
        )

    def experiments(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "id": [5, 6],
                "name": ["首都", None],
                "status": ["finished", "running"],
                "succeeded": [58, 1],
                "total": [60, 4],
                "failed": [2, 0],
                "currency": ["USD", None],
                "cost": [0.0123, None],
                "cases": [30, 2],
                "windows": [2, 2],
                "created_at": [NOW, NOW],
            }
        )


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """The notebook's cells run in a namespace of their own, the page asking for Chinese
    as ``chatmore dashboard`` asks (the HTTP_X_CHATMORE_LOCALE variable); ``.ns`` is the
    namespace, ``.api`` the stand-in, ``.texts`` the words drawn into the charts."""
    before = i18n.locale()
    for name in ("HTTP_X_CHATMORE_SESSION", "QUERY_STRING"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_X_CHATMORE_LOCALE", "zh")
    api = FakeApi()
    book = nbformat.read(NOTEBOOK, as_version=4)
    ns: dict[str, Any] = {"__name__": "dashboard_notebook"}
    drawn: list[str] = []
    for index, cell in enumerate(book.cells):
        exec(compile(cell.source, f"{NOTEBOOK.name}[{index}]", "exec"), ns)  # noqa: S102
        if index == 0:
            ns["cm"] = api  # the API's calls answer from the fake from here on
            # Every text a chart draws, as it is drawn (ticks are set when it is saved).
            original = ns["Figure"].savefig

            def savefig(fig: Any, *args: Any, original: Any = original, **kwargs: Any) -> None:
                original(fig, *args, **kwargs)
                texts = fig.findobj(matplotlib.text.Text)
                drawn.extend(text.get_text() for text in texts if text.get_text())

            monkeypatch.setattr(ns["Figure"], "savefig", savefig)
    try:
        yield SimpleNamespace(ns=ns, api=api, texts=drawn)
    finally:
        i18n.set_locale(before)


def strings(widget: W.Widget) -> list[str]:
    """Every string ``widget`` and the widgets in it show: labels, placeholders, tooltips,
    options, tab titles and the text of HTML (without its markup and styles)."""
    found: list[str] = []
    for name in ("description", "placeholder", "tooltip"):
        value = getattr(widget, name, None)
        if isinstance(value, str) and value:
            found.append(value)
    if isinstance(widget, W.HTML | W.Label):
        text = re.sub(r"<style>.*?</style>", " ", widget.value, flags=re.S)
        found.append(html.unescape(re.sub(r"<[^>]+>", " ", text)))
    if isinstance(widget, W.Dropdown):
        found.extend(widget._options_labels)
    if isinstance(widget, W.Tab):
        found.extend(widget.titles)
    for child in getattr(widget, "children", ()):
        found.extend(strings(child))
    # (A text box's placeholder is a zero-width space until one is given.)
    return [text for text in found if text.replace("\u200b", "").strip()]


def english_words(texts: list[str]) -> set[str]:
    """Words in Latin letters that are not names or kept terms."""
    words = {w for text in texts for w in re.findall(r"[A-Za-z]{2,}", text)}
    return words - KEPT


def visit_every_screen(ns: dict[str, Any]) -> Any:
    """Sign in as an admin, open a conversation, search, and open every tab."""
    dashboard = ns["dashboard"]
    dashboard.signed_in(ADMIN)
    chat = dashboard.chat
    chat.form.checks["Demo Swift"].value = True  # a column's settings
    chat.open(7)
    chat.show_add_column(7)
    dashboard.search.query.value = "连接"
    dashboard.search.search()
    for index in range(len(dashboard.tabs.children)):
        dashboard.tabs.selected_index = index
    dashboard.models.pick.value = 1  # a stored model: its key's state shows
    return dashboard


def marker(dashboard: Any) -> str:
    last = dashboard.view.children[-1]
    assert last is dashboard.locale_marker and last.layout.display == "none"
    return last.value


def test_every_screen_speaks_chinese(page: SimpleNamespace) -> None:
    ns = page.ns
    dashboard = ns["dashboard"]
    assert i18n.locale() == "zh"
    assert "HTTP_X_CHATMORE_LOCALE" not in os.environ  # read once, by the page's kernel
    sign_in = strings(dashboard.view)
    assert "登录" in sign_in and "邮箱" in sign_in
    assert marker(dashboard) == '<span class="cm-locale" data-locale="zh"></span>'

    dashboard = visit_every_screen(ns)
    # The page, and the new comparison's form (hidden while a conversation is open).
    shown = strings(dashboard.view) + strings(dashboard.chat.form.view)
    assert not english_words(shown), sorted(english_words(shown))
    assert dashboard.tabs.titles == ("对话", "搜索", "实验", "统计", "排行榜", "API 密钥", "模型")
    everything = "\n".join(shown)
    for expected in (
        "当前登录：ada@example.com（管理员）",
        "本月 token：1,234 · 本月费用：已用 0.50 / 10.00，剩余 9.50",
        "Demo Scholar（已熔断）",
        "导师（共享）",
        "未命名",
        "还没有提示词",
        "2025年1月5日 15:04 UTC",
        "找到 2 条",
        "提示词 · Demo Swift · 2025年1月5日 15:04 UTC",
        "30 条提示词 × 2 个窗口 · 60 个中 58 个成功，2 个失败 · 费用 0.0123 USD",
        "（已完成）",
        "实验 6",
        "有效 · 最近使用：2025年1月5日 15:04 UTC",
        "已撤销 · 从未使用",
        "API 密钥：已设置，末尾为 …9f3c",
        "各模型的成功率",
        "没有成功的调用。",  # time to first token: none timed
        "评分：以 Demo Scholar 为 1000 分。",
        "没有模型同时具备这两项数据。",  # cost: no prices
        "延迟 p50（毫秒）",
    ):
        assert expected in everything, expected
    assert marker(dashboard) == '<span class="cm-locale" data-locale="zh"></span>'


def test_charts_draw_numbers_and_model_names_only(page: SimpleNamespace) -> None:
    dashboard = visit_every_screen(page.ns)
    assert len(dashboard.stats.charts.children) == 4
    assert len(dashboard.leaderboard.charts.children) == 2
    for box in (*dashboard.stats.charts.children, *dashboard.leaderboard.charts.children):
        caption, image = box.children
        assert isinstance(image, W.Image) and bytes(image.value).startswith(b"\x89PNG")
        assert CHINESE.search(caption.value), caption.value  # the words are HTML, in Chinese
    assert page.texts, "no chart was drawn"
    names = "|".join(re.escape(name) for name in MODELS)
    for text in page.texts:
        rest = re.sub(names, "", text)
        assert re.fullmatch(r"[\d\s.,%:×e+\-−]*", rest), f"a chart draws {text!r}"


def test_messages_and_dates_in_both_languages(page: SimpleNamespace) -> None:
    ns = page.ns
    locked = ChatMoreError(
        "AUTH_ACCOUNT_LOCKED",
        "too many failed sign-ins; try again in 4 minutes",
        423,
        {"retry_after": 221},
    )
    assert ns["failure"](locked) == "登录失败次数过多，请过4分钟再试。"
    assert ns["failure"](KeyError("x")) == "出错了（KeyError）。请重试，或联系管理员。"
    assert ns["utc_label"](NOW) == "2025年1月5日 15:04 UTC"
    assert ns["utc_label"](pd.NaT) == "–"
    quota = {"tokens": {"used": 0}, "cost": {"used": 0}}
    assert ns["quota_line"](quota) == "本月 token：0 · 本月费用：0.00"
    settings = ns["ColumnSettings"]("Demo Scholar")
    settings.temperature.value = "warm"
    with pytest.raises(ChatMoreError) as caught:
        settings.params()
    assert caught.value.message == "Demo Scholar：温度必须是数字"
    i18n.set_locale("en")
    assert ns["failure"](locked) == "Too many failed sign-ins; try again in 4 minutes."
    assert ns["utc_label"](NOW) == "Jan 5, 2025, 15:04 UTC"
    assert ns["quota_line"](quota) == "Tokens this month: 0 · cost this month: 0.00"
    settings = ns["ColumnSettings"]("Demo Scholar")
    settings.max_tokens.value = "lots"
    with pytest.raises(ChatMoreError) as caught:
        settings.params()
    assert caught.value.message == "Demo Scholar: max tokens must be a whole number"


def switch(dashboard: Any) -> W.Dropdown:
    """The page's language switch (the one widget with the class cm-language)."""
    found: list[W.Dropdown] = []

    def walk(widget: W.Widget) -> None:
        if "cm-language" in getattr(widget, "_dom_classes", ()):
            found.append(widget)
        for child in getattr(widget, "children", ()):
            walk(child)

    walk(dashboard.view)
    assert len(found) == 1
    assert found[0].options == (("English", "en"), ("中文", "zh"))
    return found[0]


def test_the_switch_rebuilds_the_page_in_the_other_language(page: SimpleNamespace) -> None:
    ns = page.ns
    dashboard = ns["dashboard"]
    # On the sign-in screen: the form again, in English.
    assert switch(dashboard).value == "zh"
    switch(dashboard).value = "en"
    assert i18n.locale() == "en"
    assert "Sign in" in strings(dashboard.view)
    assert marker(dashboard) == '<span class="cm-locale" data-locale="en"></span>'
    switch(dashboard).value = "zh"

    dashboard = visit_every_screen(ns)
    dashboard.chat.open(7)
    old_board = dashboard.chat.board
    old_header = dashboard.view.children[1]
    dashboard.stats.since.value = NOW.date()
    dashboard.tabs.selected_index = 3  # Stats
    assert switch(dashboard).tooltip == "语言"

    switch(dashboard).value = "en"
    assert i18n.locale() == "en"
    assert marker(dashboard) == '<span class="cm-locale" data-locale="en"></span>'
    assert dashboard.tabs.titles[:3] == ("Chat", "Search", "Experiments")
    assert dashboard.tabs.selected_index == 3
    assert dashboard.stats.since.value == NOW.date()
    assert dashboard.stats.loaded  # the tab that is open was loaded again
    assert dashboard.search.query.value == "连接" and dashboard.search.hits.children
    # The same conversation, opened again; the old board and screens closed.
    assert dashboard.chat.board is not old_board and old_board.closed
    assert dashboard.chat.board.conversation_id == 7 and not dashboard.chat.board.blind
    assert old_header.comm is None
    shown = strings(dashboard.view)
    assert "Signed in as ada@example.com (admin)" in shown
    for text in shown:
        for data in DATA:
            text = text.replace(data, "")
        assert not CHINESE.search(text), text
    assert switch(dashboard).tooltip == "Language"
    switch(dashboard).value = "zh"
    assert dashboard.tabs.titles[0] == "对话" and dashboard.tabs.selected_index == 3


def test_a_board_does_not_change_the_pages_language(page: SimpleNamespace) -> None:
    """A board's front end tells the kernel its language (a browser in English, before the
    page's script has told it the page's): the page's stays the kernel's."""
    dashboard = visit_every_screen(page.ns)
    dashboard.chat.board.locale = "en"
    assert i18n.locale() == "zh"
    dashboard.tabs.selected_index = 6  # Models: read again, in the page's language
    assert dashboard.models.pick.options[0] == ("新模型", None)
    switch(dashboard).value = "en"
    dashboard.chat.board.locale = "zh"
    assert i18n.locale() == "en"


def test_a_blind_board_stays_blind_until_its_vote(page: SimpleNamespace) -> None:
    ns = page.ns
    dashboard = visit_every_screen(ns)
    dashboard.chat.open(7, blind=True)
    switch(dashboard).value = "en"
    assert dashboard.chat.board.blind  # no vote yet: the models stay hidden
    dashboard.chat.board.votes = {"12": {"winner": 1, "vote_id": 3, "blind": True}}
    switch(dashboard).value = "zh"
    board = dashboard.chat.board
    assert board.conversation_id == 7 and not board.blind  # voted: the names are shown


def test_signing_out_keeps_the_language_and_its_marker(page: SimpleNamespace) -> None:
    dashboard = visit_every_screen(page.ns)
    dashboard.sign_out()
    assert "你已退出登录。" in " ".join(strings(dashboard.view))
    assert marker(dashboard) == '<span class="cm-locale" data-locale="zh"></span>'
    assert switch(dashboard).value == "zh"
