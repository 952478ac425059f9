"""Ways to run the demo provider: the recording process, ``chatmore demo-provider``, and
its routes mounted in another tornado application (as the Jupyter extension does)."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tornado import netutil, web
from tornado.httpserver import HTTPServer

from server_ext.demo_provider import routes
from tests.support.providers import DemoProvider, chat_body, content_of, parse_sse, stream_frames


def test_recording_keeps_bodies_and_headers(demo_provider: DemoProvider) -> None:
    demo_provider.clear()
    model = "record-me"
    body = {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "reply"},
            {"role": "user", "content": "second"},
        ],
        "temperature": 0.3,
    }
    headers = {"Authorization": "Bearer sk-recorded"}
    httpx.post(f"{demo_provider.url}/chat/completions", json=body, headers=headers, timeout=10)
    (entry,) = demo_provider.requests(model)
    assert entry["method"] == "POST"
    assert entry["path"] == "/v1/chat/completions"
    assert entry["body"] == body
    assert entry["headers"]["authorization"] == "Bearer sk-recorded"
    assert entry["status"] == 200 and entry["outcome"] == "completed"
    demo_provider.clear()
    assert demo_provider.requests() == []


def test_the_cli_command_serves_without_recording(tmp_path: Path) -> None:
    """``chatmore demo-provider`` runs with no database and records nothing unless asked."""
    data_dir = tmp_path / "data"
    provider = DemoProvider(
        workdir=tmp_path,
        record=False,
        command=[sys.executable, "-m", "server_ext.cli", "demo-provider"],
        # A database that cannot be opened: the command must not try.
        env={
            "CHATMORE_DATA_DIR": str(data_dir),
            "CHATMORE_DB_URL": "sqlite:////proc/no-such-dir/chatmore.db",
        },
    )
    try:
        provider.start()
        frames = parse_sse(stream_frames(provider.url, chat_body("cli-model"))[1])
        assert frames[-1] == "[DONE]"
        off = httpx.get(f"{provider.root}/_demo/requests", timeout=10)
        assert off.status_code == 404
        assert "--record" in off.json()["error"]["message"]
    finally:
        provider.stop()
    assert provider.proc is not None and provider.proc.returncode == 0
    assert not data_dir.exists()


@pytest.fixture
def mounted() -> Iterator[str]:
    """The provider's routes under /chatmore/demo in an application that, like Jupyter's,
    checks XSRF cookies; served from a thread. Yields the base URL."""
    ready = threading.Event()
    box: dict = {}

    def serve() -> None:
        async def main() -> None:
            app = web.Application(
                routes("/chatmore/demo", record=True),  # type: ignore[arg-type]
                xsrf_cookies=True,
            )
            sockets = netutil.bind_sockets(0, "127.0.0.1")
            server = HTTPServer(app)
            server.add_sockets(sockets)
            box["port"] = sockets[0].getsockname()[1]
            box["stop"] = asyncio.Event()
            box["loop"] = asyncio.get_running_loop()
            ready.set()
            await box["stop"].wait()
            server.stop()
            await server.close_all_connections()

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield f"http://127.0.0.1:{box['port']}/chatmore/demo/v1"
    box["loop"].call_soon_threadsafe(box["stop"].set)
    thread.join(10)


def test_routes_mount_under_a_prefix_without_xsrf(mounted: str) -> None:
    response, raw = stream_frames(mounted, chat_body("mounted"))
    assert response.status_code == 200
    assert content_of(parse_sse(raw))
    models = httpx.get(f"{mounted}/models", timeout=10).json()
    assert [m["id"] for m in models["data"]]
    recorded = httpx.get(mounted.replace("/v1", "/_demo/requests"), timeout=10).json()
    assert recorded["requests"][0]["path"] == "/chatmore/demo/v1/chat/completions"
    redirect = httpx.post(
        f"{mounted}/chat/completions", json=chat_body("m;fault=redirect"), timeout=10
    )
    assert redirect.headers["location"].endswith("/chatmore/demo/_demo/redirected")


def test_jupyters_handler_audit_accepts_the_routes() -> None:
    """Jupyter warns about extension handlers that say nothing about authentication."""
    from jupyter_server.serverapp import ServerWebApplication

    for pattern, handler, _ in routes("/chatmore/demo"):
        assert ServerWebApplication._check_handler_auth(None, pattern, handler) == []  # type: ignore[arg-type]
