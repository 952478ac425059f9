"""A real JupyterLab started as ``chatmore lab`` starts it, and Debian's Chromium driven
by Playwright (which never downloads a browser here).

The lab runs in demo mode with the repository's ``jupyter_config.py``, an admin whose
credentials file its kernels read, and a copy of ``notebooks/workbench.ipynb`` in a
temporary folder. Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SERVER_ENV
from tests.support import chromium
from tests.support.api import PASSWORD, seed_user
from tests.support.servers import JUPYTER_TOKEN, JupyterServer

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-output" / "browser"


@dataclass
class Lab:
    server: JupyterServer
    admin_token: str
    root: Path

    def url(self, path: str) -> str:
        return f"{self.server.base_url}{path}?token={JUPYTER_TOKEN}"

    def create_model(self, name: str, upstream: str) -> None:
        answer = httpx.post(
            self.server.api_url + "api/models",
            headers={"Authorization": f"Bearer {self.admin_token}"},
            json={
                "name": name,
                "base_url": self.server.api_url + "demo/v1",
                "upstream_model": upstream,
            },
            timeout=30,
        )
        assert answer.status_code == 201, answer.text


def write_lab_settings(folder: Path, settings: dict[str, dict]) -> None:
    for plugin, values in settings.items():
        package, name = plugin.rsplit("/", 1)
        path = folder / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    tmp = tmp_path_factory.mktemp("lab")
    data, root = tmp / "data", tmp / "root"
    root.mkdir()
    env = {
        "CHATMORE_DATA_DIR": str(data),
        "CHATMORE_DB_URL": f"sqlite:///{data / 'chatmore.db'}",
        "CHATMORE_DEMO": "true",
        "CHATMORE_CREDENTIALS": str(data / "credentials.json"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"),
        **TEST_SERVER_ENV,
        # Demo Sage must still be answering when the test stops it.
        "CHATMORE_PROVIDER_FIRST_TOKEN_TIMEOUT": "30s",
        "CHATMORE_PROVIDER_IDLE_TIMEOUT": "30s",
    }
    server = JupyterServer(
        workdir=root,
        env=env,
        app="jupyterlab",
        extra_args=[f"--config={REPO / 'jupyter_config.py'}"],
        log_level="INFO",
    )
    # Every cell stays in the DOM (no windowing), and no news toast covers the page.
    write_lab_settings(
        tmp / "lab-settings",
        {
            "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
            "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
        },
    )
    # As `chatmore lab`: an admin, and a 0600 credentials file the kernels find.
    server.start(wait=False)
    try:
        server.wait_ready()
        email = seed_user(server, "admin")
        (data / "credentials.json").write_text(json.dumps({"email": email, "password": PASSWORD}))
        (data / "credentials.json").chmod(0o600)
        login = httpx.post(
            server.api_url + "auth/login", json={"email": email, "password": PASSWORD}
        )
        shutil.copy(REPO / "notebooks" / "workbench.ipynb", root / "workbench.ipynb")
        yield Lab(server, login.json()["access_token"], root)
    finally:
        server.stop()


@dataclass
class Browser:
    page: object
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # caret="initial": hiding the caret leaves style="" on the page's inputs, which a
        # test comparing a reply's HTML afterwards would see.
        self.page.screenshot(
            path=str(SCREENSHOTS / f"{name}.png"), full_page=False, caret="initial"
        )

    def foreign_requests(self) -> list[str]:
        return chromium.remote_requests(self.requests)


@pytest.fixture
def browser() -> Iterator[Browser]:
    chromium.ensure()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = chromium.launch(playwright)
        context = chromium.new_context(launched, 1500, 1000)
        page = context.new_page()
        seen = Browser(page)
        page.on("request", lambda request: seen.requests.append(request.url))
        page.on("websocket", lambda ws: seen.requests.append(ws.url))

        def dialog(d) -> None:
            seen.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        page.on(
            "console",
            lambda m: seen.console_errors.append(m.text) if m.type == "error" else None,
        )
        try:
            yield seen
        finally:
            seen.shot("last")  # what the page showed at the end, also after a failure
            context.close()
            launched.close()


def unique(prefix: str) -> str:
    return f"{prefix} {secrets.token_hex(3)}"
