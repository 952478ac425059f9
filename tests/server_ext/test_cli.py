"""The ``chatmore`` command as a user runs it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support.servers import run_to_exit

CHATMORE = [sys.executable, "-m", "server_ext.cli"]


def chatmore(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None):
    import os
    import subprocess

    return subprocess.run(
        [*CHATMORE, *args],
        input=stdin,
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_lists_every_command(tmp_path: Path) -> None:
    out = chatmore(["--help"], {}, tmp_path).stdout
    for command in ("db", "create-user", "lab"):
        assert command in out
    db_help = chatmore(["db", "--help"], {}, tmp_path).stdout
    for action in ("upgrade", "current", "ddl"):
        assert action in db_help


def test_the_installed_entry_point_runs(tmp_path: Path) -> None:
    exe = shutil.which("chatmore", path=str(Path(sys.executable).parent))
    assert exe, "the chatmore command is not installed beside this Python"
    result = run_to_exit([exe, "--help"], {}, tmp_path)
    assert result.returncode == 0


def test_db_upgrade_then_current(database_url: str, tmp_path: Path) -> None:
    env = {"CHATMORE_DB_URL": database_url, "CHATMORE_DATA_DIR": str(tmp_path)}
    behind = chatmore(["db", "current"], env, tmp_path)
    assert behind.returncode == 1
    assert "revision none" in behind.stdout
    first = chatmore(["db", "upgrade"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "upgraded from empty" in first.stdout
    again = chatmore(["db", "upgrade"], env, tmp_path)
    assert "up to date" in again.stdout
    assert chatmore(["db", "current"], env, tmp_path).returncode == 0


def test_create_user_reads_the_password_from_stdin(database_url: str, tmp_path: Path) -> None:
    env = {
        "CHATMORE_DB_URL": database_url,
        "CHATMORE_DATA_DIR": str(tmp_path),
        "BCRYPT_COST": "4",
    }
    made = chatmore(
        ["create-user", "--email", " Ada@Example.COM ", "--admin"],
        env,
        tmp_path,
        "pw-long-enough\n",
    )
    assert made.returncode == 0, made.stderr
    assert "created admin ada@example.com" in made.stdout
    assert "pw-long-enough" not in made.stdout + made.stderr
    engine = create_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT email, role, password_hash FROM users")).one()
    engine.dispose()
    assert row.email == "ada@example.com"
    assert row.role == "admin"
    assert row.password_hash.startswith("$2") and "pw-long-enough" not in row.password_hash

    twice = chatmore(["create-user", "--email", "ada@example.com"], env, tmp_path, "another-pw\n")
    assert twice.returncode == 1
    assert "AUTH_EMAIL_TAKEN" in twice.stderr


@pytest.mark.parametrize("password", ["short", "x" * 73])
def test_create_user_refuses_bad_passwords(
    database_url: str, tmp_path: Path, password: str
) -> None:
    env = {"CHATMORE_DB_URL": database_url, "CHATMORE_DATA_DIR": str(tmp_path)}
    made = chatmore(["create-user", "--email", "b@example.com"], env, tmp_path, password + "\n")
    assert made.returncode == 1
    assert "VALIDATION_FAILED" in made.stderr


def test_a_password_argument_does_not_exist(tmp_path: Path) -> None:
    result = chatmore(["create-user", "--email", "c@example.com", "--password", "x"], {}, tmp_path)
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr


def test_a_bad_setting_stops_the_cli_by_name(tmp_path: Path) -> None:
    result = chatmore(["db", "current"], {"JWT_REFRESH_TTL": "forever"}, tmp_path)
    assert result.returncode == 2
    assert "JWT_REFRESH_TTL" in result.stderr
