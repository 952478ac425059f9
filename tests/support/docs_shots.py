"""The README's screenshots, taken by the browser tests that show what they picture.

A test run writes them under ``test-output/docs/`` so that the work tree stays as it was;
``CHATMORE_DOCS_SCREENSHOTS=1 make test`` writes them into ``docs/`` to refresh the README.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def docs_screenshot(target: Any, name: str) -> Path:
    """Screenshot a Playwright page or locator as the README's ``name``; where it went."""
    refresh = os.environ.get("CHATMORE_DOCS_SCREENSHOTS") == "1"
    folder = REPO / "docs" if refresh else REPO / "test-output" / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    target.screenshot(path=str(path))
    return path
