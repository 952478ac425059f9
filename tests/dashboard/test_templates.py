"""The dashboard's template picker, in a real browser: a shared template's variable asked
once, its text every window's system prompt; and this month's use under the header."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.dashboard.browser import visit
from tests.dashboard.servers import DashboardServer
from tests.dashboard.test_browser import TIMEOUT, sign_in
from tests.support.api import PASSWORD, login, unique_email

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_template_fills_every_windows_system_prompt(dashboard: DashboardServer) -> None:
    admin_email, email = unique_email("admin"), unique_email("picker")
    dashboard.create_user(admin_email, PASSWORD, admin=True)
    dashboard.create_user(email, PASSWORD)
    admin = login(dashboard, admin_email)  # type: ignore[arg-type]
    name = f"Tutor {secrets.token_hex(3)}"
    made = admin.post(
        "api/templates",
        json={"name": name, "body": "Teach {audience}; then quiz {audience}.", "shared": True},
    )
    assert made.status_code == 201, made.text

    with visit(dashboard.url) as v:
        page = v.page
        page.set_default_timeout(TIMEOUT)
        sign_in(v, email, PASSWORD)
        page.get_by_text(f"Signed in as {email}").wait_for()
        # This month's use, from auth/me (no budget is set on this server).
        # (and its cost, now that results have one)
        page.get_by_text(re.compile(r"^Tokens this month: 0 · cost this month: 0\.00$")).wait_for()
        page.get_by_label("Template").select_option(label=f"{name} (shared)")
        fields = page.get_by_placeholder("{audience}")
        fields.wait_for()
        assert fields.count() == 1  # asked once, though it appears twice
        fields.fill("beginners")
        page.get_by_label("Demo Swift").check()
        page.get_by_label("Demo Scholar").check()
        page.get_by_role("button", name="Start comparison").click()
        page.locator("[data-testid=column]").nth(1).wait_for()
        v.screenshot("template")

    user = login(dashboard, email)  # type: ignore[arg-type]
    newest = user.get("api/conversations").json()["conversations"][0]
    assert [w["system_prompt"] for w in newest["windows"]] == [
        "Teach beginners; then quiz beginners."
    ] * 2
