"""`chatmore lab`, the README's run command, as a new user meets it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.servers import JUPYTER_TOKEN, free_port, wait_until

REPO = Path(__file__).resolve().parents[2]


def start_lab(tmp_path: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "CHATMORE_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
        "BCRYPT_COST": "4",
    }
    env.pop("CHATMORE_DB_URL", None)
    env.pop("MYSQL_DSN", None)
    log = open(tmp_path / f"lab-{port}.log", "wb")  # noqa: SIM115 - owned by the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server_ext.cli",
            "--config",
            str(REPO / "jupyter_config.py"),
            "lab",
            f"--port={port}",
            "--no-browser",
            f"--IdentityProvider.token={JUPYTER_TOKEN}",
            "--ServerApp.port_retries=0",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_lab_creates_an_admin_once_and_serves_chatmore(tmp_path: Path) -> None:
    port = free_port()
    proc = start_lab(tmp_path, port)
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_until(
            lambda: httpx.get(base + "chatmore/healthz").status_code == 200, 90, "lab to start"
        )
        # JupyterLab itself is there, behind Jupyter's own token.
        lab = httpx.get(base + "lab", params={"token": JUPYTER_TOKEN})
        assert lab.status_code == 200
        assert "JupyterLab" in lab.text

        credentials = tmp_path / "data" / "credentials.json"
        assert credentials.stat().st_mode & 0o777 == 0o600
        admin = json.loads(credentials.read_text())
        answer = httpx.post(base + "chatmore/auth/login", json=admin)
        assert answer.status_code == 200
        assert answer.json()["user"]["role"] == "admin"

        # Three demo models on the built-in provider, answering without any key.
        bearer = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        listed = httpx.get(base + "chatmore/api/models", headers=bearer).json()["models"]
        demo = [m for m in listed if m["provider_name"] == "chatmore-demo"]
        assert len(demo) == 3
        assert all(m["base_url"] == f"{base}chatmore/demo/v1" for m in demo)
        tested = httpx.post(
            base + f"chatmore/api/models/{demo[0]['id']}/test", headers=bearer, timeout=30
        )
        assert tested.json()["ok"] is True, tested.text
    finally:
        stop(proc)
    output = (tmp_path / f"lab-{port}.log").read_text()
    assert str(credentials) in output  # it says where the password is
    assert admin["password"] not in output  # but not the password

    # A second start keeps the same admin and password.
    port = free_port()
    proc = start_lab(tmp_path, port)
    try:
        wait_until(
            lambda: httpx.get(f"http://127.0.0.1:{port}/chatmore/healthz").status_code == 200,
            90,
            "lab to start again",
        )
        assert json.loads(credentials.read_text()) == admin
        again = httpx.post(f"http://127.0.0.1:{port}/chatmore/auth/login", json=admin)
        assert again.status_code == 200
        bearer = {"Authorization": f"Bearer {again.json()['access_token']}"}
        listed = httpx.get(f"http://127.0.0.1:{port}/chatmore/api/models", headers=bearer).json()[
            "models"
        ]
        # The same three, now pointing at the new port.
        assert len(listed) == 3
        assert all(f":{port}/chatmore/demo/v1" in m["base_url"] for m in listed)
    finally:
        stop(proc)
    assert "(exists)" in (tmp_path / f"lab-{port}.log").read_text()
