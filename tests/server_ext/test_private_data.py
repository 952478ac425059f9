"""The data directory, the SQLite database and its -wal/-shm files are private to the
server's user (0700 / 0600), whether the server or the CLI creates them, and files left
readable by an older version are tightened."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.api import PASSWORD, unique_email

CHATMORE = [sys.executable, "-m", "server_ext.cli"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The common default umask, under which new files are world-readable."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def sqlite_files(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.iterdir() if p.name.startswith("chatmore.db")]


def test_the_cli_creates_a_private_data_dir_and_database(tmp_path: Path, loose_umask) -> None:
    data_dir = tmp_path / "fresh" / "chatmore"
    env = {**os.environ, "CHATMORE_DATA_DIR": str(data_dir), "BCRYPT_COST": "4"}
    env.pop("CHATMORE_DB_URL", None)
    env.pop("MYSQL_DSN", None)
    made = subprocess.run(
        [*CHATMORE, "create-user", "--email", "ada@example.com"],
        input="pw-long-enough\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert mode(data_dir) == 0o700
    files = sqlite_files(data_dir)
    assert data_dir / "chatmore.db" in files
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}


def test_an_older_world_readable_database_is_tightened(tmp_path: Path, loose_umask) -> None:
    data_dir = tmp_path / "old"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    env = {**os.environ, "CHATMORE_DATA_DIR": str(data_dir)}
    env.pop("CHATMORE_DB_URL", None)
    env.pop("MYSQL_DSN", None)
    first = subprocess.run([*CHATMORE, "db", "upgrade"], env=env, capture_output=True, check=False)
    assert first.returncode == 0, first.stderr
    for path in (data_dir, *sqlite_files(data_dir)):
        path.chmod(0o755 if path.is_dir() else 0o644)  # as an older version left them
    again = subprocess.run([*CHATMORE, "db", "upgrade"], env=env, capture_output=True, check=False)
    assert again.returncode == 0, again.stderr
    assert mode(data_dir) == 0o700
    assert all(mode(f) == 0o600 for f in sqlite_files(data_dir))


def test_a_running_server_keeps_its_data_private(make_server, backend: str, loose_umask) -> None:
    env = {"CHATMORE_DB_URL": ""} if backend == "sqlite" else {}
    server = make_server(env=env)
    http = server.client()  # some writes: the WAL is in use
    body = {"email": unique_email(), "password": PASSWORD, "display_name": "P"}
    assert http.post("auth/register", json=body).status_code == 201
    login = {"email": body["email"], "password": PASSWORD}
    assert http.post("auth/login", json=login).status_code == 200
    data_dir = server.data_dir
    assert mode(data_dir) == 0o700
    private = [p for p in data_dir.rglob("*") if p.is_file()]
    assert private  # keys at least
    assert {str(p): mode(p) for p in private} == {str(p): 0o600 for p in private}
    dirs = [p for p in data_dir.rglob("*") if p.is_dir()]
    assert all(mode(p) == 0o700 for p in dirs), {str(p): oct(mode(p)) for p in dirs}
    if backend == "sqlite":
        names = {p.name for p in sqlite_files(data_dir)}
        assert {"chatmore.db", "chatmore.db-wal", "chatmore.db-shm"} <= names
