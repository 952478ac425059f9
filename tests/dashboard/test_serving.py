"""``chatmore dashboard`` as a visitor meets it: the page and the ChatMore API on one
origin, nothing else of Jupyter, no code of the visitor's run, nothing from the internet."""

from __future__ import annotations

import base64
import html
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import httpx
import nbformat
import pytest
from tornado.httpclient import HTTPClientError

from server_ext.services.models import DEMO_PROVIDER
from tests.conftest import REPO
from tests.dashboard.kernel_ws import exchange, kernel_message, replies_to
from tests.dashboard.servers import DASHBOARD_ENV, DashboardServer, chatmore
from tests.support.api import PASSWORD, login, unique_email
from tests.support.sse import read_events

PAGE_CONFIG = re.compile(
    r'<script id="jupyter-config-data" type="application/json">\s*(.*?)\s*</script>', re.S
)
# Hosts the stock Voilà and nbconvert templates load fonts and scripts from.
CDN = re.compile(
    r"cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|unpkg\.com|fonts\.(googleapis|gstatic)"
)
# What makes a browser fetch: attributes, CSS url()/@import, ES module imports.
REFERENCES = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']([^"']+)["'])"""
    r"""|(?:url\(\s*["']?([^"')]+)["']?\s*\))"""
    r"""|(?:@import\s+["']([^"']+)["'])"""
    r"""|(?:\bimport\s*\(\s*["']([^"']+)["'])"""
)


@pytest.fixture(scope="module")
def page(dashboard: DashboardServer) -> Iterator[dict[str, Any]]:
    """The page as a signed-in visitor's first GET returns it (the notebook run in a new kernel):
    ``html``, ``config`` (Jupyter's page config) and ``kernel_id``. Its kernel is shut
    down afterwards, as the page does when it closes."""
    email = unique_email("visitor")
    dashboard.create_user(email, PASSWORD)
    browser = httpx.Client(base_url=dashboard.url, timeout=60)  # lives for the module
    signed_in = browser.post(  # an anonymous visitor gets no kernel
        "dashboard/sign-in",
        json={"email": email, "password": PASSWORD},
        headers={"X-Requested-With": "ChatMore"},
    )
    assert signed_in.status_code == 204, signed_in.text
    answer = browser.get("")
    assert answer.status_code == 200, answer.text
    config = page_config(answer.text)
    yield {"html": answer.text, "config": config, "kernel_id": config["kernelId"]}
    xsrf = {"X-XSRFToken": browser.cookies.get("_xsrf") or ""}
    browser.post(f"voila/api/shutdown/{config['kernelId']}", headers=xsrf)
    browser.close()


def page_config(html: str) -> dict[str, Any]:
    match = PAGE_CONFIG.search(html)
    assert match, "the page has no Jupyter page config"
    return json.loads(match.group(1))


# -- one origin --------------------------------------------------------------------------------


def test_page_and_api_answer_on_one_origin(dashboard: DashboardServer, page) -> None:
    assert urlparse(dashboard.url).netloc == urlparse(dashboard.api_url).netloc
    assert page["html"].lstrip().lower().startswith("<!doctype html>")
    # The widgets address the API relative to this base URL.
    assert page["config"]["baseUrl"] == "/"
    # Kernels of pages closed without a word are shut down once idle.
    assert "Culling kernels with idle durations > 3600 seconds" in dashboard.log()
    health = dashboard.client().get("healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok"}


def test_a_turn_runs_and_streams_on_the_dashboard_origin(dashboard: DashboardServer) -> None:
    email = unique_email("visitor")
    dashboard.create_user(email, PASSWORD)
    client = login(dashboard, email)  # type: ignore[arg-type]
    models = client.get("api/models").json()["models"]
    demo = [m for m in models if m["provider_name"] == DEMO_PROVIDER]
    assert len(demo) == 3, models
    # The demo provider is served by the dashboard itself, on its own origin.
    assert {m["base_url"] for m in demo} == {f"{dashboard.api_url}demo/v1"}
    created = client.post(
        "api/conversations",
        json={"title": "one origin", "windows": [{"model_id": m["id"]} for m in demo[:2]]},
    )
    assert created.status_code == 201, created.text
    conversation = created.json()
    sent = client.post(
        f"api/conversations/{conversation['id']}/messages", json={"content": "Hello"}
    )
    assert sent.status_code == 202, sent.text
    events = read_events(client, sent.json()["turn_id"])
    windows = {e.data["window_id"] for e in events if e.name == "chunk"}
    assert windows == {w["id"] for w in conversation["windows"]}
    assert events[-1].name == "done"
    assert events[-1].data["models_succeeded"] == 2


def test_the_stream_ticket_never_reaches_the_access_log(dashboard: DashboardServer) -> None:
    secret = "ticket-that-must-not-be-logged"
    answer = dashboard.client().get("streams/turn/1", params={"st": secret})
    assert answer.status_code == 401
    log = dashboard.log()
    assert "/chatmore/streams/turn/1?st=[secret]" in log
    assert secret not in log


# -- nothing else of Jupyter -------------------------------------------------------------------

JUPYTER_PATHS = [
    "lab",
    "lab/tree/dashboard.ipynb",
    "tree",
    "notebooks/dashboard.ipynb",
    "files/dashboard.ipynb",
    "edit/dashboard.ipynb",
    "terminals/1",
    "api/terminals",
    "terminals/websocket/1",
    "api/contents",
    "api/contents/dashboard.ipynb",
    "api/kernels",
    "api/kernelspecs",
    "api/sessions",
    "api/config/notebook",
    "login",
    "voila/tree",
    "voila/render/dashboard.ipynb",
    "voila/files/dashboard.ipynb",
    "voila/api/contents",
]


@pytest.mark.parametrize("path", JUPYTER_PATHS)
def test_jupyter_pages_and_apis_are_absent(dashboard: DashboardServer, path: str) -> None:
    answer = dashboard.browser().get(path)
    assert answer.status_code == 404, (path, answer.status_code)
    assert "JupyterLab" not in answer.text


@pytest.mark.parametrize("path", ["api/kernels", "api/sessions", "api/contents", "api/terminals"])
def test_kernels_sessions_and_files_cannot_be_created(
    dashboard: DashboardServer, path: str
) -> None:
    answer = dashboard.browser().post(path, json={"name": "python3", "path": "x.ipynb"})
    assert answer.status_code in (404, 405), (path, answer.status_code)


def test_the_page_kernel_cannot_be_restarted_or_interrupted(
    dashboard: DashboardServer, page
) -> None:
    browser = dashboard.browser()
    for action in ("restart", "interrupt"):
        answer = browser.post(f"api/kernels/{page['kernel_id']}/{action}")
        assert answer.status_code == 404, action


@pytest.mark.parametrize("protocol", ["json", "v1"])
def test_the_page_kernel_runs_no_code_sent_over_its_websocket(
    dashboard: DashboardServer, page, tmp_path: Path, protocol: str
) -> None:
    """The page's own kernel websocket forwards widget messages only: an execute_request
    is dropped while a kernel_info_request sent after it is answered."""
    canary = tmp_path / f"canary-{protocol}"
    code = f"open({str(canary)!r}, 'w').write('ran')"
    execute = kernel_message(
        "execute_request",
        {"code": code, "silent": False, "store_history": False, "allow_stdin": False},
    )
    execute_control = {
        **kernel_message("execute_request", execute["content"]),
        "channel": "control",
    }
    info = kernel_message("kernel_info_request", {})
    ws_url = (
        f"ws://127.0.0.1:{dashboard.port}/api/kernels/{page['kernel_id']}/channels"
        f"?session_id={execute['header']['session']}"
    )
    received = exchange(
        ws_url,
        [execute, execute_control, info],
        until=lambda got: any(
            m["header"]["msg_type"] == "kernel_info_reply" for m in replies_to(got, info)
        ),
        protocol=protocol,
    )
    # The kernel handles shell messages in order: the execute, had it arrived, would have
    # been answered before the kernel_info_request.
    assert replies_to(received, execute) == []
    assert replies_to(received, execute_control) == []
    assert not canary.exists()
    assert 'Received message of type "execute_request", which is not allowed' in dashboard.log()


def test_another_site_cannot_open_the_page_kernel_websocket(
    dashboard: DashboardServer, page
) -> None:
    """A page elsewhere cannot talk to a visitor's kernel (which is signed in as them)."""
    info = kernel_message("kernel_info_request", {})
    ws_url = f"ws://127.0.0.1:{dashboard.port}/api/kernels/{page['kernel_id']}/channels"
    with pytest.raises(HTTPClientError) as refused:
        exchange(ws_url, [info], until=bool, origin="https://elsewhere.example")
    assert refused.value.code == 403
    same_site = exchange(
        ws_url,
        [info],
        until=lambda got: bool(replies_to(got, info)),
        origin=f"http://127.0.0.1:{dashboard.port}",
    )
    assert replies_to(same_site, info)


# -- offline -----------------------------------------------------------------------------------


def references(text: str) -> list[str]:
    return [next(g for g in match.groups() if g) for match in REFERENCES.finditer(text)]


def is_local(url: str, origin: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "javascript") or url.startswith("#"):
        return True
    return not parsed.netloc or f"{parsed.scheme}://{parsed.netloc}" == origin


def test_nothing_is_fetched_from_another_host(dashboard: DashboardServer, page) -> None:
    """The page and every stylesheet and script it names (and the stylesheets those name)
    come from this origin, and none mentions a CDN."""
    origin = dashboard.url.rstrip("/")
    browser = dashboard.browser()
    assert not CDN.search(page["html"])
    queue = [(dashboard.url, page["html"])]
    fetched: set[str] = set()
    while queue:
        base, text = queue.pop()
        for ref in references(text):
            absolute = urljoin(base, ref)
            assert is_local(absolute, origin), f"{base} references {ref}"
            path = urlparse(absolute).path
            if absolute in fetched or not path.endswith((".css", ".js")):
                continue
            fetched.add(absolute)
            asset = browser.get(absolute)
            assert asset.status_code == 200, absolute
            assert not CDN.search(asset.text), f"{absolute} mentions a CDN"
            if path.endswith(".css"):
                queue.append((absolute, asset.text))
    assert any(url.endswith("voila.js") for url in fetched)
    # No MathJax: Voilà's front end loads it from a CDN when the page config names one.
    assert page["config"]["fullMathjaxUrl"] is None
    assert page["config"]["mathjaxConfig"] is None


def test_the_template_cannot_be_swapped_by_the_query(dashboard: DashboardServer) -> None:
    browser = dashboard.visitor()
    answer = browser.get("", params={"template": "classic", "theme": "dark"})
    assert answer.status_code == 200
    try:
        assert not CDN.search(answer.text)
        assert "/voila/templates/chatmore/static/" in answer.text
        assert page_config(answer.text)["jupyterLabTheme"] == "light"
    finally:
        browser.post(f"voila/api/shutdown/{page_config(answer.text)['kernelId']}")


# -- options -----------------------------------------------------------------------------------

# Given to the server; its kernels must not see them.
SECRETS = {
    "MYSQL_DSN": "",  # filled in with the probe's database
    "CHATMORE_SECRET_KEY": "k1:" + base64.b64encode(bytes(range(32))).decode(),
    "CHATMORE_EMAIL": "admin@example.com",
    "CHATMORE_PASSWORD": "the admin's password",
    "CHATMORE_CREDENTIALS": "/somewhere/credentials.json",
}
PROBE = """
import json, os
facts = {
    "url": os.environ.get("CHATMORE_URL"),
    "inherited": sorted(k for k in os.environ if k in {SECRETS}),
}
print("PROBE " + json.dumps(facts))
""".replace("{SECRETS}", repr(set(SECRETS)))


def test_notebook_and_base_url_options(tmp_path: Path) -> None:
    """--notebook serves that notebook, --base-url moves page and API together, and its
    kernels reach the API through CHATMORE_URL without inheriting the server's secrets or
    credentials anyone could sign in with."""
    notebook = tmp_path / "probe.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, notebook)
    data = tmp_path / "data"
    server = DashboardServer(
        workdir=tmp_path,
        env={
            **DASHBOARD_ENV,
            "CHATMORE_DATA_DIR": str(data),
            **SECRETS,
            "MYSQL_DSN": f"sqlite:///{data / 'probe.db'}",
        },
        notebook=notebook,
        extra_args=["--base-url", "/dash/"],
        base_path="/dash/",
    ).start()
    try:
        assert (data / "probe.db").is_file()
        assert "Sign in" in httpx.get(server.url, timeout=60).text  # no kernel before it
        answer = server.visitor().get("")
        assert answer.status_code == 200
        facts = json.loads(re.search(r"PROBE (\{.*?\})", html.unescape(answer.text)).group(1))
        assert facts == {"url": server.url, "inherited": []}
        assert page_config(answer.text)["baseUrl"] == "/dash/"
        assert httpx.get(f"{server.url}chatmore/healthz", timeout=10).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{server.port}/chatmore/healthz").status_code == 404
    finally:
        assert server.stop() == 0


def test_a_missing_notebook_is_a_clear_error(tmp_path: Path) -> None:
    done = chatmore(
        ["dashboard", "--notebook", str(tmp_path / "nope.ipynb")],
        {"CHATMORE_DATA_DIR": str(tmp_path)},
        tmp_path,
    )
    assert done.returncode != 0
    assert "no dashboard notebook" in done.stderr


def test_kernels_lose_the_credentials_chatmore_kernel_falls_back_on() -> None:
    from chatmore_kernel import config
    from server_ext.dashboard.app import KERNEL_ENV_SECRETS

    fallbacks = {config.EMAIL_ENV, config.PASSWORD_ENV, config.CREDENTIALS_ENV}
    assert fallbacks <= set(KERNEL_ENV_SECRETS)


def test_a_kernel_session_outlives_its_access_token_behind_tls(tmp_path: Path) -> None:
    """Behind a TLS proxy the README sets COOKIE_SECURE=true; the page's kernel still talks
    to the server over loopback http and must renew its session when the access token
    expires, or every visitor is signed out after JWT_ACCESS_TTL."""
    import chatmore_kernel as cm

    server = DashboardServer(
        workdir=tmp_path,
        env={
            **DASHBOARD_ENV,
            "CHATMORE_DATA_DIR": str(tmp_path / "data"),
            "COOKIE_SECURE": "true",
            "JWT_ACCESS_TTL": "2s",
        },
        notebook=REPO / "notebooks" / "dashboard.ipynb",
    ).start()
    try:
        email = unique_email("visitor")
        server.create_user(email, PASSWORD)
        with cm.Session(url=server.url, email=email, password=PASSWORD) as session:
            time.sleep(2.5)
            assert session.me()["email"] == email
    finally:
        server.stop()


def test_an_unusable_database_stops_it_with_the_reason(tmp_path: Path) -> None:
    done = chatmore(
        ["dashboard", "--port", "0"],
        {
            "CHATMORE_DATA_DIR": str(tmp_path),
            "CHATMORE_DB_URL": "mysql+pymysql://nobody:secret@127.0.0.1:1/chat",
        },
        tmp_path,
    )
    assert done.returncode == 3, done.stderr
    assert "ChatMore cannot start" in done.stderr
    assert "secret" not in done.stderr
