"""The notebook calls a list of conversations offers: search by title, the first
prompt's preview, rename, tag, and a column added to an open conversation."""

from __future__ import annotations

import secrets

import pytest

import chatmore_kernel as cm
from tests.chatmore_kernel.conftest import Accounts, DemoModels


def test_search_rename_and_tag(accounts: Accounts, demo_models: DemoModels) -> None:
    user = accounts.user
    word = secrets.token_hex(4)
    board = user.board([demo_models.swift], title=f"joins {word}")
    board.send("How do I join two tables?")
    board.wait()
    found = user.conversations(search=word.upper())
    assert found["id"].tolist() == [board.conversation_id]
    assert found.iloc[0]["first_prompt"] == "How do I join two tables?"

    user.rename(board, f"SQL joins {word}")
    user.tag(board.conversation_id, " sql, work ,, sql")
    renamed = user.conversations(search=f"sql joins {word}").iloc[0]
    assert renamed["title"] == f"SQL joins {word}"
    assert renamed["tags"] == ["sql", "work"]
    assert user.conversations(search=f"nothing {word}").empty
    newer = user.board([demo_models.swift], title=f"newer {word}")
    assert user.conversations(limit=1)["id"].tolist() == [newer.conversation_id]
    assert len(user.conversations(search=word, limit=5)) == 2
    with pytest.raises(cm.ChatMoreError) as caught:
        accounts.admin.rename(board.conversation_id, "not mine")
    assert caught.value.code == "CONVERSATION_NOT_FOUND"


def test_a_column_added_joins_from_the_next_turn(
    accounts: Accounts, demo_models: DemoModels
) -> None:
    user = accounts.user
    board = user.board([demo_models.swift])
    board.send("first")
    board.wait()
    changed = user.add_window(
        board, demo_models.scholar, params={"temperature": 0.2}, system_prompt="Be brief."
    )
    added = changed["windows"][-1]
    assert added["model_name"] == demo_models.scholar
    assert added["params"] == {"temperature": 0.2}
    assert added["system_prompt"] == "Be brief."

    reopened = user.board(conversation=board.conversation_id)
    assert [w["id"] for w in reopened.windows] == [w["id"] for w in changed["windows"]]
    assert reopened.history.get(str(added["id"]), []) == []
    started = reopened.send("second")
    assert started["window_ids"] == [w["id"] for w in changed["windows"]]
    reopened.wait()
    assert [e["prompt"] for e in reopened.history[str(added["id"])]] == ["second"]
