"""Signing in: with arguments, with nothing (the environment and a credentials file, as a
kernel of ``chatmore lab`` does), and the errors a user meets on the way."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import chatmore_kernel as cm
from tests.support.api import PASSWORD, login, seed_user
from tests.support.servers import JupyterServer

ENV = (
    "CHATMORE_URL",
    "CHATMORE_EMAIL",
    "CHATMORE_PASSWORD",
    "CHATMORE_CREDENTIALS",
    "CHATMORE_DATA_DIR",
)


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    # The Jupyter data dir is where the quick start's file would be: keep it empty.
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter-data"))
    return monkeypatch


@pytest.fixture(autouse=True)
def _no_default_session():
    yield
    cm.logout()


def write_credentials(path: Path, email: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"email": email, "password": PASSWORD}))
    path.chmod(mode)
    return path


def test_connect_with_arguments(server: JupyterServer, no_env) -> None:
    email = seed_user(server)
    session = cm.connect(server.base_url, email, PASSWORD)
    assert session is cm.session()
    assert session.url == server.base_url
    assert session.user["email"] == email and session.user["role"] == "user"
    assert cm.me()["email"] == email
    assert email in repr(session)
    # The API URL itself is accepted too.
    other = cm.Session(server.api_url, email, PASSWORD)
    assert other.url == server.base_url
    other.close()


def test_connect_with_no_arguments_reads_env_and_credentials_file(
    server: JupyterServer, no_env, tmp_path: Path
) -> None:
    email = seed_user(server, "admin")
    no_env.setenv("CHATMORE_URL", server.base_url)
    no_env.setenv("CHATMORE_CREDENTIALS", str(write_credentials(tmp_path / "c.json", email)))
    assert cm.connect().user["email"] == email
    # The first call of a module-level function connects by itself.
    cm.logout()
    assert "Demo Swift" not in set(cm.models()["name"])  # no demo on this server
    assert cm.session().user["email"] == email


def test_environment_credentials_win_over_the_file(
    server: JupyterServer, no_env, tmp_path: Path
) -> None:
    in_env, in_file = seed_user(server), seed_user(server)
    no_env.setenv("CHATMORE_URL", server.base_url)
    no_env.setenv("CHATMORE_EMAIL", in_env)
    no_env.setenv("CHATMORE_PASSWORD", PASSWORD)
    no_env.setenv("CHATMORE_CREDENTIALS", str(write_credentials(tmp_path / "c.json", in_file)))
    assert cm.connect().user["email"] == in_env


def test_the_quick_start_file_in_the_data_dir_is_found(
    server: JupyterServer, no_env, tmp_path: Path
) -> None:
    email = seed_user(server)
    no_env.setenv("CHATMORE_URL", server.base_url)
    no_env.setenv("CHATMORE_DATA_DIR", str(tmp_path / "data"))
    write_credentials(tmp_path / "data" / "credentials.json", email)
    assert cm.connect().user["email"] == email
    # Without CHATMORE_DATA_DIR: <Jupyter data dir>/chatmore/credentials.json.
    no_env.delenv("CHATMORE_DATA_DIR")
    write_credentials(
        Path(os.environ["JUPYTER_DATA_DIR"]) / "chatmore" / "credentials.json", email
    )
    assert cm.connect().user["email"] == email


def test_a_credentials_file_others_can_read_is_warned_about(
    server: JupyterServer, no_env, tmp_path: Path
) -> None:
    email = seed_user(server)
    path = write_credentials(tmp_path / "c.json", email, mode=0o644)
    no_env.setenv("CHATMORE_CREDENTIALS", str(path))
    with pytest.warns(UserWarning, match="readable by other users"):
        session = cm.connect(server.base_url)
    assert session.user["email"] == email


def test_nothing_to_connect_with_is_a_clear_error(server: JupyterServer, no_env) -> None:
    with pytest.raises(cm.ChatMoreError) as no_url:
        cm.connect()
    assert no_url.value.code == "NOT_CONFIGURED" and "CHATMORE_URL" in no_url.value.message
    with pytest.raises(cm.ChatMoreError) as no_credentials:
        cm.connect(server.base_url)
    assert no_credentials.value.code == "NOT_CONFIGURED"
    assert "CHATMORE_CREDENTIALS" in no_credentials.value.message
    with pytest.raises(cm.ChatMoreError) as unreachable:
        cm.connect("http://127.0.0.1:9/", "a@example.com", PASSWORD)
    assert unreachable.value.code == "SERVER_UNREACHABLE" and unreachable.value.status is None


def test_wrong_password_is_the_servers_error(server: JupyterServer, no_env) -> None:
    email = seed_user(server)
    with pytest.raises(cm.ChatMoreError) as wrong:
        cm.connect(server.base_url, email, "not the password")
    assert wrong.value.code == "AUTH_INVALID_CREDENTIALS"
    assert wrong.value.status == 401
    assert PASSWORD not in str(wrong.value)


def test_logout_ends_the_session_on_the_server(server: JupyterServer, no_env) -> None:
    email = seed_user(server)
    session = cm.Session(server.base_url, email, PASSWORD)
    cookies = dict(session._api._http.cookies)  # the refresh cookie, to replay it below
    session.logout()
    with pytest.raises(cm.ChatMoreError) as closed:
        session.me()
    assert closed.value.code == "SESSION_CLOSED"
    replay = server.client(cookies=cookies)
    answer = replay.post("auth/refresh", headers={"X-Requested-With": "ChatMore"})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "AUTH_TOKEN_REVOKED"


def test_connect_takes_over_a_handed_over_session(server: JupyterServer, no_env) -> None:
    """The dashboard server hands a page's kernel a refresh token instead of a password."""
    email = seed_user(server)
    handed = login(server, email).refresh_cookie()
    session = cm.connect(server.base_url, refresh_token=handed)
    assert session.user["email"] == email
    assert cm.me()["email"] == email
    again = server.client(cookies={"chatmore_refresh": handed})
    reused = again.post("auth/refresh", headers={"X-Requested-With": "ChatMore"})
    assert reused.status_code == 200  # within the grace period: the same live session
    with pytest.raises(cm.ChatMoreError) as refused:
        cm.connect(server.base_url, refresh_token="not-a-token")
    assert refused.value.code == "AUTH_TOKEN_INVALID"
