"""``chatmore dashboard`` as a test starts it: a subprocess on its own port and data
directory, reached only over HTTP, as a visitor's browser reaches it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from server_ext.config import OPTIONS
from tests.support.servers import free_port, tracked, wait_until

# The installed command, as the README tells an admin to run it.
CHATMORE = str(Path(sys.executable).parent / "chatmore")

# Fast hashing for the accounts the tests make; the demo provider and models.
DASHBOARD_ENV = {"BCRYPT_COST": "4", "CHATMORE_DEMO": "true"}


def clean_environ() -> dict[str, str]:
    """This process's environment without any ChatMore setting from the developer's shell."""
    names = {name for option in OPTIONS for name in option.env}
    return {k: v for k, v in os.environ.items() if k not in names}


def chatmore(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None):
    """Run a ``chatmore`` command to its end."""
    return subprocess.run(
        [CHATMORE, *args],
        input=stdin,
        env={**clean_environ(), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@dataclass
class DashboardServer:
    """``chatmore dashboard --port N [--notebook PATH] …`` with ``env`` as its settings."""

    workdir: Path
    env: dict[str, str]
    notebook: Path | None = None
    extra_args: list[str] = field(default_factory=list)
    base_path: str = "/"
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    @property
    def api_url(self) -> str:
        return f"{self.url}chatmore/"

    @property
    def log_path(self) -> Path:
        return self.workdir / "dashboard.log"

    @property
    def environment(self) -> dict[str, str]:
        """What the process runs with: isolated Jupyter folders, then ``env``."""
        return {
            **clean_environ(),
            "JUPYTER_CONFIG_DIR": str(self.workdir / "jupyter-config"),
            "JUPYTER_DATA_DIR": str(self.workdir / "jupyter-data"),
            "JUPYTER_RUNTIME_DIR": str(self.workdir / "jupyter-runtime"),
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }

    def start(self) -> DashboardServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [CHATMORE, "dashboard", "--port", str(self.port), *self.extra_args]
        if self.notebook is not None:
            args += ["--notebook", str(self.notebook)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"the dashboard exited with {self.proc.returncode}")
            return httpx.get(f"{self.api_url}healthz", timeout=2).status_code == 200

        try:
            wait_until(ready, 60, "the dashboard server")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}:\n{self.log()}") from None
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode if self.proc else None

    def client(self, **kwargs) -> httpx.Client:
        """An httpx client of the ChatMore API (closed after the test), as
        ``tests.support.api`` expects of a server."""
        return tracked(httpx.Client(base_url=self.api_url, timeout=60, **kwargs))

    def browser(self, **kwargs) -> httpx.Client:
        """An httpx client of the whole origin: the page, its assets, Jupyter's paths."""
        return tracked(httpx.Client(base_url=self.url, timeout=60, **kwargs))

    def signed_in(self, email: str, password: str) -> httpx.Client:
        """A browser of the whole origin, signed in on the page's sign-in form (the
        form's script posts this same request)."""
        browser = self.browser()
        answer = browser.post(
            "dashboard/sign-in",
            json={"email": email, "password": password},
            headers={"X-Requested-With": "ChatMore"},
        )
        assert answer.status_code == 204, answer.text
        return browser

    def visitor(self, *, admin: bool = False) -> httpx.Client:
        """A new account, signed in on the page."""
        email = f"visitor-{os.urandom(5).hex()}@example.com"
        self.create_user(email, "correct horse battery", admin=admin)
        return self.signed_in(email, "correct horse battery")

    def kernels_started(self) -> int:
        """Kernels this server started so far, as its log tells."""
        return self.log().count("Kernel started:")

    def create_user(self, email: str, password: str, *, admin: bool = False) -> None:
        """``chatmore create-user`` against the server's database, as an admin does."""
        args = ["create-user", "--email", email, "--password-stdin"]
        if admin:
            args.append("--admin")
        done = chatmore(args, self.environment, self.workdir, stdin=f"{password}\n")
        assert done.returncode == 0, done.stderr
