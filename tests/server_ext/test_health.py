"""GET /chatmore/healthz against a real server, and ChatMore's error format."""

from __future__ import annotations

import httpx
import pytest

from tests.support.databases import MARIADB_HOST, MARIADB_PORT, MariaDBDatabases
from tests.support.servers import JupyterServer, wait_until
from tests.support.tcpproxy import TcpProxy


def test_healthz_reports_the_database(server: JupyterServer) -> None:
    answer = httpx.get(server.api_url + "healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok"}
    assert answer.headers["content-type"].startswith("application/json")


def test_healthz_needs_no_jupyter_token(server: JupyterServer) -> None:
    # Jupyter's own API refuses the same anonymous client...
    assert httpx.get(server.base_url + "api/contents").status_code == 403
    # ...while the health check answers it.
    assert httpx.get(server.api_url + "healthz").status_code == 200


def test_unknown_route_and_method_use_the_error_format(server: JupyterServer) -> None:
    missing = httpx.get(server.api_url + "no/such/thing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    wrong_method = httpx.post(server.api_url + "healthz")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
def test_database_outage_gives_503_then_recovers(
    backend: str, make_server, mariadb_databases: MariaDBDatabases
) -> None:
    """MariaDB goes away (every connection reset, new ones refused) and comes back."""
    proxy = TcpProxy(MARIADB_HOST, MARIADB_PORT).start()
    try:
        name = mariadb_databases.create().rsplit("/", 1)[1].split("?")[0]
        url = MariaDBDatabases.url(name, host="127.0.0.1", port=proxy.port)
        server = make_server(env={"CHATMORE_DB_URL": url})
        assert httpx.get(server.api_url + "healthz").status_code == 200

        proxy.cut()
        down = httpx.get(server.api_url + "healthz", timeout=15)
        assert down.status_code == 503
        body = down.json()
        assert body["status"] == "unavailable"
        assert body["database"] == "unreachable"
        assert body["reason"]
        assert "mysql+pymysql" not in body["reason"]

        proxy.restore()
        wait_until(
            lambda: httpx.get(server.api_url + "healthz", timeout=15).status_code == 200,
            timeout=20,
            what="healthz to recover",
        )
        assert httpx.get(server.api_url + "healthz").json()["database"] == "ok"
    finally:
        proxy.close()
