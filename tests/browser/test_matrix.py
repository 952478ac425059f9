"""The experiment matrix in a real JupyterLab and Chromium: rows fill in while the
experiment runs, only the visible rows exist in the page, a header sorts, and a cell
expands into its reply rendered as sanitised Markdown."""

from __future__ import annotations

import nbformat
import pytest

from tests.browser.conftest import Browser, Lab, unique
from tests.browser.test_workbench import run_all_cells

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]

CASES = 400


def write_notebook(lab: Lab, models: list[str]) -> None:
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_code_cell("import chatmore_kernel as cm\ncm.connect()"),
        nbformat.v4.new_code_cell(
            f"prompts = [f'Case {{i}}: **bold {{i}}** <img src=x onerror=\"window.__pwned=1\">'"
            f" for i in range({CASES})]\n"
            f"run = cm.run(prompts, {models!r}, concurrency=8, name='live matrix', wait=False)\n"
            "matrix = run.widget(height=420)\nmatrix"
        ),
    ]
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(book, lab.root / "matrix.ipynb")


def counts(page) -> dict:
    return page.evaluate(
        """() => {
            const m = document.querySelector('.chatmore-matrix');
            return {
              rows: m.querySelectorAll('.cm-mx-body .cm-mx-row').length,
              done: m.querySelectorAll('.cm-mx-body .cm-status-succeeded').length,
              pending: m.querySelectorAll('.cm-mx-body .cm-status-pending').length,
              progress: m.querySelector('.cm-mx-progress').textContent,
            };
        }"""
    )


def test_the_matrix_fills_live_and_expands_a_cell(lab: Lab, browser: Browser) -> None:
    page = browser.page
    echo, paced = unique("Echo"), unique("Paced")
    lab.create_model(echo, "echo;echo=1;tps=0;ttft_ms=150")
    lab.create_model(paced, "demo-swift;tps=0;ttft_ms=150")
    write_notebook(lab, [echo, paced])

    page.goto(lab.url("lab/tree/matrix.ipynb"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    run_all_cells(page)
    matrix = page.locator(".chatmore-matrix")
    matrix.wait_for(timeout=120_000)
    assert matrix.locator(".cm-mx-head").all_text_contents() == ["prompt", echo, paced]

    # Live: cells succeed while later rows still wait.
    page.wait_for_function(
        "() => document.querySelectorAll('.chatmore-matrix .cm-status-succeeded').length >= 4",
        timeout=90_000,
    )
    first = counts(page)
    assert first["pending"] > 0 or "running" in first["progress"]
    browser.shot("matrix-01-filling")
    # Only what is visible is in the page, not 400 rows.
    assert 0 < first["rows"] < 60

    # Scrolling far down shows other rows, still only a few of them.
    page.evaluate(
        "() => { const s = document.querySelector('.cm-mx-scroll'); s.scrollTop = 76 * 300; }"
    )
    page.wait_for_function(
        """() => [...document.querySelectorAll('.cm-mx-body .cm-mx-case')]
                 .some((c) => c.textContent === '#300')""",
        timeout=10_000,
    )
    assert counts(page)["rows"] < 60
    page.evaluate("() => { document.querySelector('.cm-mx-scroll').scrollTop = 0; }")

    # A cell expands into its reply: Markdown rendered, the HTML inert.
    cell = matrix.locator(".cm-mx-body .cm-mx-cell.cm-status-succeeded").first
    cell.click()
    detail = matrix.locator(".cm-mx-detail")
    detail.wait_for(state="visible")
    assert detail.locator(".cm-mx-reply strong").first.text_content().startswith("bold")
    assert detail.locator(".cm-mx-reply img").count() == 0
    assert page.evaluate("() => window.__pwned === undefined")
    browser.shot("matrix-02-expanded")

    # Sorting by a window's figure marks the header.
    matrix.locator(".cm-mx-head", has_text=paced).click()
    assert "cm-sorted-asc" in (
        matrix.locator(".cm-mx-head", has_text=paced).get_attribute("class") or ""
    )

    # It ends filled: every visible cell of the echo column succeeded.
    page.wait_for_function(
        "() => document.querySelector('.cm-mx-progress').textContent.startsWith('finished')",
        timeout=240_000,
    )
    final = counts(page)
    assert final["pending"] == 0
    assert browser.foreign_requests() == []
