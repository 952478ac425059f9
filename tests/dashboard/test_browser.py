"""The dashboard in a real browser, as its visitors use it: sign in, compare two models,
look at the stats, reopen and archive a conversation; an admin adds a model. Nothing the
page loads comes from another host. Screenshots go to test-output/dashboard/."""

from __future__ import annotations

import re

import pytest

from tests.dashboard.browser import Visit, visit
from tests.dashboard.servers import DashboardServer
from tests.support.api import PASSWORD, unique_email

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT = 60_000  # ms: the first render runs the notebook in a new kernel

# Records, per column, the statuses it went through and the lengths its reply had.
WATCH_COLUMNS = """() => {
  window.seen = {};
  const record = () => {
    for (const column of document.querySelectorAll('[data-testid=column]')) {
      const seen = (window.seen[column.dataset.windowId] ||= {statuses: [], lengths: []});
      const status = column.dataset.status;
      if (status && seen.statuses.at(-1) !== status) seen.statuses.push(status);
      const reply = column.querySelector('[data-testid=reply]');
      const length = reply ? reply.textContent.length : 0;
      if (seen.lengths.at(-1) !== length) seen.lengths.push(length);
    }
  };
  const grid = document.querySelector('[data-testid=columns]');
  new MutationObserver(record).observe(
    grid, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def sign_in(visit: Visit, email: str, password: str) -> None:
    page = visit.page
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_visitor_compares_two_models_and_reads_the_stats(dashboard: DashboardServer) -> None:
    email = unique_email("visitor")
    dashboard.create_user(email, PASSWORD)
    prompt = "How do I join two tables in SQL?"
    with visit(dashboard.url) as v:
        page = v.page
        page.set_default_timeout(TIMEOUT)
        page.get_by_role("button", name="Sign in").wait_for()
        assert "import chatmore_kernel" not in page.content()
        v.screenshot("1-sign-in")

        # A wrong password: the server's message, plainly.
        sign_in(v, email, "not the password")
        page.get_by_text("wrong email or password").wait_for()
        sign_in(v, email, PASSWORD)
        page.get_by_text(f"Signed in as {email}").wait_for()
        assert page.get_by_role("tab", name="Models").count() == 0

        # Chat: two models, one prompt, both columns stream.
        page.get_by_label("Demo Swift").check()
        page.get_by_label("Demo Scholar").check()
        page.get_by_role("button", name="Start comparison").click()
        columns = page.locator("[data-testid=column]")
        columns.nth(1).wait_for()
        assert columns.count() == 2
        names = page.locator("[data-testid=column-name]").all_inner_texts()
        assert sorted(names) == ["Demo Scholar", "Demo Swift"]
        page.evaluate(WATCH_COLUMNS)
        page.locator("[data-testid=shared-input]").fill(prompt)
        page.locator("[data-testid=send-button]").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=column]')]"
            ".every(c => c.dataset.status === 'succeeded')"
        )
        seen = page.evaluate("() => window.seen")
        assert len(seen) == 2
        for column in seen.values():
            assert "streaming" in column["statuses"], column
            # The reply grew in steps: it streamed, it did not land in one piece.
            assert len({n for n in column["lengths"] if n}) >= 2, column
        for reply in page.locator("[data-testid=reply]").all_inner_texts():
            assert reply.strip()
        v.screenshot("2-chat")

        # Stats: the table and four charts, drawn in the kernel as PNGs.
        page.get_by_role("tab", name="Stats").click()
        page.get_by_text(re.compile(r"^2 calls from")).wait_for()
        charts = page.locator(".widget-image")
        assert charts.count() == 4
        for i in range(4):
            assert charts.nth(i).evaluate("img => img.complete && img.naturalWidth > 100")
        table = page.locator("table.dataframe").inner_text()
        assert "Demo Swift" in table
        assert "Demo Scholar" in table
        v.screenshot("3-stats")

        # The sidebar beside the board: reopen it with its history, then archive it.
        page.get_by_role("tab", name="Chat").click()
        page.get_by_role("button", name="New comparison").click()
        page.locator("[data-testid=column]").first.wait_for(state="detached")
        page.get_by_role("button", name="Start comparison").wait_for()
        entry = page.locator(".cm-entry", has_text=" vs ".join(names))  # the default title
        entry.click()
        page.locator("[data-testid=prompt]", has_text=prompt).first.wait_for()
        assert page.locator("[data-testid=column]").count() == 2
        v.screenshot("4-reopened")
        page.get_by_role("button", name="Archive").click()
        page.get_by_text("No conversations yet").wait_for()
        page.get_by_label("Show archived ones").check()
        entry.wait_for()
        page.get_by_role("button", name="Restore").wait_for()

        page.get_by_role("button", name="Sign out").click()
        page.get_by_text("You are signed out.").wait_for()
        assert v.remote_requests() == []


def test_an_admin_adds_a_model_whose_key_is_never_shown(dashboard: DashboardServer) -> None:
    email = unique_email("admin")
    dashboard.create_user(email, PASSWORD, admin=True)
    key = "sk-dashboard-test-9f3c"
    with visit(dashboard.url) as v:
        page = v.page
        page.set_default_timeout(TIMEOUT)
        sign_in(v, email, PASSWORD)
        page.get_by_role("tab", name="Models").click()
        page.get_by_label("Name").fill("Team Swift")
        page.get_by_label("Provider").fill("demo")
        page.get_by_label("Base URL").fill("http://169.254.169.254/v1")
        page.get_by_label("Upstream model").fill("demo-swift")
        page.get_by_label("Temperature").fill("0.2")
        page.get_by_role("button", name="Save").click()
        # A refused address: the server's reason, and nothing saved.
        page.get_by_text("base_url points to").wait_for()

        page.get_by_label("Base URL").fill(f"{dashboard.api_url}demo/v1")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Saved Team Swift.").wait_for()
        page.get_by_text(f"set, ends with …{key[-4:]}").wait_for()
        assert page.get_by_label("API key").input_value() == ""
        assert key not in page.content()

        page.get_by_role("button", name="Test connectivity").click()
        page.get_by_text(re.compile(r"OK: answered in \d+ ms")).wait_for()
        v.screenshot("5-models")

        # The new model is offered in the Chat tab at once.
        page.get_by_role("tab", name="Chat").click()
        page.get_by_label("Team Swift").wait_for()
        assert v.remote_requests() == []


def test_a_visitor_opens_an_experiment_as_its_matrix(dashboard: DashboardServer) -> None:
    email = unique_email("experimenter")
    dashboard.create_user(email, PASSWORD)
    api = dashboard.client()
    token = api.post("auth/login", json={"email": email, "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    models = {m["name"]: m["id"] for m in api.get("api/models", headers=headers).json()["models"]}
    made = api.post(
        "api/experiments",
        headers=headers,
        json={
            "name": "capitals",
            "cases": [{"prompt": f"What is the capital of country {i}?"} for i in range(30)],
            "windows": [{"model_id": models["Demo Swift"]}, {"model_id": models["Demo Scholar"]}],
        },
    )
    assert made.status_code == 201, made.text
    with visit(dashboard.url) as v:
        page = v.page
        page.set_default_timeout(TIMEOUT)
        page.get_by_role("button", name="Sign in").wait_for()
        sign_in(v, email, PASSWORD)
        page.get_by_text(f"Signed in as {email}").wait_for()
        page.get_by_role("tab", name="Experiments").click()
        row = page.locator(".widget-hbox", has_text="capitals")
        row.get_by_text("30 prompts × 2 windows").wait_for()
        row.get_by_role("button", name="Open").click()
        matrix = page.locator(".chatmore-matrix")
        matrix.wait_for()
        assert matrix.locator(".cm-mx-head").all_inner_texts() == [
            "prompt",
            "Demo Swift",
            "Demo Scholar",
        ]
        page.wait_for_function(
            "() => document.querySelectorAll('.cm-mx-body .cm-status-succeeded').length >= 2"
        )
        matrix.locator(".cm-mx-body .cm-status-succeeded").first.click()
        matrix.locator(".cm-mx-detail .cm-mx-reply").wait_for()
        assert matrix.locator(".cm-mx-detail .cm-mx-reply").inner_text().strip()
        v.screenshot("5-experiment-matrix")


def test_a_visitor_makes_and_revokes_an_api_key(dashboard: DashboardServer) -> None:
    email = unique_email("keys")
    dashboard.create_user(email, PASSWORD)
    with visit(dashboard.url) as v:
        page = v.page
        page.set_default_timeout(TIMEOUT)
        sign_in(v, email, PASSWORD)
        page.get_by_role("tab", name="API keys").click()
        page.get_by_text("No API keys yet.").wait_for()
        page.get_by_label("What it is for").fill("laptop")
        page.get_by_role("button", name="Create key").click()
        page.get_by_text("Copy this key now").wait_for()
        key = page.locator("pre").filter(has_text="cm-").inner_text().strip()
        assert key.startswith("cm-")
        page.get_by_text(f"…{key[-4:]} · active").wait_for()
        v.screenshot("6-api-keys")
        page.get_by_role("button", name="Revoke").click()
        page.get_by_text(f"…{key[-4:]} · revoked").wait_for()
        assert v.remote_requests() == []


def test_a_blind_round_and_the_leaderboard(dashboard: DashboardServer) -> None:
    email = unique_email("judge")
    dashboard.create_user(email, PASSWORD)
    models = ["Demo Scholar", "Demo Swift"]
    with visit(dashboard.url) as v:
        page = v.page
        page.set_default_timeout(TIMEOUT)
        page.get_by_role("button", name="Sign in").wait_for()
        sign_in(v, email, PASSWORD)
        page.get_by_text(f"Signed in as {email}").wait_for()

        # A blind comparison: letters for names, until the vote.
        for model in models:
            page.get_by_label(model).check()
        page.get_by_label("Blind: hide the models until I vote").check()
        page.get_by_role("button", name="Start comparison").click()
        columns = page.locator("[data-testid=column]")
        columns.nth(1).wait_for()
        names = page.locator("[data-testid=column-name]")
        assert names.all_inner_texts() == ["Model A", "Model B"]
        board = page.locator("[data-testid=chatmore-board]")
        assert not any(model in board.inner_text() for model in models)
        page.locator("[data-testid=shared-input]").fill("Which sort is stable?")
        page.locator("[data-testid=send-button]").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=column]')]"
            ".every(c => c.dataset.status === 'succeeded')"
        )
        bar = page.locator("[data-testid=vote-bar]")
        bar.wait_for(state="visible")
        options = bar.locator("[data-testid=vote-option]")
        assert options.all_inner_texts() == [
            "Model A is better",
            "Model B is better",
            "Tie",
            "Both bad",
        ]
        v.screenshot("5-blind")
        options.first.click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=column-name]')]"
            ".every(n => n.textContent.startsWith('Demo '))"
        )
        winner = names.first.inner_text()
        assert sorted(names.all_inner_texts()) == models
        v.screenshot("6-voted")

        # The leaderboard: the winner rated above the reference, two Pareto charts.
        page.get_by_role("tab", name="Leaderboard").click()
        page.get_by_text(re.compile(r"^Ratings: 1000 is Demo ")).wait_for()
        table = page.locator("table.dataframe").last.inner_text()
        assert all(model in table for model in models)
        first_row = page.locator("table.dataframe").last.locator("tbody tr").first
        assert first_row.locator("td").first.inner_text() == winner  # best first
        charts = page.locator(".widget-image")
        charts.nth(1).wait_for()
        assert charts.count() == 2
        v.screenshot("7-leaderboard")
        assert v.remote_requests() == []
