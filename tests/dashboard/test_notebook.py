"""notebooks/dashboard.ipynb as it is committed: valid, without outputs or widget state,
on the Python kernel (Voilà starts the kernel the notebook names)."""

from __future__ import annotations

import nbformat

from tests.dashboard.conftest import NOTEBOOK


def test_the_dashboard_is_committed_clean() -> None:
    book = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(book)
    assert book.metadata["kernelspec"]["name"] == "python3"
    assert "widgets" not in book.metadata
    for cell in book.cells:
        assert cell.cell_type == "code", "Voilà would show a markdown cell above the app"
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
