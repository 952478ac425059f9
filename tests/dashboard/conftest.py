"""Fixtures of the dashboard tests: one ``chatmore dashboard`` for the session, serving
the real ``notebooks/dashboard.ipynb`` in demo mode on SQLite; tests make their own users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import REPO
from tests.dashboard.servers import DASHBOARD_ENV, DashboardServer

NOTEBOOK = REPO / "notebooks" / "dashboard.ipynb"


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    """The dashboard at ``.url`` (the page) and ``.api_url`` (ChatMore's API); it logs
    at DEBUG so that the access log shows every request."""
    workdir = tmp_path_factory.mktemp("dashboard")
    server = DashboardServer(
        workdir=workdir,
        env={**DASHBOARD_ENV, "CHATMORE_DATA_DIR": str(workdir / "data")},
        notebook=NOTEBOOK,
        extra_args=["--log-level", "DEBUG"],
    )
    server.start()
    yield server
    server.stop()
