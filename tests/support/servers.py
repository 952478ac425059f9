"""Real processes for the tests: a Jupyter server with ChatMore loaded, and helpers to
reach it. Nothing here mocks a part; each process is started as a user would start it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

JUPYTER_TOKEN = "jupyter-test-token"

# httpx clients opened by tests; an autouse fixture closes them after each test.
OPEN_CLIENTS: list[httpx.Client] = []


def tracked(client: httpx.Client) -> httpx.Client:
    OPEN_CLIENTS.append(client)
    return client


def close_tracked_clients() -> None:
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except Exception as exc:  # the thing is not up yet
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}: {last_error!r}")


@dataclass
class JupyterServer:
    """A ``jupyter server`` subprocess with the ChatMore extension, on its own port and
    data directory. ``env`` holds ChatMore settings (environment names of DESIGN §9)."""

    workdir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    app: str = "jupyter_server"
    extra_args: list[str] = field(default_factory=list)
    log_level: str = "DEBUG"
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    _log_offset: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}chatmore/"

    @property
    def data_dir(self) -> Path:
        return Path(self.env["CHATMORE_DATA_DIR"])

    def start(self, wait: bool = True) -> JupyterServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "server.log"
        env = {**os.environ, **self.env}
        env.setdefault("JUPYTER_CONFIG_DIR", str(self.workdir / "jupyter-config"))
        env.setdefault("JUPYTER_RUNTIME_DIR", str(self.workdir / "jupyter-runtime"))
        env["PYTHONUNBUFFERED"] = "1"
        args = [
            sys.executable,
            "-m",
            self.app,
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            "--no-browser",
            "--allow-root",
            f"--IdentityProvider.token={JUPYTER_TOKEN}",
            f"--ServerApp.root_dir={self.workdir}",
            f"--ServerApp.log_level={self.log_level}",
            *self.extra_args,
        ]
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
        )
        log.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 180) -> None:  # a busy machine starts slowly
        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            return httpx.get(self.api_url + "healthz", timeout=2).status_code == 200

        try:
            wait_until(ready, timeout, "the ChatMore server")
        except RuntimeError as exc:
            raise RuntimeError(str(exc)) from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode if self.proc else None

    def kill(self) -> None:
        """SIGKILL: no clean-up runs, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self) -> JupyterServer:
        self.stop()
        return self.start()

    def client(self, **kwargs) -> httpx.Client:
        """An httpx client of the ChatMore API, closed after the test."""
        return tracked(httpx.Client(base_url=self.api_url, timeout=30, **kwargs))


def run_to_exit(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60):
    """Run a command that is expected to exit (a server refusing to start, the CLI)."""
    return subprocess.run(
        args,
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
