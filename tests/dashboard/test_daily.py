"""The dashboard as a visitor uses it every day, in a real browser against `chatmore
dashboard` on SQLite: Enter signs in and a reload keeps both the sign-in and the open
conversation; a lockout says when to try again; the conversations sit in a sidebar beside
the board (newest first, title search, rename, tags, archive, a first prompt's preview);
a new comparison keeps the tick order and each column's settings, and an open one takes
one more column; empty figures read "–" and no tab scrolls sideways at 1,400–1,600 px.
Screenshots go to test-output/dashboard/."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import Locator, Page

from tests.dashboard.browser import Visit, visit
from tests.dashboard.servers import DashboardServer
from tests.support.api import (
    PASSWORD,
    Client,
    login,
    make_conversation,
    send,
    unique_email,
    wait_turn,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

ALL_SUCCEEDED = """(count) => {
  const columns = [...document.querySelectorAll('[data-testid=column]')];
  return columns.length === count && columns.every(c => c.dataset.status === 'succeeded');
}"""


def sign_in_with_enter(v: Visit, email: str, password: str) -> None:
    """Type both fields and press Enter in the password field: no click."""
    page = v.page
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")


def signed_in(v: Visit, email: str, password: str = PASSWORD) -> Page:
    """Signed in with Enter; the page's actions wait as long as the context lets them (a
    busy machine can take long to start the page's kernel)."""
    page = v.page
    sign_in_with_enter(v, email, password)
    page.get_by_text(f"Signed in as {email}").wait_for()
    return page


def new_user(dashboard: DashboardServer, prefix: str, *, admin: bool = False) -> Client:
    email = unique_email(prefix)
    dashboard.create_user(email, PASSWORD, admin=admin)
    return login(dashboard, email)  # type: ignore[arg-type]


def model_ids(client: Client) -> dict[str, int]:
    return {m["name"]: m["id"] for m in client.get("api/models").json()["models"]}


def send_prompt(page: Page, prompt: str, columns: int) -> None:
    page.locator("[data-testid=shared-input]").fill(prompt)
    page.locator("[data-testid=send-button]").click()
    page.locator("[data-testid=prompt]", has_text=prompt).first.wait_for()
    page.wait_for_function(ALL_SUCCEEDED, arg=columns)


def entries(page: Page) -> Locator:
    return page.locator(".cm-sidebar .cm-entry")


def entry_titles(page: Page) -> list[str]:
    return [text.split("\n")[0] for text in entries(page).all_inner_texts()]


# -- 10: Enter, reload, lockout ---------------------------------------------------------------


def test_enter_signs_in_and_a_reload_reopens_the_open_conversation(
    dashboard: DashboardServer,
) -> None:
    client = new_user(dashboard, "reloader")
    prompt = f"Which index fits a range query? {secrets.token_hex(3)}"
    with visit(dashboard.url) as v:
        page = v.page
        page.get_by_role("button", name="Sign in").wait_for()
        page_kernels = dashboard.kernels_started()
        signed_in(v, client.email)
        assert dashboard.kernels_started() == page_kernels + 1
        page.get_by_label("Demo Swift").check()
        page.get_by_role("button", name="Start comparison").click()
        page.locator("[data-testid=column]").first.wait_for()
        send_prompt(page, prompt, 1)
        conversation = client.get("api/conversations").json()["conversations"][0]
        page.wait_for_url(re.compile(rf"\?conversation={conversation['id']}$"))
        v.screenshot("daily-10-before-reload")

        page.reload()
        # Signed in again from the page's cookie (no form), the same conversation open.
        page.get_by_text(f"Signed in as {client.email}").wait_for()
        page.locator("[data-testid=prompt]", has_text=prompt).first.wait_for()
        assert page.get_by_role("button", name="Sign in").count() == 0
        assert page.locator("[data-testid=column]").count() == 1
        assert page.url.endswith(f"?conversation={conversation['id']}")
        current = page.locator(".cm-sidebar .cm-entry.cm-current")
        assert current.inner_text().startswith(conversation["title"])
        v.screenshot("daily-10-after-reload")

        # Another visitor's conversation in the address opens nothing of theirs.
        stranger = new_user(dashboard, "stranger")
        theirs = make_conversation(stranger, [model_ids(stranger)["Demo Swift"]], title="theirs")
        page.goto(f"{dashboard.url}?conversation={theirs['id']}")
        page.get_by_text(f"Conversation {theirs['id']} cannot be opened").wait_for()
        page.get_by_role("button", name="Start comparison").wait_for()
        assert "theirs" not in page.locator(".cm-sidebar").inner_text()
        assert v.remote_requests() == []


def test_a_lockout_says_when_to_try_again(dashboard: DashboardServer) -> None:
    email = unique_email("locked")
    dashboard.create_user(email, PASSWORD)
    with visit(dashboard.url) as v:
        page = v.page
        button = page.get_by_role("button", name="Sign in")
        message = page.locator("#message")
        for _ in range(4):  # the dashboard's default: five failures lock for 15 minutes
            sign_in_with_enter(v, email, "not the password")
            page.get_by_text("Wrong email or password.").wait_for()
            page.wait_for_function("() => !document.querySelector('#sign-in button').disabled")
            page.evaluate("() => { document.querySelector('#message').textContent = ''; }")
        sign_in_with_enter(v, email, "not the password")
        page.get_by_text(re.compile("Try again in 15 minutes", re.I)).wait_for()
        assert message.inner_text() == "Too many failed sign-ins; try again in 15 minutes."
        # Even the right password now says the same, with the time left.
        page.wait_for_function("() => !document.querySelector('#sign-in button').disabled")
        page.evaluate("() => { document.querySelector('#message').textContent = ''; }")
        sign_in_with_enter(v, email, PASSWORD)
        page.get_by_text(re.compile(r"try again in 1[45] minutes\.$")).wait_for()
        assert button.is_visible()
        v.screenshot("daily-10-lockout")


# -- 11: the sidebar --------------------------------------------------------------------------


def test_the_sidebar_lists_searches_renames_tags_and_archives(
    dashboard: DashboardServer,
) -> None:
    client = new_user(dashboard, "sidebar")
    swift = model_ids(client)["Demo Swift"]
    word = secrets.token_hex(3)
    first_prompts = {}
    for title in (f"Alpha joins {word}", f"Beta indexes {word}", f"Gamma views {word}"):
        made = make_conversation(client, [swift], title=title)
        first_prompts[title] = f"First question of {title.split()[0]}: why?"
        wait_turn(client, send(client, made["id"], first_prompts[title])["turn_id"])
    other = new_user(dashboard, "neighbour")
    make_conversation(other, [model_ids(other)["Demo Swift"]], title=f"Neighbour {word}")

    with visit(dashboard.url) as v:
        page = signed_in(v, client.email)
        sidebar = page.locator(".cm-sidebar")
        entries(page).nth(2).wait_for()
        # Newest first, each with the start of its first prompt; none of another's.
        assert entry_titles(page) == [
            f"Gamma views {word}",
            f"Beta indexes {word}",
            f"Alpha joins {word}",
        ]
        for title, prompt in first_prompts.items():
            assert prompt in entries(page).filter(has_text=title).inner_text()
        assert "Neighbour" not in sidebar.inner_text()
        # The board is beside the sidebar, not in another tab.
        assert page.get_by_role("tab", name="Conversations").count() == 0
        v.screenshot("daily-11-sidebar")

        # Search by title (any case), on Enter.
        search = page.get_by_placeholder("Search titles")
        search.fill("BETA")
        search.press("Enter")
        page.wait_for_function(
            "() => document.querySelectorAll('.cm-sidebar .cm-entry').length === 1"
        )
        assert entry_titles(page) == [f"Beta indexes {word}"]
        search.fill("no such title")
        search.press("Enter")
        page.get_by_text("No title holds “no such title”.").wait_for()
        search.fill("")
        search.press("Enter")
        entries(page).nth(2).wait_for()

        # Clicking one opens it in the board, its entry marked.
        entries(page).filter(has_text="Alpha joins").click()
        alpha_prompt = first_prompts[f"Alpha joins {word}"]
        page.locator("[data-testid=prompt]", has_text=alpha_prompt).wait_for()
        assert "Alpha joins" in page.locator(".cm-entry.cm-current").inner_text()

        # Rename and tag it; the sidebar shows both.
        page.get_by_label("Title").fill(f"Alpha renamed {word}")
        page.get_by_role("button", name="Rename").click()
        entries(page).filter(has_text=f"Alpha renamed {word}").wait_for()
        page.locator("[data-testid=chatmore-board]").get_by_text(
            f"Alpha renamed {word}"
        ).wait_for()
        page.get_by_label("Tags").fill("sql, work")
        page.get_by_label("Tags").press("Enter")
        entries(page).filter(has_text="#sql #work").wait_for()
        stored = client.get("api/conversations", params={"q": "alpha renamed"}).json()
        assert [(c["title"], c["tags"]) for c in stored["conversations"]] == [
            (f"Alpha renamed {word}", ["sql", "work"])
        ]
        v.screenshot("daily-11-renamed")

        # Archive: it leaves the list, and comes back among the archived ones.
        page.get_by_role("button", name="Archive").click()
        page.get_by_text("Archived.").wait_for()
        page.wait_for_function(
            "() => document.querySelectorAll('.cm-sidebar .cm-entry').length === 2"
        )
        assert f"Alpha renamed {word}" not in entry_titles(page)
        page.get_by_label("Show archived ones").check()
        entries(page).filter(has_text=f"Alpha renamed {word}").wait_for()
        page.get_by_role("button", name="Restore").click()
        page.get_by_text("Restored.").wait_for()
        page.get_by_label("Show archived ones").uncheck()
        entries(page).filter(has_text=f"Alpha renamed {word}").wait_for()
        assert v.remote_requests() == []


# -- 12: tick order, each column's settings, one more column ----------------------------------


def test_tick_order_column_settings_and_a_column_added(dashboard: DashboardServer) -> None:
    client = new_user(dashboard, "columns")
    with visit(dashboard.url) as v:
        page = signed_in(v, client.email)
        # Ticked Scholar, Swift, unticked Scholar, then Sage and Scholar: neither the
        # list's order nor the alphabet's.
        for name, ticked in (
            ("Demo Scholar", True),
            ("Demo Swift", True),
            ("Demo Scholar", False),
            ("Demo Sage", True),
            ("Demo Scholar", True),
        ):
            page.get_by_label(name).set_checked(ticked)
        order = ["Demo Swift", "Demo Sage", "Demo Scholar"]
        rows = page.locator(".cm-column-settings")
        rows.nth(2).wait_for()
        assert [row.locator("b").inner_text() for row in rows.all()] == order

        swift = rows.filter(has_text="Demo Swift")
        swift.get_by_label("Temperature").fill("0.2")
        swift.get_by_label("Max tokens").fill("64")
        swift.get_by_label("System prompt").fill("Answer in one sentence.")
        scholar = rows.filter(has_text="Demo Scholar")
        scholar.get_by_label("Temperature").fill("warm")
        page.get_by_role("button", name="Start comparison").click()
        page.get_by_text("Demo Scholar: temperature must be a number").wait_for()
        scholar.get_by_label("Temperature").fill("")
        v.screenshot("daily-12-columns")
        page.get_by_role("button", name="Start comparison").click()
        page.locator("[data-testid=column]").nth(2).wait_for()
        assert page.locator("[data-testid=column-name]").all_inner_texts() == order

        conversation = client.get("api/conversations").json()["conversations"][0]
        windows = conversation["windows"]
        assert [w["model_name"] for w in windows] == order
        assert windows[0]["params"] == {"temperature": 0.2, "max_tokens": 64}
        assert windows[0]["system_prompt"] == "Answer in one sentence."
        assert [w["params"] for w in windows[1:]] == [{}, {}]
        assert [w["system_prompt"] for w in windows[1:]] == [None, None]
        send_prompt(page, "What is a covering index?", 3)

        # One more column: Demo Swift again, hotter; it joins from the next prompt.
        page.get_by_role("button", name="Add column").click()
        adder = page.locator(".widget-vbox", has_text="Add a column").last
        adder.get_by_label("Model").select_option("Demo Swift")
        adder.get_by_label("Temperature").fill("0.9")
        page.get_by_role("button", name="Add to the comparison").click()
        page.get_by_text("Demo Swift joins from the next prompt.").wait_for()
        columns = page.locator("[data-testid=column]")
        columns.nth(3).wait_for()
        assert page.locator("[data-testid=column-name]").all_inner_texts()[:3] == order
        assert columns.nth(3).locator("[data-testid=prompt]").count() == 0
        send_prompt(page, "And a partial index?", 4)
        assert columns.nth(3).locator("[data-testid=prompt]").all_inner_texts() == [
            "And a partial index?"
        ]
        assert columns.nth(0).locator("[data-testid=prompt]").count() == 2
        added = client.get(f"api/conversations/{conversation['id']}").json()["windows"][-1]
        assert (added["model_name"], added["params"]) == ("Demo Swift", {"temperature": 0.9})
        v.screenshot("daily-12-added")
        assert v.remote_requests() == []


# -- 13: "–" for empty figures, no sideways scroll -----------------------------------------------

# The page's width, and every box that scrolls sideways though it is not meant to (a
# wide table scrolls in its own box; the board's code blocks and columns are its own).
SIDEWAYS = """() => {
  const root = document.documentElement;
  const meant = '.cm-table-scroll, [data-testid=chatmore-board], pre';
  const stray = [...document.querySelectorAll('body *')].filter((box) => {
    const overflow = getComputedStyle(box).overflowX;
    return ['auto', 'scroll'].includes(overflow) && box.scrollWidth > box.clientWidth
      && box.clientWidth > 0 && !box.closest(meant);
  }).map((box) => `${box.className} ${box.scrollWidth} > ${box.clientWidth}`);
  return {scroll: root.scrollWidth, client: root.clientWidth, stray};
}"""
NOT_A_FIGURE = re.compile(r"<NA>|\bnan\b|\bNaN\b|\bNone\b|\bNaT\b")


def seed_empty_figures(dashboard: DashboardServer, client: Client, admin: Client) -> None:
    """A failed call (no latency, no tokens), no votes (no rating), no prices (no cost)."""
    broken = admin.post(
        "api/models",
        json={
            "name": f"Broken {secrets.token_hex(3)}",
            "base_url": f"{dashboard.api_url}demo/v1",
            "upstream_model": "broken;fault=server_error",
        },
    )
    assert broken.status_code == 201, broken.text
    ids = model_ids(client)
    made = make_conversation(client, [ids["Demo Swift"], broken.json()["id"]], title="mixed")
    wait_turn(client, send(client, made["id"], "Is anyone there?")["turn_id"])
    experiment = client.post(
        "api/experiments",
        json={
            "name": "no prices",
            "cases": [{"prompt": "One?"}, {"prompt": "Two?"}],
            "windows": [{"model_id": ids["Demo Swift"]}],
        },
    )
    assert experiment.status_code == 201, experiment.text


def no_sideways_scroll(page: Page, where: str) -> None:
    sizes: dict[str, Any] = page.evaluate(SIDEWAYS)
    assert sizes["scroll"] <= sizes["client"], (where, sizes)
    assert sizes["stray"] == [], (where, sizes)


def test_empty_figures_read_as_a_dash_and_nothing_scrolls_sideways(
    dashboard: DashboardServer,
) -> None:
    admin = new_user(dashboard, "figures", admin=True)
    seed_empty_figures(dashboard, admin, admin)
    with visit(dashboard.url, scrollbars=True) as v:
        page = signed_in(v, admin.email)
        entries(page).first.wait_for()
        entries(page).filter(has_text="mixed").click()
        page.locator("[data-testid=column]").nth(1).wait_for()

        page.get_by_role("tab", name="Stats").click()
        page.get_by_text(re.compile(r"^\d+ calls from")).wait_for()
        stats = page.locator("table.cm-stats").first.inner_text()
        assert not NOT_A_FIGURE.search(stats), stats
        broken = page.locator("table.cm-stats").first.locator("tr", has_text="Broken")
        cells = broken.locator("td").all_inner_texts()
        # Failed calls only: no latency, no TTFT, no tokens reported.
        assert cells[6:] == ["–"] * 5, cells

        page.get_by_role("tab", name="Leaderboard").click()
        page.get_by_text("No votes yet: no ratings.").wait_for()
        board = page.locator("table.cm-stats").last.inner_text()
        assert "–" in board and not NOT_A_FIGURE.search(board), board

        page.get_by_role("tab", name="Experiments").click()
        row = page.locator(".widget-hbox", has_text="no prices")
        row.get_by_text("2 prompts × 1 windows").wait_for()
        assert "cost –" in row.inner_text() and not NOT_A_FIGURE.search(row.inner_text())

        for width in (1400, 1600):
            # Short enough that the page scrolls down: its scrollbar takes room.
            page.set_viewport_size({"width": width, "height": 800})
            for tab in (
                "Chat",
                "Search",
                "Experiments",
                "Stats",
                "Leaderboard",
                "API keys",
                "Models",
            ):
                page.get_by_role("tab", name=tab).click()
                page.wait_for_function(
                    "(name) => [...document.querySelectorAll('.lm-TabBar-tab.lm-mod-current')]"
                    ".some((t) => t.textContent.trim() === name)",
                    arg=tab,
                )
                settled = "() => new Promise((r) => requestAnimationFrame(() => setTimeout(r)))"
                page.evaluate(settled)  # laid out at the new width
                no_sideways_scroll(page, f"{tab} at {width} px")
            page.get_by_role("tab", name="Chat").click()
            v.screenshot(f"daily-13-chat-{width}")
        page.get_by_role("tab", name="Stats").click()
        v.screenshot("daily-13-stats")
        assert v.remote_requests() == []
