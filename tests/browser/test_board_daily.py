"""The board's everyday use in a real JupyterLab and Chromium: retry a failed column and
edit a prompt (the old turns stay, and leave the context), stop with Esc (shown as
stopped, not as an error), labelled figures with the cost, many columns that scroll
sideways with their headers in place, rows of one turn lined up, Sync scroll, a narrow
board that stacks its columns, and drafts that survive the columns and the view being
made again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import REPO, Browser, Lab, unique
from tests.browser.test_workbench import wait_statuses

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

LONG_PROMPT = " ".join(f"word{i}" for i in range(400))


def api(lab: Lab, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(
        method,
        lab.server.api_url + path,
        headers={"Authorization": f"Bearer {lab.admin_token}"},
        timeout=30,
        **kwargs,
    )


def create_model(lab: Lab, name: str, upstream: str, **fields: Any) -> None:
    body = {"name": name, "base_url": lab.server.api_url + "demo/v1", "upstream_model": upstream}
    answer = api(lab, "POST", "api/models", json={**body, **fields})
    assert answer.status_code == 201, answer.text


def write_notebook(lab: Lab, name: str, cells: list[str]) -> None:
    """A notebook of its own, with the workbench's kernel (no kernel picker to answer)."""
    book = nbformat.v4.new_notebook(
        metadata=nbformat.read(REPO / "notebooks" / "workbench.ipynb", as_version=4).metadata
    )
    book.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(book, lab.root / name)


def open_notebook(page: Any, lab: Lab, name: str) -> Any:
    """Open a notebook alone in a workspace of its own (so that the notebooks of earlier
    tests are not opened again beside it); return it."""
    page.goto(lab.url(f"lab/workspaces/{Path(name).stem}/tree/{name}"))
    notebook = page.locator(".jp-Notebook:visible")
    notebook.locator(".jp-Cell").first.wait_for(timeout=90_000)
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
    return notebook


def run_cell(page: Any, notebook: Any, index: int) -> None:
    """Run one cell as a user does (click into it, Shift+Enter); wait for it to finish.
    A Shift+Enter while the kernel still connects is lost: then it is pressed again."""
    cell = notebook.locator(".jp-Cell").nth(index)
    started = r"(cell) => /\[(\d+|\*)\]/.test(cell.querySelector('.jp-InputPrompt').textContent)"
    for _attempt in range(3):
        cell.locator(".cm-content").click()
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function(started, arg=cell.element_handle(), timeout=20_000)
            break
        except PlaywrightTimeout:
            continue
    page.wait_for_function(
        r"(cell) => /\[\d+\]/.test(cell.querySelector('.jp-InputPrompt').textContent)",
        arg=cell.element_handle(),
        timeout=120_000,
    )


def columns(board: Any) -> Any:
    return board.locator('[data-testid="column"]')


def boxes(locator: Any) -> list[dict[str, float]]:
    return locator.evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return {x: r.x, y: r.y, width: r.width, height: r.height}; })"
    )


def newest_conversation(lab: Lab) -> dict[str, Any]:
    return api(lab, "GET", "api/conversations").json()["conversations"][0]


def test_retry_edit_esc_and_figures(lab: Lab, browser: Browser) -> None:
    page = browser.page
    echo, failing, slow = unique("Priced echo"), unique("Broken"), unique("Slow echo")
    create_model(
        lab, echo, "echo;echo=1;tps=0", pricing={"input": 1.0, "output": 2.0, "currency": "USD"}
    )
    create_model(lab, failing, "broken;fault=server_error")
    create_model(lab, slow, "echo;echo=1;tps=20")
    write_notebook(
        lab,
        "daily.ipynb",
        [
            "import chatmore_kernel as cm\n\nsession = cm.connect()",
            f"board = cm.board([{echo!r}, {failing!r}], title='Daily')\nboard",
            f"slow = cm.board([{slow!r}], title='Slow')\nslow",
        ],
    )
    notebook = open_notebook(page, lab, "daily.ipynb")
    for index in range(3):
        run_cell(page, notebook, index)
    boards = notebook.locator('[data-testid="chatmore-board"]')
    board, slow_board = boards.nth(0), boards.nth(1)
    board.locator('[data-testid="shared-input"]').fill("Hello there")
    board.locator('[data-testid="send-button"]').click()
    wait_statuses(page, board, ["succeeded", "failed"])
    first_turn = int(
        columns(board).nth(0).locator('[data-testid="exchange"]').get_attribute("data-turn-id")
    )

    # The footer labels its figures and shows the cost of a priced model.
    footer = columns(board).nth(0).locator('[data-testid="column-footer"]')
    assert footer.locator('[data-metric="tokens"]').inner_text().startswith("in ")
    assert " · out " in footer.locator('[data-metric="tokens"]').inner_text()
    assert footer.locator('[data-metric="cost"]').inner_text().startswith("$0.0")
    assert columns(board).nth(1).locator('[data-metric="cost"]').is_hidden()

    # Retry under the failed reply: a new exchange in that column only; the old one stays.
    broken = columns(board).nth(1)
    broken.locator('[data-testid="exchange-retry"]').click()
    broken.locator('[data-testid="exchange"]').nth(1).wait_for()
    wait_statuses(page, board, ["succeeded", "failed"])
    assert columns(board).nth(0).locator('[data-testid="exchange"]').count() == 1
    old_row = broken.locator(f'[data-testid="turn-row"][data-turn-id="{first_turn}"]')
    assert old_row.get_attribute("data-replaced") == "true"
    assert old_row.locator('[data-testid="replaced-note"]').is_visible()
    browser.shot("daily-01-retried")

    # Edit the first column's prompt: it comes back in that column's input; sending it
    # makes a new turn there, whose reply echoes the edited text.
    echo_column = columns(board).nth(0)
    echo_column.locator('[data-testid="exchange-edit"]').click()
    column_input = echo_column.locator('[data-testid="column-input"]')
    assert column_input.input_value() == "Hello there"
    assert echo_column.locator('[data-testid="column-input-editing"]').is_visible()
    browser.shot("daily-02-editing")
    column_input.fill("Hello again")
    echo_column.locator('[data-testid="column-send"]').click()
    edited = echo_column.locator('[data-testid="exchange"]').nth(1)
    edited.locator('[data-testid="reply"]', has_text="Hello again").wait_for()
    wait_statuses(page, board, ["succeeded", "failed"])
    assert echo_column.locator('[data-testid="column-input-editing"]').is_hidden()
    assert echo_column.locator(f'[data-turn-id="{first_turn}"][data-replaced]').count() == 1

    # The server kept every turn, and knows what each new one replaced.
    conversation = newest_conversation(lab)
    history = api(lab, "GET", f"api/conversations/{conversation['id']}/messages").json()
    prompts = {
        w["window_id"]: [
            (m["content"], m["replaces_turn_id"]) for m in w["messages"] if m["role"] == "user"
        ]
        for w in history["windows"]
    }
    echo_id, broken_id = (w["id"] for w in conversation["windows"])
    assert prompts[echo_id] == [("Hello there", None), ("Hello again", first_turn)]
    assert prompts[broken_id] == [("Hello there", None), ("Hello there", first_turn)]

    # Esc while a reply streams stops it; a stopped reply is not shown as an error.
    shared = slow_board.locator('[data-testid="shared-input"]')
    shared.fill(LONG_PROMPT)
    shared.press("Control+Enter")
    page.wait_for_function(
        """(board) => {
            const reply = board.querySelector('[data-testid="reply"]');
            return reply && reply.textContent.length > 20;
        }""",
        arg=slow_board.element_handle(),
        timeout=60_000,
    )
    shared.fill("a draft written while it streams")  # the input stays writable
    page.keyboard.press("Escape")
    wait_statuses(page, slow_board, ["cancelled"])
    assert slow_board.locator('[data-testid="column-status"]').inner_text() == "stopped"
    stopped = slow_board.locator('[data-testid="exchange"]').last
    assert stopped.get_attribute("data-status") == "cancelled"
    assert len(stopped.locator('[data-testid="reply"]').inner_text()) > 20
    assert shared.input_value() == "a draft written while it streams"
    border = "el => getComputedStyle(el).borderLeftColor"
    failed_border = broken.locator('[data-testid="exchange-error"]').first.evaluate(border)
    stopped_border = stopped.locator('[data-testid="exchange-error"]').evaluate(border)
    assert stopped_border != failed_border
    browser.shot("daily-03-stopped")
    assert browser.foreign_requests() == []


def test_many_columns_rows_sync_scroll_and_a_narrow_board(lab: Lab, browser: Browser) -> None:
    page = browser.page
    swept = unique("Sweep model with a name long enough to be cut in a narrow column")
    echo, wordy = unique("Echo"), unique("Wordy")
    create_model(lab, swept, "echo;echo=1;tps=0", default_params={"temperature": 0.7})
    create_model(lab, echo, "echo;echo=1;tps=0")
    create_model(lab, wordy, "demo-scholar;tps=0")
    # The wordy model's long replies beside short echoes, all on screen; then a sweep.
    windows = [
        {"model": wordy},
        {"model": echo},
        *(
            {"model": swept, "name": f"t={t}", "params": {"temperature": t}}
            for t in (0.0, 0.7, 1.4)
        ),
        {"model": echo, "name": "Echo again"},
    ]
    write_notebook(
        lab,
        "wide.ipynb",
        [
            "import chatmore_kernel as cm\n\nsession = cm.connect()",
            f"board = cm.board(windows={windows!r}, title='Wide', height=400)\nboard",
        ],
    )
    notebook = open_notebook(page, lab, "wide.ipynb")
    run_cell(page, notebook, 0)
    run_cell(page, notebook, 1)
    board = notebook.locator('[data-testid="chatmore-board"]').first
    board.wait_for()
    assert columns(board).count() == 6

    # Six columns: one row of fixed-width columns that scrolls sideways, not a grid.
    placed = boxes(columns(board))
    assert len({round(b["y"]) for b in placed}) == 1, placed
    assert all(b["width"] >= 319 for b in placed), placed
    strip = board.locator('[data-testid="columns"]')
    assert strip.evaluate("el => el.scrollWidth > el.clientWidth + 100")
    # The sweep's chips show every column's temperature, the default 0.7 included.
    chips = [
        columns(board).nth(i).locator('[data-testid="param-chip"]').all_inner_texts()
        for i in range(2, 5)
    ]
    assert chips == [["temperature 0"], ["temperature 0.7"], ["temperature 1.4"]]
    model = columns(board).nth(2).locator('[data-testid="column-model"]')
    assert model.get_attribute("title") == swept
    assert model.evaluate("el => el.scrollWidth > el.clientWidth")  # cut: the tooltip helps

    # Two turns: the short echoes and the wordy reply differ in height, yet turn 2 starts
    # at the same height in every column.
    shared = board.locator('[data-testid="shared-input"]')
    for prompt in ("Explain joins in SQL.", "And indexes?"):
        shared.fill(prompt)
        board.locator('[data-testid="send-button"]').click()
        # The input empties once the turn has started (its columns are queued by then).
        page.wait_for_function("(input) => input.value === ''", arg=shared.element_handle())
        wait_statuses(page, board, ["succeeded"] * 6)
    # Turn 2 starts at the same height in every column: in each column's content, and on
    # screen (the headers, with or without chips, end at one height too).
    page.wait_for_function(
        """(board) => {
            const tops = [...board.querySelectorAll('[data-testid="column"]')].map((c) => {
                const body = c.querySelector('[data-testid="column-messages"]');
                const row = body.querySelectorAll('[data-testid="turn-row"]')[1];
                if (!row) return [NaN, NaN];
                const top = body.getBoundingClientRect().top;
                return [row.getBoundingClientRect().top - top + body.scrollTop, top];
            });
            const same = (i) => tops.every((t) => Math.abs(t[i] - tops[0][i]) <= 1);
            return same(0) && same(1) && tops[0][0] > 100;
        }""",
        arg=board.element_handle(),
        timeout=30_000,
    )
    browser.shot("daily-04-six-columns-aligned")

    # Sync scroll: scrolling one column scrolls them all; headers stay in place.
    board.locator('[data-testid="sync-scroll"]').check()
    headers_before = boxes(board.locator('[data-testid="column-header"]'))
    body = columns(board).nth(1).locator('[data-testid="column-messages"]')
    box = body.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -250)
    page.wait_for_function(
        """(board) => {
            const bodies = [...board.querySelectorAll('[data-testid="column-messages"]')]
                .slice(0, 3);  // on screen
            const tops = bodies.map((b) => b.scrollTop);
            const bottom = bodies[0].scrollHeight - bodies[0].clientHeight;
            return tops.every((t) => Math.abs(t - tops[0]) <= 2) && tops[0] < bottom - 100;
        }""",
        arg=board.element_handle(),
        timeout=30_000,
    )
    assert boxes(board.locator('[data-testid="column-header"]'))[:3] == headers_before[:3]
    browser.shot("daily-05-sync-scroll")

    # A board narrowed to 420 px (a side panel open) stacks its columns, whatever the
    # window's width: each takes the board's width instead of being squeezed.
    board.evaluate("el => { el.parentElement.style.width = '420px'; }")
    page.wait_for_function(
        """(board) => {
            const cols = [...board.querySelectorAll('[data-testid="column"]')];
            const rects = cols.map((c) => c.getBoundingClientRect());
            return rects.every((r, i) => r.width > 380 && (i === 0 || r.top > rects[i - 1].top));
        }""",
        arg=board.element_handle(),
        timeout=30_000,
    )
    assert page.evaluate("() => window.innerWidth") == 1500
    board.scroll_into_view_if_needed()
    browser.shot("daily-06-narrow-stacked")


def test_drafts_survive_rebuilt_columns_and_a_new_view(lab: Lab, browser: Browser) -> None:
    page = browser.page
    first, second = unique("Echo A"), unique("Echo B")
    create_model(lab, first, "echo;echo=1;tps=0")
    create_model(lab, second, "echo;echo=1;tps=0")
    write_notebook(
        lab,
        "drafts.ipynb",
        [
            "import chatmore_kernel as cm\n\nsession = cm.connect()",
            f"board = cm.board([{first!r}, {second!r}], title='Drafts')\nboard",
            "board.windows = list(reversed(board.windows))",
            "board",
        ],
    )
    notebook = open_notebook(page, lab, "drafts.ipynb")
    run_cell(page, notebook, 0)
    run_cell(page, notebook, 1)
    board = notebook.locator('[data-testid="chatmore-board"]').first
    board.locator('[data-testid="shared-input"]').fill("Hi both")
    board.locator('[data-testid="send-button"]').click()
    wait_statuses(page, board, ["succeeded", "succeeded"])
    window_ids = [c.get_attribute("data-window-id") for c in columns(board).all()]

    board.locator('[data-testid="shared-input"]').fill("a shared draft")
    column = board.locator(f'[data-testid="column"][data-window-id="{window_ids[1]}"]')
    column.locator('[data-testid="column-input"]').fill("a draft for the second")

    # The kernel changes the board's windows: the columns are rebuilt, in a new order.
    run_cell(page, notebook, 2)
    page.wait_for_function(
        """([board, second]) => board.querySelector('[data-testid="column"]')
            .dataset.windowId === second""",
        arg=[board.element_handle(), window_ids[1]],
        timeout=60_000,
    )
    assert board.locator('[data-testid="shared-input"]').input_value() == "a shared draft"
    assert column.locator('[data-testid="column-input"]').input_value() == (
        "a draft for the second"
    )

    # A second view of the same board shows the same drafts.
    run_cell(page, notebook, 3)
    view = notebook.locator('[data-testid="chatmore-board"]').nth(1)
    view.wait_for()
    assert view.locator('[data-testid="shared-input"]').input_value() == "a shared draft"
    other = view.locator(f'[data-testid="column"][data-window-id="{window_ids[1]}"]')
    assert other.locator('[data-testid="column-input"]').input_value() == (
        "a draft for the second"
    )
    browser.shot("daily-07-drafts")
