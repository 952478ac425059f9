"""Model helpers: admins register, change and test models; users only list them."""

from __future__ import annotations

import secrets

import pytest

import chatmore_kernel as cm
from tests.chatmore_kernel.conftest import Accounts
from tests.support.providers import DemoProvider


def test_admin_manages_models(accounts: Accounts, demo_provider: DemoProvider) -> None:
    admin, user = accounts.admin, accounts.user
    name = f"Helper {secrets.token_hex(3)}"
    created = admin.create_model(
        name,
        demo_provider.url,
        "demo-swift;tps=0",
        api_key="sk-test-1234",
        provider_name="demo",
        default_params={"temperature": 0.4, "max_tokens": 256},
        notes="for the helper test",
    )
    assert created["name"] == name and created["api_key"] == {"set": True, "last4": "1234"}
    assert "sk-test" not in repr(created)
    row = user.models().set_index("name").loc[name]
    assert (row["provider"], row["upstream_model"], row["notes"]) == (
        "demo",
        "demo-swift;tps=0",
        "for the helper test",
    )
    assert row["temperature"] == pytest.approx(0.4) and row["max_tokens"] == 256

    record = admin.model(name)
    assert record["base_url"] == demo_provider.url
    assert record["api_key"] == {"set": True, "last4": "1234"}
    assert "api_key" not in user.model(name)  # users never see the key's state

    probe = admin.test_model(name)
    assert probe["ok"] is True and probe["latency_ms"] >= 0 and "error" not in probe

    changed = admin.update_model(name, enabled=False, notes="resting")
    assert changed["enabled"] is False and changed["notes"] == "resting"
    assert name not in set(user.models()["name"])
    assert name not in set(admin.models()["name"])
    assert name in set(admin.models(all=True)["name"])
    assert name not in set(user.models(all=True)["name"])  # users never see disabled ones
    renamed = admin.update_model(created["id"], name=name + " v2", enabled=True)
    assert renamed["name"] == name + " v2"
    assert name + " v2" in set(user.models()["name"])


def test_model_errors_carry_codes(accounts: Accounts, demo_provider: DemoProvider) -> None:
    with pytest.raises(cm.ChatMoreError) as forbidden:
        accounts.user.create_model("Nope", demo_provider.url, "demo-swift")
    assert forbidden.value.code == "FORBIDDEN" and forbidden.value.status == 403
    with pytest.raises(cm.ChatMoreError) as missing:
        accounts.admin.update_model("no such model", notes="x")
    assert missing.value.code == "MODEL_NOT_FOUND"
    with pytest.raises(cm.ChatMoreError) as refused:
        accounts.admin.create_model("Metadata", "http://169.254.169.254/v1", "x")
    assert refused.value.code == "PROVIDER_URL_REFUSED"
    with pytest.raises(cm.ChatMoreError) as invalid:
        accounts.admin.create_model(
            f"Hot {secrets.token_hex(2)}",
            demo_provider.url,
            "demo-swift",
            default_params={"temperature": 9},
        )
    assert invalid.value.code == "VALIDATION_FAILED" and "temperature" in invalid.value.message
    name = f"Down {secrets.token_hex(2)}"
    accounts.admin.create_model(name, "http://127.0.0.1:9/v1", "x")
    probe = accounts.admin.test_model(name)
    assert probe["ok"] is False and probe["error"]["code"] == "PROVIDER_UNREACHABLE"
