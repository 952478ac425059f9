"""The workbench and analysis notebooks run top to bottom against a quick-start server,
as a user runs them, and a saved notebook holds no credential."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.notebooks.conftest import NOTEBOOKS, QuickStart

OURS = ("workbench.ipynb", "analysis.ipynb", "experiments.ipynb", "judging.ipynb")
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


@pytest.mark.parametrize("name", OURS)
def test_notebooks_are_committed_without_outputs(name: str) -> None:
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(book)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    assert "widgets" not in book.metadata


@pytest.mark.slow
def test_notebooks_run_top_to_bottom(quick_start: QuickStart, tmp_path: Path) -> None:
    for name in OURS:
        shutil.copy(NOTEBOOKS / name, tmp_path / name)
    # nbval in a pytest of its own, so that its kernels get the quick start's environment.
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "-p",
            "no:cacheprovider",
            "-q",
            "--rootdir",
            str(tmp_path),
            "--nbval-cell-timeout=240",
            *OURS,
        ],
        cwd=tmp_path,
        env=quick_start.kernel_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "passed" in run.stdout


@pytest.mark.slow
def test_a_saved_workbench_holds_no_credential(quick_start: QuickStart, tmp_path: Path) -> None:
    book = nbformat.read(NOTEBOOKS / "workbench.ipynb", as_version=4)
    client = NotebookClient(
        book,
        timeout=240,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        store_widget_state=True,
    )
    client.execute(env=quick_start.kernel_env())
    saved = tmp_path / "workbench.ipynb"
    nbformat.write(book, saved)
    text = saved.read_text()

    # The boards are saved with their history (what they show), and nothing else.
    state = book.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    boards = [w["state"] for w in state.values() if "history" in w["state"]]
    assert len(boards) == 2
    assert all(b["history"] and b["windows"] for b in boards)
    replies = [x["reply"] for b in boards for xs in b["history"].values() for x in xs]
    assert len(replies) == 6 and all(replies)

    password = json.loads(quick_start.credentials.read_text())["password"]
    assert not JWT.search(text), "a token was saved with the notebook"
    assert "Bearer" not in text and "stream_token" not in text
    assert '"password"' not in text and password not in text
