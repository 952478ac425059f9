"""``cm.search``: full-text search as a DataFrame, on SQLite and MariaDB."""

from __future__ import annotations

import secrets

import pytest

import chatmore_kernel as cm
from tests.chatmore_kernel.conftest import Accounts, register
from tests.support.providers import DemoProvider


def test_search_finds_prompts_and_replies_as_a_frame(
    accounts: Accounts, demo_provider: DemoProvider
) -> None:
    echo = register(accounts.admin, demo_provider, "echo;echo=1;tps=0")
    key = f"zq{secrets.token_hex(5)}"
    accounts.user.ask(f"Where do {key} <b>live</b>?", [echo, echo])
    accounts.user.ask("nothing here", [echo])

    hits = accounts.user.search(key)
    assert list(hits.columns) == [
        "message_id",
        "kind",
        "conversation_id",
        "conversation",
        "window_id",
        "window",
        "model",
        "turn_id",
        "snippet",
        "score",
        "created_at",
    ]
    assert sorted(hits["kind"]) == ["prompt", "reply", "reply"]
    assert hits["model"].astype(str).eq(echo).all()
    assert hits["conversation"].eq(f"Where do {key} <b>live</b>?").all()
    assert hits["snippet"].eq(f"Where do <mark>{key}</mark> &lt;b&gt;live&lt;/b&gt;?").all()
    assert str(hits["created_at"].dt.tz) == "UTC"
    assert len(accounts.user.search(key, limit=2)) == 2
    # Nobody else's, and an empty frame with the same columns when nothing matches.
    assert accounts.admin.search(key).empty
    assert len(accounts.admin.search(key, everyone=True)) == 3
    assert list(accounts.user.search("zzqqxxnothing").columns) == list(hits.columns)


def test_a_query_without_words_is_the_servers_error(accounts: Accounts) -> None:
    with pytest.raises(cm.ChatMoreError) as refused:
        accounts.user.search("a b")
    assert refused.value.code == "VALIDATION_FAILED"
    with pytest.raises(cm.ChatMoreError) as forbidden:
        accounts.user.search("tea", everyone=True)
    assert forbidden.value.code == "FORBIDDEN"
