"""Shared fixtures: real databases (SQLite and MariaDB) and real ChatMore servers.

``backend`` parametrises a test over both databases. ``server`` is one Jupyter server
per backend for the whole session (tests make their own users, so they do not collide);
``make_server`` starts a dedicated one with other settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.databases import BACKENDS, MariaDBDatabases, new_database_url
from tests.support.servers import JupyterServer, close_tracked_clients

REPO = Path(__file__).resolve().parent.parent

# Settings of the shared test servers: fast hashing, a short lockout, and short provider
# limits and keep-alives so that faults and heartbeats show within a test's patience.
TEST_SERVER_ENV = {
    "BCRYPT_COST": "4",
    "AUTH_ALLOW_SELF_REGISTER": "true",
    "AUTH_LOCKOUT_DURATION": "2s",
    "CHATMORE_PROVIDER_FIRST_TOKEN_TIMEOUT": "3s",
    "CHATMORE_PROVIDER_IDLE_TIMEOUT": "1.5s",
    "CHATMORE_SSE_HEARTBEAT": "1s",
}


@pytest.fixture(scope="session")
def mariadb_databases() -> Iterator[MariaDBDatabases]:
    databases = MariaDBDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path: Path, mariadb_databases: MariaDBDatabases) -> str:
    """An empty database of the current backend, for this test only."""
    return new_database_url(backend, tmp_path, mariadb_databases)


ServerFactory = Callable[..., JupyterServer]


@pytest.fixture(scope="session")
def _servers(
    tmp_path_factory: pytest.TempPathFactory, mariadb_databases: MariaDBDatabases
) -> Iterator[list[JupyterServer]]:
    started: list[JupyterServer] = []
    yield started
    for server in started:
        server.stop()


def _start(
    started: list[JupyterServer],
    tmp: Path,
    backend: str,
    mariadb: MariaDBDatabases,
    env: dict[str, str],
    wait: bool = True,
    **kwargs,
) -> JupyterServer:
    data_dir = tmp / "data"
    settings = {
        "CHATMORE_DATA_DIR": str(data_dir),
        "CHATMORE_DB_URL": new_database_url(backend, data_dir, mariadb),
        **TEST_SERVER_ENV,
        **env,
    }
    server = JupyterServer(workdir=tmp, env=settings, **kwargs)
    started.append(server)
    return server.start(wait=wait)


@pytest.fixture(scope="session")
def server(
    backend: str,
    _servers: list[JupyterServer],
    tmp_path_factory: pytest.TempPathFactory,
    mariadb_databases: MariaDBDatabases,
) -> JupyterServer:
    """The shared server of this backend."""
    tmp = tmp_path_factory.mktemp(f"server-{backend}")
    return _start(_servers, tmp, backend, mariadb_databases, {})


@pytest.fixture
def make_server(
    backend: str,
    tmp_path: Path,
    _servers: list[JupyterServer],
    mariadb_databases: MariaDBDatabases,
) -> Iterator[ServerFactory]:
    """Start a dedicated server with extra settings: ``make_server(env={...})``."""
    mine: list[JupyterServer] = []

    def factory(env: dict[str, str] | None = None, wait: bool = True, **kwargs):
        tmp = tmp_path / f"server{len(mine)}"
        server = _start(_servers, tmp, backend, mariadb_databases, env or {}, wait, **kwargs)
        mine.append(server)
        return server

    yield factory
    for server in mine:
        server.stop()


@pytest.fixture(autouse=True)
def _close_http_clients() -> Iterator[None]:
    yield
    close_tracked_clients()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ChatMore setting leaks in from the developer's shell."""
    from server_ext.config import OPTIONS

    for option in OPTIONS:
        for name in option.env:
            monkeypatch.delenv(name, raising=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for `--dist loadgroup` (the Makefile's two workers): every test that drives
    Chromium runs in one worker, one after another, since two of them at once time out
    on two busy cores; the rest goes a module at a time, so that a module's servers start
    once."""
    if not config.pluginmanager.hasplugin("xdist"):
        return  # `-p no:xdist`: no groups to set
    for item in items:
        group = "chromium" if item.get_closest_marker("browser") else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"CI={os.environ.get('CI', '')}"]


# -- demo provider (tests/support/providers.py) ------------------------------------------

from tests.support.providers import DemoProvider  # noqa: E402 - kept with its fixture


@pytest.fixture(scope="session")
def demo_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProvider]:
    """The demo OpenAI-compatible provider as a process of its own, recording what it
    receives: ``.url`` (ends in /v1), ``.requests(model=…)``, ``.clear()``."""
    provider = DemoProvider(workdir=tmp_path_factory.mktemp("demo-provider")).start()
    yield provider
    provider.stop()


# -- end of demo provider ----------------------------------------------------------------
