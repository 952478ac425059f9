"""The board speaks JupyterLab's language: English by default; Chinese once JupyterLab's
language setting is Chinese (JupyterLab writes it to <html lang>, even without a language
pack), and the kernel's messages follow (the board's ``locale`` trait)."""

from __future__ import annotations

import shutil

import pytest

from tests.browser.conftest import Browser, Lab, unique, write_lab_settings
from tests.browser.test_board_daily import create_model, open_notebook, run_cell, write_notebook
from tests.browser.test_workbench import wait_statuses
from tests.support.docs_shots import docs_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

TRANSLATION = "@jupyterlab/translation-extension/plugin"


def board_in_a_notebook(lab: Lab, browser: Browser, name: str):
    echo, other = unique("Echo"), unique("Other echo")
    create_model(lab, echo, "echo;echo=1;tps=0", pricing={"input": 1.0, "output": 2.0})
    create_model(lab, other, "echo;echo=1;tps=0")
    write_notebook(
        lab,
        name,
        [
            "import chatmore_kernel as cm\n\nsession = cm.connect()",
            f"board = cm.board([{echo!r}, {other!r}], title='Compare')\nboard",
            "from widgets import i18n\nprint('LANGUAGE', i18n.locale())",
        ],
    )
    notebook = open_notebook(browser.page, lab, name)
    for index in range(2):
        run_cell(browser.page, notebook, index)
    return notebook, notebook.locator('[data-testid="chatmore-board"]').first


def converse(browser: Browser, board) -> None:
    board.locator('[data-testid="shared-input"]').fill("Hello there")
    board.locator('[data-testid="send-button"]').click()
    wait_statuses(browser.page, board, ["succeeded", "succeeded"])


def test_the_board_speaks_english_by_default(lab: Lab, browser: Browser) -> None:
    page = browser.page
    notebook, board = board_in_a_notebook(lab, browser, "english.ipynb")
    shared = board.locator('[data-testid="shared-input"]')
    assert shared.get_attribute("placeholder").startswith("Message every column")
    assert board.locator('[data-testid="send-button"]').inner_text() == "Send"
    assert board.locator('[data-testid="sync-scroll"]').locator("..").inner_text() == "Sync scroll"
    converse(browser, board)
    assert board.locator('[data-testid="column-status"]').first.inner_text() == "succeeded"
    assert board.locator("[data-metric=tokens]").first.inner_text().startswith("in ")
    run_cell(page, notebook, 2)
    assert "LANGUAGE en" in notebook.locator(".jp-OutputArea-output").last.inner_text()
    browser.shot("language-board-en")
    docs_screenshot(board, "board-en.png")


def test_the_board_follows_jupyterlabs_chinese_setting(lab: Lab, browser: Browser) -> None:
    page = browser.page
    write_lab_settings(lab.root.parent / "lab-settings", {TRANSLATION: {"locale": "zh_CN"}})
    try:
        notebook, board = board_in_a_notebook(lab, browser, "chinese.ipynb")
        assert page.evaluate("document.documentElement.lang").startswith("zh")
        shared = board.locator('[data-testid="shared-input"]')
        assert (
            shared.get_attribute("placeholder") == "发送给所有窗口…（Ctrl+Enter 发送，Esc 停止）"
        )
        assert board.locator('[data-testid="send-button"]').inner_text() == "发送"
        assert board.locator('[data-testid="stop-all"]').inner_text() == "全部停止"
        toggle = board.locator('[data-testid="sync-scroll"]').locator("..")
        assert toggle.inner_text() == "同步滚动"
        assert board.locator('[data-testid="column-status"]').first.inner_text() == "空闲"
        converse(browser, board)
        assert board.locator('[data-testid="column-status"]').first.inner_text() == "已完成"
        tokens = board.locator("[data-metric=tokens]").first
        assert tokens.inner_text().startswith("输入 ")
        assert tokens.get_attribute("title") == "提示词与生成的 token 数"
        assert board.locator("[data-metric=latency]").first.inner_text().startswith("延迟 ")
        assert board.locator('[data-testid="exchange-retry"]').first.inner_text() == "重试"
        column_input = board.locator('[data-testid="column-input"]').first
        assert column_input.get_attribute("placeholder").startswith("仅发送给 ")
        assert board.locator('[data-testid="vote-bar"]').inner_text().startswith("哪条回复更好？")
        # The kernel heard the page's language from the board.
        run_cell(page, notebook, 2)
        assert "LANGUAGE zh" in notebook.locator(".jp-OutputArea-output").last.inner_text()
        browser.shot("language-board-zh")
        docs_screenshot(board, "board-zh.png")
    finally:
        shutil.rmtree(lab.root.parent / "lab-settings" / "@jupyterlab" / "translation-extension")
