"""Who gets a kernel on the dashboard: only signed-in visitors, within the caps, and a
kernel whose page never connects is shut down. A dedicated server with small caps (one
page per visitor, three in all) and a short connect timeout."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.dashboard.conftest import NOTEBOOK
from tests.dashboard.kernel_ws import exchange, kernel_message, replies_to
from tests.dashboard.servers import DASHBOARD_ENV, DashboardServer
from tests.support.api import PASSWORD, unique_email
from tests.support.servers import wait_until

CONNECT_TIMEOUT_S = 4
KERNEL_ID = re.compile(r'"kernelId":\s*"([0-9a-f-]+)"')


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    workdir = tmp_path_factory.mktemp("gated")
    server = DashboardServer(
        workdir=workdir,
        env={
            **DASHBOARD_ENV,
            "CHATMORE_DATA_DIR": str(workdir / "data"),
            "CHATMORE_DASHBOARD_KERNELS_PER_USER": "1",
            "CHATMORE_DASHBOARD_KERNELS_TOTAL": "3",
            "CHATMORE_DASHBOARD_CONNECT_TIMEOUT": f"{CONNECT_TIMEOUT_S}s",
        },
        notebook=NOTEBOOK,
    )
    server.start()
    yield server
    server.stop()


def kernel_of(page: httpx.Response) -> str:
    assert page.status_code == 200, re.findall(r"<p>(.*?)</p>", page.text)
    match = KERNEL_ID.search(page.text)
    assert match, "the page has no kernel"
    return match.group(1)


def shut_down(browser: httpx.Client, kernel_id: str) -> None:
    """What the page does when it closes (with the XSRF token the page's GET set)."""
    xsrf = {"X-XSRFToken": browser.cookies.get("_xsrf") or ""}
    answer = browser.post(f"voila/api/shutdown/{kernel_id}", headers=xsrf)
    assert answer.status_code == 204, answer.status_code


def open_page(server: DashboardServer, browser: httpx.Client) -> str:
    """Load the page and connect to its kernel, as a browser does; the kernel id."""
    kernel = kernel_of(browser.get(""))
    info = kernel_message("kernel_info_request", {})
    ws_url = f"ws://127.0.0.1:{server.port}/api/kernels/{kernel}/channels"
    assert replies_to(
        exchange(ws_url, [info], until=lambda got: bool(replies_to(got, info))), info
    )
    return kernel


def culled(server: DashboardServer, kernel_id: str) -> bool:
    return f"Culling kernel {kernel_id}: its page did not connect" in server.log()


def test_anonymous_visitors_get_the_sign_in_form_and_no_kernel(gated: DashboardServer) -> None:
    before = gated.kernels_started()
    for _ in range(6):
        page = gated.browser().get("")
        assert page.status_code == 200
        assert "Sign in" in page.text and 'type="password"' in page.text
        assert "jupyter-config-data" not in page.text
    # A forged session header or a stale cookie does not open the door either.
    forged = gated.browser(
        headers={"X-ChatMore-Session": "x", "X-ChatMore-Reservation": "y"},
        cookies={"chatmore_dashboard": "not-a-token"},
    ).get("")
    assert "Sign in" in forged.text
    assert gated.kernels_started() == before


def test_signing_in_checks_the_password_and_needs_the_page(gated: DashboardServer) -> None:
    email = unique_email("visitor")
    gated.create_user(email, PASSWORD)
    browser = gated.browser()
    wrong = browser.post(
        "dashboard/sign-in",
        json={"email": email, "password": "not the password"},
        headers={"X-Requested-With": "ChatMore"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "AUTH_INVALID_CREDENTIALS"
    cross_site = browser.post("dashboard/sign-in", json={"email": email, "password": PASSWORD})
    assert cross_site.status_code == 403
    assert "chatmore_dashboard" not in browser.cookies
    signed_in = gated.signed_in(email, PASSWORD)
    kernel = kernel_of(signed_in.get(""))
    shut_down(signed_in, kernel)


def test_kernels_are_capped_per_visitor_and_in_total(gated: DashboardServer) -> None:
    alice, bob, carol, dave = (gated.visitor() for _ in range(4))
    first = open_page(gated, alice)
    again = alice.get("")
    assert again.status_code == 503, again.text[:2000]
    assert "ChatMore is busy" in again.text
    assert "at most 1 at once" in again.text
    kernels = [first, open_page(gated, bob), open_page(gated, carol)]
    full = dave.get("")
    assert full.status_code == 503
    assert "as many visitors as it can take" in full.text
    shut_down(alice, first)
    wait_until(lambda: dave.get("").status_code == 200 or None, 30, "a place for dave")
    for browser, kernel in zip((bob, carol), kernels[1:], strict=True):
        shut_down(browser, kernel)
    # dave's kernel (from the page that finally loaded) is never connected: culled.
    wait_until(lambda: alice.get("").status_code == 200, 30, "the places to free up")


def test_a_kernel_whose_page_never_connects_is_culled(gated: DashboardServer) -> None:
    visitor = gated.visitor()
    idle = kernel_of(visitor.get(""))
    wait_until(lambda: culled(gated, idle), CONNECT_TIMEOUT_S + 20, "the cull")
    # Its place is free again: the same visitor gets a page, whose page does connect.
    connected = open_page(gated, visitor)
    time.sleep(CONNECT_TIMEOUT_S + 1)
    assert not culled(gated, connected)
    shut_down(visitor, connected)


def test_signing_out_ends_the_page_session(gated: DashboardServer, tmp_path: Path) -> None:
    visitor = gated.visitor()
    kernel = kernel_of(visitor.get(""))
    shut_down(visitor, kernel)
    origin = f"http://127.0.0.1:{gated.port}"
    elsewhere = visitor.post("dashboard/sign-out", headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 403
    out = visitor.post("dashboard/sign-out", headers={"Origin": origin})
    assert out.status_code == 303
    assert "chatmore_dashboard" not in visitor.cookies
    page = visitor.get(out.headers["Location"])
    assert "You are signed out." in page.text
    assert "jupyter-config-data" not in page.text
