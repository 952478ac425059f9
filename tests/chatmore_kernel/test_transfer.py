"""``cm.export`` and ``cm.import_conversation``: files a notebook writes and reads back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import chatmore_kernel as cm
from tests.chatmore_kernel.conftest import Accounts, DemoModels


def test_export_to_files_and_import_back(
    accounts: Accounts, demo_models: DemoModels, tmp_path: Path
) -> None:
    rows = accounts.user.ask("Explain SQL joins", [demo_models.swift, demo_models.scholar])
    conversation_id = int(rows["conversation_id"].iloc[0])

    md = accounts.user.export(conversation_id, tmp_path / "joins.md")
    text = md.read_text()
    assert text.startswith("# Explain SQL joins") and text.count("\n## Turn 1 — ") == 1
    for model in (demo_models.swift, demo_models.scholar):
        assert f"\n### {model} ({model})\n" in text
    saved = accounts.user.export(conversation_id, tmp_path / "joins.txt", format="json")
    document = json.loads(saved.read_text())
    assert document["format"] == "chatmore.conversation"

    created = accounts.admin.import_conversation(saved)
    assert created["imported"] == {"turns": 1, "results": 2}
    copied = accounts.admin.results(conversation=created["id"])
    assert sorted(copied["reply"]) == sorted(rows["reply"])
    # Told apart from calls made here, in the rows, the turns and the statistics.
    assert list(copied["source"]) == ["import", "import"]
    assert list(accounts.admin.turns(conversation=created["id"])["source"]) == ["import"]
    imported = accounts.admin.stats(source="import")
    assert int(imported["calls"].sum()) == 2

    with pytest.raises(ValueError):
        accounts.user.export(conversation_id, tmp_path / "joins.pdf")
    with pytest.raises(cm.ChatMoreError) as missing:
        accounts.user.export(10**12, tmp_path / "none.md")
    assert missing.value.code == "CONVERSATION_NOT_FOUND"
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    with pytest.raises(cm.ChatMoreError) as bad:
        accounts.user.import_conversation(tmp_path / "bad.json")
    assert bad.value.code == "VALIDATION_FAILED"
