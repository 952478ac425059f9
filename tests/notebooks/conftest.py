"""A ChatMore server as the quick start runs it (demo mode, an admin with a credentials
file), and the environment its kernels get."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import TEST_SERVER_ENV
from tests.support.api import PASSWORD, seed_user
from tests.support.servers import JupyterServer

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
# Settings a developer's shell might carry that would change what the notebooks find.
CLEARED = ("CHATMORE_EMAIL", "CHATMORE_PASSWORD", "CHATMORE_DATA_DIR", "CHATMORE_DB_URL")


@dataclass
class QuickStart:
    server: JupyterServer
    credentials: Path
    email: str

    def kernel_env(self) -> dict[str, str]:
        """What a kernel started by ``chatmore lab``'s JupyterLab finds in its environment."""
        env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        env["CHATMORE_URL"] = self.server.base_url
        env["CHATMORE_CREDENTIALS"] = str(self.credentials)
        env["PYTHONPATH"] = str(REPO)
        return env


@pytest.fixture(scope="module")
def quick_start(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuickStart]:
    tmp = tmp_path_factory.mktemp("quick-start")
    data = tmp / "data"
    server = JupyterServer(
        workdir=tmp / "server",
        env={
            "CHATMORE_DATA_DIR": str(data),
            "CHATMORE_DB_URL": f"sqlite:///{data / 'chatmore.db'}",
            "CHATMORE_DEMO": "true",
            **TEST_SERVER_ENV,
        },
        log_level="INFO",
    ).start()
    try:
        email = seed_user(server, "admin")
        credentials = data / "credentials.json"
        credentials.write_text(json.dumps({"email": email, "password": PASSWORD}))
        credentials.chmod(0o600)
        yield QuickStart(server, credentials, email)
    finally:
        server.stop()
