"""A blind round in a real JupyterLab and Chromium: the columns come shuffled and named
Model A, B, C with no model name on the page; after the vote bar's click the names show,
in the same (shuffled) order, and the vote is stored, marked blind."""

from __future__ import annotations

import httpx
import nbformat
import pytest

from tests.browser.conftest import Browser, Lab
from tests.browser.test_workbench import run_all_cells, wait_statuses

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]

MODELS = ["Demo Swift", "Demo Scholar", "Demo Sage"]


def write_notebook(lab: Lab) -> None:
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    book.cells = [
        nbformat.v4.new_code_cell("import chatmore_kernel as cm\ncm.connect()"),
        nbformat.v4.new_code_cell(
            f"board = cm.board({MODELS!r}, blind=True, title='Blind round')\nboard"
        ),
    ]
    nbformat.write(book, lab.root / "blind.ipynb")


def test_a_blind_round_in_jupyterlab(lab: Lab, browser: Browser) -> None:
    page = browser.page
    write_notebook(lab)
    page.goto(lab.url("lab/tree/blind.ipynb"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    run_all_cells(page)

    board = page.locator('[data-testid="chatmore-board"]').first
    board.wait_for(timeout=180_000)
    names = board.locator('[data-testid="column-name"]')
    assert names.all_text_contents() == ["Model A", "Model B", "Model C"]
    assert not any(model in board.inner_text() for model in MODELS)
    bar = board.locator('[data-testid="vote-bar"]')
    assert bar.is_hidden()  # nothing to vote on yet
    browser.shot("blind-01-hidden")

    board.locator('[data-testid="shared-input"]').fill("Name three prime numbers.")
    board.locator('[data-testid="send-button"]').click()
    wait_statuses(page, board, ["succeeded"] * 3)
    bar.wait_for(state="visible", timeout=60_000)
    options = bar.locator('[data-testid="vote-option"]')
    assert options.all_text_contents() == [
        "Model A is best",
        "Model B is best",
        "Model C is best",
        "Tie",
        "All bad",
    ]
    assert not any(model in board.inner_text() for model in MODELS)
    browser.shot("blind-02-before-vote")

    options.nth(1).click()  # Model B
    page.wait_for_function(
        """(board) => [...board.querySelectorAll('[data-testid="column-name"]')]
            .every((n) => n.textContent.startsWith('Demo '))""",
        arg=board.element_handle(),
        timeout=30_000,
    )
    shown = names.all_text_contents()
    assert sorted(shown) == sorted(MODELS) and shown != MODELS  # shuffled, now named
    chosen = bar.locator('[aria-pressed="true"]')
    chosen.wait_for(timeout=30_000)
    assert chosen.inner_text() == f"{shown[1]} is best"  # the same column, named
    browser.shot("blind-03-after-vote")

    answer = httpx.get(
        lab.server.api_url + "api/votes",
        headers={"Authorization": f"Bearer {lab.admin_token}"},
        timeout=30,
    )
    votes = answer.json()["votes"]
    assert len(votes) == 1
    vote = votes[0]
    assert vote["blind"] is True and vote["outcome"] == "best"
    assert vote["winner_result_id"] == vote["result_ids"][1]  # in the order shown
    turn = httpx.get(
        lab.server.api_url + f"api/turns/{vote['turn_id']}",
        headers={"Authorization": f"Bearer {lab.admin_token}"},
        timeout=30,
    ).json()
    assert len(turn["results"]) == 3
    assert browser.foreign_requests() == []
