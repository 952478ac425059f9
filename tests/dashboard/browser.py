"""Debian's Chromium driven by Playwright, as the dashboard's visitors would use it.

Playwright never downloads a browser here: ``scripts/ensure-chromium`` installs Debian's.
Every request the page makes is recorded, so that a test can prove none left this machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.conftest import REPO
from tests.support import chromium

SCREENSHOTS = REPO / "test-output" / "dashboard"


@dataclass
class Visit:
    """A browser page and every URL it requested."""

    page: Page
    requests: list[str] = field(default_factory=list)

    def remote_requests(self) -> list[str]:
        """Requested URLs whose host is not this machine (data: and blob: are local)."""
        return chromium.remote_requests(self.requests)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@contextmanager
def visit(url: str, *, scrollbars: bool = False, locale: str | None = None) -> Iterator[Visit]:
    """Open ``url`` in a fresh headless Chromium (its language ``locale``, e.g. "zh-CN",
    else Playwright's en-US); yields the :class:`Visit`.
    ``scrollbars``: drawn as on a desktop, taking room from the page (Playwright hides
    them by default), so that a stray one shows up in the page's widths."""
    with sync_playwright() as playwright:
        if scrollbars:
            chromium.ensure()
            browser = playwright.chromium.launch(
                executable_path=str(chromium.CHROMIUM),
                args=chromium.CHROMIUM_ARGS,
                headless=True,
                ignore_default_args=["--hide-scrollbars"],
            )
        else:
            browser = chromium.launch(playwright)
        try:
            context = chromium.new_context(browser, 1400, 1000, locale)
            page = context.new_page()
            current = Visit(page)
            page.on("request", lambda request: current.requests.append(request.url))
            page.goto(url)
            try:
                yield current
            except BaseException:
                current.screenshot("failed")  # what the page showed when the test failed
                raise
        finally:
            browser.close()
