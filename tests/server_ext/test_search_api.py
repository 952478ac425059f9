"""``GET chatmore/api/search``: full-text search over the caller's prompts and replies,
end to end on SQLite and MariaDB (a real server, the demo provider echoing prompts)."""

from __future__ import annotations

import secrets

import pytest

from tests.support.api import Client, make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer


def word() -> str:
    """A word no other test writes, so that searches see only this test's messages."""
    return f"zq{secrets.token_hex(5)}"


@pytest.fixture
def admin(server: JupyterServer) -> Client:
    return new_client(server, "admin")


@pytest.fixture
def echo_models(admin: Client, demo_provider: DemoProvider) -> list[int]:
    """Two models that answer with the prompt, verbatim."""
    return make_models(admin, demo_provider.url, ["echo;echo=1;tps=0", "echo;echo=1;tps=0"])


def talk(client: Client, model_ids: list[int], *prompts: str, title: str = "t") -> dict:
    conversation = make_conversation(client, model_ids, title=title)
    for prompt in prompts:
        wait_turn(client, send(client, conversation["id"], prompt)["turn_id"])
    return conversation


def search(client: Client, q: str, **params: object) -> dict:
    answer = client.get("api/search", params={"q": q, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_prompts_and_replies_are_found_with_where_they_belong(
    server: JupyterServer, echo_models: list[int]
) -> None:
    user = new_client(server)
    key = word()
    conversation = talk(user, echo_models, f"Quokkas of {key} hop across Rottnest", title="Isle")
    talk(user, echo_models, "nothing to see here")

    found = search(user, key)
    hits = found["hits"]
    # The prompt once (though it went to two windows), and each window's reply.
    assert sorted(h["kind"] for h in hits) == ["prompt", "reply", "reply"]
    windows = {w["id"]: w for w in conversation["windows"]}
    assert {h["window_id"] for h in hits if h["kind"] == "reply"} == set(windows)
    for hit in hits:
        assert hit["conversation_id"] == conversation["id"]
        assert hit["conversation_title"] == "Isle"
        assert hit["window_name"] == windows[hit["window_id"]]["name"]
        assert hit["model_name"] == windows[hit["window_id"]]["model_name"]
        assert hit["snippet"] == f"Quokkas of <mark>{key}</mark> hop across Rottnest"
        assert hit["turn_id"] and hit["created_at"]
    assert found["next_offset"] is None

    # A word's start, case and several words (all required).
    assert len(search(user, f"{key[:6].upper()}*")["hits"]) == 3
    assert len(search(user, f"rottnest {key}")["hits"]) == 3
    assert search(user, f"rottnest {key} kangaroo")["hits"] == []
    # Whole words only without the star.
    assert search(user, key[:-1])["hits"] == []


def test_another_users_conversations_never_appear(
    server: JupyterServer, echo_models: list[int]
) -> None:
    alice, bob = new_client(server), new_client(server)
    key = word()
    talk(alice, echo_models, f"alice writes {key}")
    talk(bob, echo_models, f"bob writes {key}")

    for client, name in ((alice, "alice"), (bob, "bob")):
        hits = search(client, key)["hits"]
        assert len(hits) == 3
        assert all(h["snippet"].startswith(name) for h in hits)
    # Only admins search everyone's, and only when they ask.
    forbidden = bob.get("api/search", params={"q": key, "scope": "all"})
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "FORBIDDEN"
    admin = new_client(server, "admin")
    assert search(admin, key)["hits"] == []
    everyone = search(admin, key, scope="all")["hits"]
    assert sorted(h["snippet"].split()[0] for h in everyone) == ["alice"] * 3 + ["bob"] * 3


def test_snippets_are_escaped_and_cut_around_the_match(
    server: JupyterServer, echo_models: list[int]
) -> None:
    user = new_client(server)
    key = word()
    hostile = f'<img src=x onerror="alert(1)"> <script>alert(2)</script> {key} & more'
    long = "lorem " * 100 + f"the {key} is here " + "ipsum " * 100
    talk(user, echo_models, hostile, long)

    hits = search(user, key)["hits"]
    snippets = {h["snippet"] for h in hits}
    assert len(snippets) == 2
    escaped = next(s for s in snippets if "alert" in s)
    assert "<img" not in escaped and "<script" not in escaped
    assert escaped == (
        "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &lt;script&gt;alert(2)&lt;/script&gt;"
        f" <mark>{key}</mark> &amp; more"
    )
    cut = next(s for s in snippets if "lorem" in s)
    assert cut.startswith("…lorem") and cut.endswith("…")
    assert f"the <mark>{key}</mark> is here" in cut
    assert len(cut) < 300


def test_pages_cover_every_hit_once(server: JupyterServer, echo_models: list[int]) -> None:
    user = new_client(server)
    key = word()
    talk(user, echo_models[:1], *[f"{key} number {i}" for i in range(5)])

    seen, offset, pages = [], 0, 0
    while offset is not None:
        page = search(user, key, limit=2, offset=offset)
        assert len(page["hits"]) <= 2
        seen += [h["message_id"] for h in page["hits"]]
        offset, pages = page["next_offset"], pages + 1
    assert pages == 5  # 10 hits: 5 prompts and 5 replies
    assert len(seen) == len(set(seen)) == 10


def test_a_repeated_word_ranks_first(server: JupyterServer, echo_models: list[int]) -> None:
    user = new_client(server)
    key = word()
    filler = [f"unrelated message {i} about tea" for i in range(6)]
    talk(
        user,
        echo_models[:1],
        *filler,
        f"{key} once in a long sentence with many other words around it",
        f"{key} {key} {key} three times",
    )
    hits = search(user, key)["hits"]
    assert len(hits) == 4
    assert hits[0]["snippet"].count("<mark>") == 3
    assert hits[0]["score"] >= hits[-1]["score"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "a b to"}, "q"),  # no word of three letters
        ({"q": "x" * 501}, "q"),
        ({"q": " ".join(f"word{i}" for i in range(17))}, "q"),
        ({"q": "tea", "limit": "0"}, "limit"),
        ({"q": "tea", "offset": "-1"}, "offset"),
        ({"q": "tea", "offset": "99999"}, "offset"),
        ({"q": "tea", "scope": "nobody"}, "scope"),
    ],
)
def test_bad_queries_are_refused(server: JupyterServer, params: dict, field: str) -> None:
    user = new_client(server)
    answer = user.get("api/search", params=params)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert error.get("details", {}).get("field") == field


def test_fts_syntax_in_a_query_is_only_words(
    server: JupyterServer, echo_models: list[int]
) -> None:
    user = new_client(server)
    key = word()
    talk(user, echo_models[:1], f"plain {key} text")
    for q in (f'"{key}" OR NEAR(x)', f"+{key} -plain", f"{key}) AND (", f"{key}:*^"):
        answer = user.get("api/search", params={"q": q})
        assert answer.status_code == 200, (q, answer.text)
    # Operators are not operators: "-plain" is the word "plain", required.
    assert len(search(user, f"+{key} -plain")["hits"]) == 2


def test_search_needs_a_signed_in_user(server: JupyterServer) -> None:
    answer = server.client().get("api/search", params={"q": "tea"})
    assert answer.status_code == 401
