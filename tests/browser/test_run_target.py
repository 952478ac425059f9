"""`make run PORT=…` as the README's quick start runs it, in Chromium: the address it
prints opens notebooks/workbench.ipynb as the active tab (not the Launcher), on the port
asked for, and no JupyterLab news or update notification pops up."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import Browser
from tests.support.servers import JUPYTER_TOKEN, free_port, wait_until

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]

# The address the lab prints to open (a token from the environment is printed as "...").
PRINTED_URL = re.compile(r"http://127\.0\.0\.1:(\d+)(/\S*)\?token=")


@dataclass
class RunTarget:
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def run_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunTarget]:
    """`make run PORT=<free port>` in the checkout, with its data and Jupyter's folders
    (settings and workspaces too, so that only the project's defaults apply) kept apart."""
    tmp = tmp_path_factory.mktemp("run-target")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CHATMORE_", "JUPYTER"))},
        "CHATMORE_DATA_DIR": str(tmp / "data"),
        "BCRYPT_COST": "4",
        "JUPYTER_TOKEN": JUPYTER_TOKEN,
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_DATA_DIR": str(tmp / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"),
        "BROWSER": "true",  # the lab "opens" its address with a command that does nothing
    }
    env.pop("MYSQL_DSN", None)
    log_path = tmp / "make-run.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            ["make", "run", f"PORT={port}"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make and the lab it starts: one group to stop
        )
    target = RunTarget(port, log_path)
    try:
        wait_until(
            lambda: (
                proc.poll() is None
                and httpx.get(f"http://127.0.0.1:{port}/chatmore/healthz").status_code == 200
            ),
            120,
            "make run to serve on its port",
        )
        wait_until(lambda: PRINTED_URL.search(target.log()), 60, "the lab to print its address")
        yield target
    except Exception:
        print(target.log())
        raise
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_make_run_opens_the_workbench_quietly(run_target: RunTarget, browser: Browser) -> None:
    printed = PRINTED_URL.search(run_target.log())
    assert printed, run_target.log()
    port, path = printed.groups()
    assert int(port) == run_target.port  # PORT=… is the port it serves on
    assert path == "/lab/tree/notebooks/workbench.ipynb"
    # The bare address leads to the same page.
    home = httpx.get(f"http://127.0.0.1:{port}/", params={"token": JUPYTER_TOKEN})
    assert home.status_code in (301, 302) and home.headers["Location"].startswith(path)

    page = browser.page
    page.goto(f"{printed.group(0)}{JUPYTER_TOKEN}")
    active = page.locator(".jp-mod-current.lm-TabBar-tab .lm-TabBar-tabLabel").first
    page.wait_for_function(
        """() => [...document.querySelectorAll(
                '#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current')]
            .some((tab) => tab.textContent.trim() === 'workbench.ipynb')""",
        timeout=120_000,
    )
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.wait_for()
    # The notebook's kernel is up: by then the lab has restored and its notification
    # plugin has decided whether to ask about news or updates.
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=120_000)
    browser.shot("run-target-workbench")
    assert active.inner_text().strip() == "workbench.ipynb"
    assert page.get_by_text("Launcher", exact=True).count() == 0
    # The lab's defaults for its notifications, as the project's overrides set them.
    defaults = page.evaluate(
        """async (token) => {
            const answer = await fetch(
                '/lab/api/settings/@jupyterlab/apputils-extension:notification?token=' + token);
            const shown = (await answer.json()).schema.properties;
            return {news: shown.fetchNews.default, updates: shown.checkForUpdates.default};
        }""",
        JUPYTER_TOKEN,
    )
    assert defaults == {"news": "false", "updates": False}
    assert page.locator(".Toastify__toast").count() == 0
    assert "news" not in page.locator("body").inner_text().lower()
    assert browser.foreign_requests() == []
