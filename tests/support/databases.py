"""The two databases every store and API test runs on: SQLite and MariaDB.

MariaDB runs on this machine (127.0.0.1:3306, root, no password). Each test session
creates databases of its own, named with a random suffix, and drops them at the end.
Without MariaDB the MariaDB half is skipped, except under ``CI=true``, where an
unreachable MariaDB is a failure.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pymysql
import pytest

MARIADB_HOST = os.environ.get("CHATMORE_TEST_MARIADB_HOST", "127.0.0.1")
MARIADB_PORT = int(os.environ.get("CHATMORE_TEST_MARIADB_PORT", "3306"))
MARIADB_USER = os.environ.get("CHATMORE_TEST_MARIADB_USER", "root")
MARIADB_PASSWORD = os.environ.get("CHATMORE_TEST_MARIADB_PASSWORD", "")

BACKENDS = ("sqlite", "mariadb")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _admin_connection() -> pymysql.connections.Connection:
    return pymysql.connect(
        host=MARIADB_HOST,
        port=MARIADB_PORT,
        user=MARIADB_USER,
        password=MARIADB_PASSWORD,
        connect_timeout=3,
        autocommit=True,
    )


def require_mariadb() -> None:
    try:
        _admin_connection().close()
    except pymysql.err.OperationalError as exc:
        message = f"MariaDB is not reachable at {MARIADB_HOST}:{MARIADB_PORT}: {exc}"
        if in_ci():
            pytest.fail(message + " (CI=true: the MariaDB tests must run)", pytrace=False)
        pytest.skip(message)


class MariaDBDatabases:
    """Creates throw-away databases and drops them all at the end."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create(self) -> str:
        require_mariadb()
        name = f"chatmore_test_{secrets.token_hex(4)}"
        with _admin_connection() as conn, conn.cursor() as cur:
            cur.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        self.created.append(name)
        return self.url(name)

    @staticmethod
    def url(name: str, host: str = MARIADB_HOST, port: int = MARIADB_PORT) -> str:
        auth = MARIADB_USER + (f":{MARIADB_PASSWORD}" if MARIADB_PASSWORD else "")
        return f"mysql+pymysql://{auth}@{host}:{port}/{name}?charset=utf8mb4"

    def drop_all(self) -> None:
        if not self.created:
            return
        with _admin_connection() as conn, conn.cursor() as cur:
            for name in self.created:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        self.created.clear()


def new_database_url(backend: str, tmp: Path, mariadb: MariaDBDatabases) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'chatmore.db'}"
    return mariadb.create()
