"""Settings: parsing, precedence, and a server that refuses a bad value by name."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from server_ext.config import (
    OPTIONS,
    ConfigError,
    Settings,
    load_settings,
    parse_database_url,
    parse_duration,
)
from tests.support.servers import free_port, run_to_exit


def test_every_option_is_a_settings_field() -> None:
    assert [f.name for f in dataclasses.fields(Settings)] == [o.name for o in OPTIONS]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("336h", 1209600), ("60s", 60), ("1h30m", 5400), ("250ms", 0.25), ("90", 90)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["15x", "", "m", "-5m", "0", "5m 3"])
def test_bad_durations(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_go_dsn_becomes_a_pymysql_url() -> None:
    url = parse_database_url("chat:s3cr%40t@tcp(mysql:3306)/chat?parseTime=true")
    assert url == "mysql+pymysql://chat:s3cr%40t@mysql:3306/chat?charset=utf8mb4"


def test_sqlalchemy_urls_are_kept_and_mysql_gets_pymysql_utf8mb4() -> None:
    assert parse_database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert parse_database_url("mysql://u:p@h/db") == "mysql+pymysql://u:p@h/db?charset=utf8mb4"


@pytest.mark.parametrize("bad", ["postgresql://u@h/db", "not a dsn", "mysql+mysqldb://u@h/d"])
def test_unknown_database_schemes_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_database_url(bad)


def test_defaults_put_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings({}, {"CHATMORE_DATA_DIR": str(tmp_path)})
    assert settings.db_url == f"sqlite:///{tmp_path / 'chatmore.db'}"
    assert settings.jwt_access_ttl == 900
    assert settings.jwt_refresh_ttl == 336 * 3600
    assert settings.jwt_stream_ttl == 60
    assert settings.allow_self_register is False
    assert settings.bcrypt_cost == 12


def test_config_beats_environment_beats_default(tmp_path: Path) -> None:
    env = {"CHATMORE_DATA_DIR": str(tmp_path), "JWT_ACCESS_TTL": "5m", "BCRYPT_COST": "10"}
    settings = load_settings({"bcrypt_cost": 11}, env)
    assert settings.jwt_access_ttl == 300  # from the environment
    assert settings.bcrypt_cost == 11  # config wins over the environment


def test_mysql_dsn_environment_name_is_read(tmp_path: Path) -> None:
    env = {"CHATMORE_DATA_DIR": str(tmp_path), "MYSQL_DSN": "u:p@tcp(db:3306)/chat"}
    assert load_settings({}, env).db_url.startswith("mysql+pymysql://u:p@db:3306/chat")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"JWT_ACCESS_TTL": "soon"}, "JWT_ACCESS_TTL"),
        ({"MYSQL_DSN": "oracle://x"}, "MYSQL_DSN"),
        ({"BCRYPT_COST": "99"}, "BCRYPT_COST"),
        ({"COOKIE_SAMESITE": "sometimes"}, "COOKIE_SAMESITE"),
        ({"AUTH_ALLOW_SELF_REGISTER": "perhaps"}, "AUTH_ALLOW_SELF_REGISTER"),
    ],
)
def test_a_bad_value_names_its_setting(tmp_path: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({}, {"CHATMORE_DATA_DIR": str(tmp_path), **env})
    assert named in str(caught.value)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"JWT_ACCESS_TTL": "fortnight"}, "JWT_ACCESS_TTL"),
        ({"MYSQL_DSN": "mongodb://x"}, "MYSQL_DSN"),
    ],
)
def test_server_refuses_to_start_on_a_bad_value(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = run_to_exit(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--allow-root",
            "--no-browser",
            f"--port={free_port()}",
            f"--ServerApp.root_dir={tmp_path}",
        ],
        env={
            "CHATMORE_DATA_DIR": str(tmp_path / "data"),
            "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
            **env,
        },
        cwd=tmp_path,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert named in output
    assert "unusable value" in output


def test_jupyter_config_file_sets_a_trait(tmp_path: Path, clean_env: None) -> None:
    from server_ext.cli import load_cli_settings

    config = tmp_path / "jupyter_config.py"
    config.write_text("c.ChatMoreApp.jwt_access_ttl = '7m'\nc.ChatMoreApp.bcrypt_cost = 5\n")
    settings = load_cli_settings(str(config))
    assert settings.jwt_access_ttl == 420
    assert settings.bcrypt_cost == 5
