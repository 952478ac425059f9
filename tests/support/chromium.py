"""Debian's Chromium for the browser tests, launched one way everywhere.

Playwright drives ``/usr/bin/chromium`` and never downloads a browser of its own;
``scripts/ensure-chromium`` installs Debian's package when it is missing.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Playwright

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach Google's hosts,
# which this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# How long an action (click, fill) waits for its element to be ready. Playwright's 30 s
# is not enough on a busy two-core machine, where a kernel or a board's first state can
# take longer to arrive; what the tests then check is unchanged.
ACTION_TIMEOUT_MS = 120_000


def ensure() -> None:
    """Install Debian's Chromium if it is missing; forbid Playwright's own download."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    if not CHROMIUM.exists():
        subprocess.run([str(REPO / "scripts" / "ensure-chromium")], check=True)


def launch(playwright: Playwright) -> Browser:
    ensure()
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )


def new_context(
    browser: Browser, width: int, height: int, locale: str | None = None
) -> BrowserContext:
    """A fresh context with the given viewport and patient actions; ``locale`` (e.g.
    "zh-CN") is the browser's language (navigator.language and Accept-Language)."""
    extra = {"locale": locale} if locale else {}
    context = browser.new_context(viewport={"width": width, "height": height}, **extra)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context


def remote_requests(urls: Iterable[str]) -> list[str]:
    """The URLs that went over the network to a host other than this machine
    (data:, blob: and the like never leave the page)."""
    return [
        url
        for url in urls
        if urlsplit(url).scheme in ("http", "https", "ws", "wss")
        and urlsplit(url).hostname not in LOCAL_HOSTS
    ]
