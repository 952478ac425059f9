"""The workbench in a real JupyterLab and Chromium: a prompt typed once streams into three
columns as rendered Markdown; a column forks and another stops mid-stream; a reply full of
script tricks runs nothing; the page never reaches beyond this machine; and a reply drawn
block by block as it streams ends up as a fresh render of its text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import Browser, Lab, unique

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]

PAYLOAD = (
    'Trust me: <img src=x onerror="window.__pwned = 1"> '
    "[a link](javascript:window.__pwned=2) "
    "<script>window.__pwned = 3</script> "
    '<a href="javascript:alert(4)">another</a> '
    "![a picture](http://203.0.113.7/pixel.png) "
    "<svg onload=alert(5)></svg> [fine](https://example.org/ok)"
)


def add_echo_board(lab: Lab, model: str) -> None:
    """A last cell with a board on a model that repeats the prompt verbatim."""
    path = lab.root / "workbench.ipynb"
    book = nbformat.read(path, as_version=4)
    book.cells.append(
        nbformat.v4.new_code_cell(f"echo_board = cm.board([{model!r}], title='Echo')\necho_board")
    )
    nbformat.write(book, path)


def column_status(board, index: int) -> str:
    return board.locator('[data-testid="column"]').nth(index).get_attribute("data-status")


def wait_statuses(page, board, expected: list[str | None], timeout: float = 90_000) -> None:
    """Until each column's status is the expected one (None: any)."""
    page.wait_for_function(
        """([board, expected]) => {
            const columns = board.querySelectorAll('[data-testid="column"]');
            return columns.length === expected.length && expected.every(
                (want, i) => want === null || columns[i].dataset.status === want);
        }""",
        arg=[board.element_handle(), expected],
        timeout=timeout,
    )


def run_all_cells(page) -> None:
    """Run > Run All Cells once the kernel is connected and idle (a click while it still
    connects is lost), and again if no cell has started a few seconds later."""
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
    for _attempt in range(3):
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").filter(
            has_not_text="Restart"
        ).first.click()
        try:
            page.wait_for_function(
                r"""() => [...document.querySelectorAll('.jp-InputPrompt')]
                    .some((p) => /\[(\d+|\*)\]/.test(p.textContent))""",
                timeout=15_000,
            )
            return
        except PlaywrightTimeout:
            continue  # the click was lost: open the menu again
    raise AssertionError("Run All Cells never started a cell")


def test_workbench_in_jupyterlab(lab: Lab, browser: Browser) -> None:
    page = browser.page
    echo = unique("Echo")
    lab.create_model(echo, "echo;echo=1;tps=0")
    add_echo_board(lab, echo)

    page.goto(lab.url("lab/tree/workbench.ipynb"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    run_all_cells(page)

    boards = page.locator('[data-testid="chatmore-board"]')
    boards.nth(2).wait_for(timeout=180_000)  # board, the temperature sweep, the echo board
    board = boards.first
    assert board.locator('[data-testid="column"]').count() == 3
    names = board.locator('[data-testid="column-name"]').all_text_contents()
    assert names == ["Demo Swift", "Demo Scholar", "Demo Sage"]
    sweep = boards.nth(1)
    chips = sweep.locator('[data-testid="param-chip"][data-param="temperature"]')
    # A sweep's chips show each column's temperature, Demo Scholar's default 0.7 too.
    assert chips.all_inner_texts() == ["temperature 0", "temperature 0.7", "temperature 1.4"]
    # The turn the notebook sent from Python has been shown and has finished.
    wait_statuses(page, board, ["succeeded"] * 3)
    board.scroll_into_view_if_needed()
    browser.shot("01-board-after-python-turn")

    # Typed once in the shared input: three columns stream, then show rendered Markdown.
    shared = board.locator('[data-testid="shared-input"]')
    shared.fill("Show me how to reverse a list, with a code example.")
    board.locator('[data-testid="send-button"]').click()
    wait_statuses(page, board, [None, None, "streaming"], timeout=30_000)
    browser.shot("02-streaming")
    wait_statuses(page, board, ["succeeded"] * 3)
    for i in range(3):
        column = board.locator('[data-testid="column"]').nth(i)
        exchange = column.locator('[data-testid="exchange"]').last
        assert exchange.get_attribute("data-status") == "succeeded"
        prompt = exchange.locator('[data-testid="prompt"]').inner_text()
        assert prompt == "Show me how to reverse a list, with a code example."
        reply = exchange.locator('[data-testid="reply"]')
        assert reply.locator("pre code").count() >= 1, f"column {i}: no code block"
        assert reply.locator("pre code [class^='hljs-']").count() > 0, "code not highlighted"
        assert reply.locator("ul li, ol li, strong, h1, h2, h3, blockquote").count() > 0
        assert column.locator('[data-metric="latency"]').inner_text().startswith("latency")
    browser.shot("03-three-replies")

    # Fork: the first column's own input goes on with that model only.
    counts = [
        board.locator('[data-testid="column"]').nth(i).locator('[data-testid="exchange"]').count()
        for i in range(3)
    ]
    first = board.locator('[data-testid="column"]').first
    first.locator('[data-testid="column-input"]').fill("Now in one line, please.")
    first.locator('[data-testid="column-send"]').click()
    first.locator('[data-testid="exchange"]').nth(counts[0]).wait_for(timeout=30_000)
    wait_statuses(page, board, ["succeeded"] * 3)
    after = [
        board.locator('[data-testid="column"]').nth(i).locator('[data-testid="exchange"]').count()
        for i in range(3)
    ]
    assert after == [counts[0] + 1, counts[1], counts[2]]
    browser.shot("04-forked")

    # Stop Demo Sage (slow) mid-stream; the others finish.
    shared.fill("Explain consensus in distributed systems.")
    board.locator('[data-testid="send-button"]').click()
    sage = board.locator('[data-testid="column"]').nth(2)
    page.wait_for_function(
        """(column) => {
            const replies = column.querySelectorAll('[data-testid="reply"]');
            const last = replies[replies.length - 1];
            return column.dataset.status === 'streaming' && last && last.textContent.length > 20;
        }""",
        arg=sage.element_handle(),
        timeout=30_000,
    )
    sage.locator('[data-testid="column-stop"]').click()
    wait_statuses(page, board, ["succeeded", "succeeded", "cancelled"])
    stopped = sage.locator('[data-testid="exchange"]').last
    assert stopped.get_attribute("data-status") == "cancelled"
    assert len(stopped.locator('[data-testid="reply"]').inner_text()) > 20  # partial text kept
    browser.shot("05-stopped")

    # A reply made of script tricks renders as text and runs nothing.
    echo_board = boards.nth(2)
    echo_board.scroll_into_view_if_needed()
    echo_board.locator('[data-testid="shared-input"]').fill(PAYLOAD)
    echo_board.locator('[data-testid="send-button"]').click()
    wait_statuses(page, echo_board, ["succeeded"])
    reply = echo_board.locator('[data-testid="reply"]').last
    page.wait_for_timeout(500)  # give any handler that could fire the time to do it
    browser.shot("06-echo")
    assert "<img src=x" in (reply.text_content() or "")
    assert reply.locator("img, script, svg, iframe, object, embed").count() == 0
    hrefs = [a.get_attribute("href") or "" for a in reply.locator("a").all()]
    assert "https://example.org/ok" in hrefs
    assert not [h for h in hrefs if not h.startswith(("http:", "https:", "mailto:"))], hrefs
    # The javascript: link stayed text; the picture became a plain link, never loaded.
    assert reply.locator("a", has_text="a link").count() == 0
    assert "http://203.0.113.7/pixel.png" in hrefs
    assert page.evaluate("() => window.__pwned") is None
    assert browser.dialogs == []

    assert browser.foreign_requests() == []


RENDER_NODE_SCRIPT = """
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";
import { createMarkdownRenderer } from "./src/render/markdown.js";
const { window } = new JSDOM("<!doctype html><body></body>");
process.stdout.write(createMarkdownRenderer({ window })(readFileSync(0, "utf8")));
"""


def fresh_render(text: str) -> str:
    """The front end's own renderer on ``text`` in one go (node, jsdom), as HTML."""
    node = shutil.which("node") or "node"
    return subprocess.run(
        [node, "--input-type=module", "-e", RENDER_NODE_SCRIPT],
        cwd=REPO / "widgets",
        input=text,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_a_streamed_reply_shows_what_a_fresh_render_shows(lab: Lab, browser: Browser) -> None:
    """Markdown with fences, lists, tables, math and raw HTML, streamed token by token over
    many frames into a board in JupyterLab, ends up exactly as rendering it whole would."""
    corpus = (REPO / "widgets" / "tests" / "fixtures" / "corpus.md").read_text()
    model = unique("Slow echo")
    lab.create_model(model, "echo;echo=1;tps=400")
    # A notebook of its own, with the workbench's kernel (no kernel picker to answer).
    book = nbformat.v4.new_notebook(
        metadata=nbformat.read(REPO / "notebooks" / "workbench.ipynb", as_version=4).metadata
    )
    book.cells = [
        nbformat.v4.new_code_cell("import chatmore_kernel as cm\n\nsession = cm.connect()"),
        nbformat.v4.new_code_cell(f"board = cm.board([{model!r}], title='Render')\nboard"),
    ]
    nbformat.write(book, lab.root / "render.ipynb")

    page = browser.page
    # `reset`: a fresh workspace, so the earlier test's notebook does not open beside this
    # one (and take the focus, leaving this board in a hidden tab).
    page.goto(lab.url("lab/tree/render.ipynb") + "&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    run_all_cells(page)
    board = page.locator('[data-testid="chatmore-board"]').first
    board.wait_for(timeout=120_000)
    board.locator('[data-testid="shared-input"]').fill(corpus)
    board.locator('[data-testid="send-button"]').click()
    reply = board.locator('[data-testid="reply"]').last
    # While it streams, the first block drawn stays the same element: only the tail moves.
    page.wait_for_function(
        """(board) => {
            const reply = [...board.querySelectorAll('[data-testid="reply"]')].pop();
            if (!reply || !reply.querySelector('h2')) return false;
            window.__firstBlock = reply.firstElementChild;
            return true;
        }""",
        arg=board.element_handle(),
        timeout=60_000,
    )
    assert column_status(board, 0) == "streaming"
    wait_statuses(page, board, ["succeeded"])
    page.wait_for_timeout(1500)  # the final check runs when the page is idle
    browser.shot("07-render-equivalence")
    assert page.evaluate(
        "(reply) => reply.firstElementChild === window.__firstBlock", reply.element_handle()
    )
    shown = reply.evaluate("(el) => el.innerHTML")
    assert shown == fresh_render(corpus)
    assert reply.locator("table").count() == 2
    assert reply.locator("script, img").count() == 0
