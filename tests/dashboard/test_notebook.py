"""notebooks/dashboard.ipynb as it is committed: valid, without outputs or widget state,
on the Python kernel (Voilà starts the kernel the notebook names); its message keys where
the catalogs' test finds them."""

from __future__ import annotations

import re

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


def test_its_message_keys_are_where_the_catalogs_test_finds_them() -> None:
    """tests/widgets/test_i18n.py reads the .ipynb file as it is (JSON): a key in double
    quotes (escaped there as \\"), on the line after ``t(``, or built at run time would be
    invisible to it."""
    raw = NOTEBOOK.read_text("utf-8")
    assert not re.search(r'\bt\(\\"', raw)
    source = "\n".join(cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells)
    assert not re.search(r"\bt\(\s*\n", source)
    assert not re.search(r"""\bt\(\s*f["']""", source)
    assert len(re.findall(r"\bt\('dashboard\.[\w.]+'", source)) > 150
