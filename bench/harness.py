"""Real processes for the benchmarks: the demo provider and a ChatMore server, each a
process of its own, started as the tests start them (tests/support)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.api import PASSWORD, seed_user  # noqa: E402
from tests.support.databases import MariaDBDatabases, require_mariadb  # noqa: E402
from tests.support.providers import DemoProvider  # noqa: E402
from tests.support.servers import JupyterServer  # noqa: E402


@dataclass
class Stack:
    provider: DemoProvider
    server: JupyterServer
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def rss_peak_mb(self) -> float:
        """The server process's peak resident memory (VmHWM)."""
        assert self.server.proc is not None
        status = Path(f"/proc/{self.server.proc.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    def model(self, upstream: str, **fields) -> int:
        answer = httpx.post(
            self.server.api_url + "api/models",
            headers=self.auth,
            json={
                "name": f"{upstream.split(';')[0]}-{secrets.token_hex(3)}",
                "base_url": self.provider.url,
                "upstream_model": upstream,
                **fields,
            },
        )
        answer.raise_for_status()
        return answer.json()["id"]

    def send(self, conversation_id: int, content: str, client: httpx.Client | None = None) -> int:
        """Start a turn; its id. ``client``: a kept connection, for timed requests."""
        post = client.post if client is not None else httpx.post
        answer = post(
            f"{self.server.api_url}api/conversations/{conversation_id}/messages",
            headers=self.auth,
            json={"content": content},
        )
        answer.raise_for_status()
        return answer.json()["turn_id"]

    def conversation(self, model_ids: list[int]) -> dict:
        answer = httpx.post(
            self.server.api_url + "api/conversations",
            headers=self.auth,
            json={"windows": [{"model_id": m} for m in model_ids]},
        )
        answer.raise_for_status()
        return answer.json()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def profiled(pid: int, path: str | None) -> Iterator[None]:
    """Sample ``pid`` with py-spy (``pip install py-spy``) into ``path`` (speedscope JSON,
    or a flame graph if it ends in .svg) while the block runs; nothing when ``path`` is None."""
    if path is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    fmt = "flamegraph" if path.endswith(".svg") else "speedscope"
    proc = subprocess.Popen(
        [spy, "record", "-p", str(pid), "-o", path, "-f", fmt, "-r", "250", "--nonblocking"],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        proc.send_signal(2)  # SIGINT: py-spy writes what it sampled and exits
        proc.wait(timeout=60)


@contextlib.contextmanager
def stack(backend: str = "sqlite", env: dict[str, str] | None = None) -> Iterator[Stack]:
    """The demo provider and a ChatMore server on ``backend`` (sqlite or mariadb)."""
    with tempfile.TemporaryDirectory(prefix="chatmore-bench-") as tmp:
        root = Path(tmp)
        databases = MariaDBDatabases()
        if backend == "mariadb":
            require_mariadb()
            url = databases.create()
        else:
            url = f"sqlite:///{root / 'data' / 'chatmore.db'}"
        provider = DemoProvider(workdir=root / "provider", record=False).start()
        server = JupyterServer(
            workdir=root / "server",
            env={
                "CHATMORE_DATA_DIR": str(root / "data"),
                "CHATMORE_DB_URL": url,
                "BCRYPT_COST": "4",
                "CHATMORE_MODEL_CONCURRENCY": "1000",
                # Load tests are one user far past any sensible per-user limit.
                "CHATMORE_RATE_LIMIT_RPM": "0",
                "CHATMORE_RATE_LIMIT_TPM": "0",
                "CHATMORE_RATE_LIMIT_STREAMS": "0",
                **(env or {}),
            },
            log_level="WARN",
        )
        try:
            server.start()
            email = seed_user(server, "admin")
            login = httpx.post(
                server.api_url + "auth/login", json={"email": email, "password": PASSWORD}
            )
            login.raise_for_status()
            yield Stack(provider, server, login.json()["access_token"])
        finally:
            server.stop()
            provider.stop()
            databases.drop_all()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = (len(ordered) - 1) * q
    low = int(index)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def quiet_env() -> None:
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
