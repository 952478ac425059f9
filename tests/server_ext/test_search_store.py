"""Search gives the same answers on SQLite and MariaDB for the same messages, and its
index follows every write of the store: a turn's rows, checkpoints and the final text."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from server_ext.services.search import SearchService
from server_ext.store import conversations as conversation_store
from server_ext.store import migrate
from server_ext.store import models as model_store
from server_ext.store import turns as turn_store
from server_ext.store import users as user_store
from server_ext.store.db import Database
from tests.support.databases import MariaDBDatabases, new_database_url


@dataclass(frozen=True)
class Caller:
    id: int
    is_admin: bool = False


SUBJECTS = ["Quokkas", "The café owner", "A résumé", "Streaming parsers", "Über-fast SQL"]
VERBS = ["explain", "stream", "streamed", "reject", "index"]
OBJECTS = ["joins", "tokens", "snapshots of the database", "naïve timestamps", "Rottnest"]
QUERIES = [
    "stream",
    "stream*",
    "cafe",
    "CAFÉ owner",
    "resume",
    "quokkas rottnest",
    "index* database",
    "naive",
    "uber",
    "fast sql",
    "tokens explain",
    "nothing matches this",
]


def sentences() -> list[str]:
    combos = itertools.product(SUBJECTS, VERBS, OBJECTS)
    return [f"{s} {v} {o}." for i, (s, v, o) in enumerate(combos) if i % 3 == 0]


def fill(db: Database) -> dict[str, int]:
    """Two users; user one's conversation has two windows, user two's one. Replies are
    checkpointed half-written, then finalised."""

    def write(conn: Any) -> dict[str, int]:
        one = user_store.insert_user(
            conn, email="one@example.com", password_hash="x", display_name="", role="user"
        )
        two = user_store.insert_user(
            conn, email="two@example.com", password_hash="x", display_name="", role="user"
        )
        model = model_store.insert_model(
            conn,
            {"name": "m", "base_url": "http://x/v1", "upstream_model": "m", "default_params": {}},
        )
        ids = {"one": one["id"], "two": two["id"]}
        for owner, count in ((one, 2), (two, 1)):
            conversation_id = conversation_store.insert_conversation(
                conn,
                user_id=owner["id"],
                title=f"by {owner['email']}",
                system_prompt=None,
                tags=[],
                metadata={},
                window_specs=[
                    {"model_id": model["id"], "name": f"w{i}", "params": {}, "system_prompt": None}
                    for i in range(count)
                ],
            )
            targets = [
                {"id": w, "model_id": model["id"]}
                for w in turn_store.window_ids_of(conn, conversation_id)
            ]
            texts = sentences()
            for prompt, reply in zip(texts, texts[1:] + texts[:1], strict=True):
                _turn, _at, made = turn_store.insert_turn(
                    conn,
                    conversation_id=conversation_id,
                    user_id=owner["id"],
                    mode="broadcast",
                    content=prompt,
                    targets=targets,
                    runner="test",
                )
                for n, made_ids in enumerate(made.values()):
                    text = reply if n == 0 else f"{reply} (again)"
                    turn_store.checkpoint(
                        conn,
                        [
                            {
                                "rid": made_ids["result_id"],
                                "mid": made_ids["message_id"],
                                "status": "streaming",
                                "started_at": None,
                                "event_log": [],
                                "content": text[: len(text) // 2] + " halfway",
                            }
                        ],
                    )
                    turn_store.finalize_result(
                        conn,
                        result_id=made_ids["result_id"],
                        message_id=made_ids["message_id"],
                        runner="test",
                        content=text,
                        values={"status": "succeeded"},
                    )
        return ids

    return db.write_sync(write)


def answers(db: Database, users: dict[str, int]) -> dict[tuple[str, str], list[tuple]]:
    service = SearchService(db)

    async def run() -> dict[tuple[str, str], list[tuple]]:
        found = {}
        callers = {name: Caller(uid) for name, uid in users.items()}
        callers["admin"] = Caller(0, is_admin=True)
        for (name, caller), q in itertools.product(callers.items(), QUERIES):
            scope = "all" if caller.is_admin else "mine"
            hits, offset = [], 0
            while offset is not None:
                page = await service.search(caller, q, scope=scope, limit=50, offset=offset)
                hits += page["hits"]
                offset = page["next_offset"]
            found[name, q] = sorted(
                (h["kind"], h["conversation_title"], h["window_name"], h["snippet"]) for h in hits
            )
        return found

    return asyncio.run(run())


@pytest.fixture
def two_databases(tmp_path: Path, mariadb_databases: MariaDBDatabases):
    opened = []
    for backend in ("sqlite", "mariadb"):
        db = Database(new_database_url(backend, tmp_path / backend, mariadb_databases), 2)
        migrate.upgrade(db.engine)
        opened.append(db)
    yield opened
    for db in opened:
        db.close()


def test_both_databases_find_the_same_hits(two_databases: list[Database]) -> None:
    sqlite, mariadb = two_databases
    users = fill(sqlite)
    assert fill(mariadb) == users
    on_sqlite, on_mariadb = answers(sqlite, users), answers(mariadb, users)
    for key, hits in on_sqlite.items():
        assert hits == on_mariadb[key], key

    # What a user finds is theirs, and the corpus is searched as written.
    assert all(title == "by one@example.com" for _, title, _, _ in on_sqlite["one", "stream"])
    assert all(title == "by two@example.com" for _, title, _, _ in on_sqlite["two", "stream"])
    assert len(on_sqlite["admin", "stream"]) == len(on_sqlite["one", "stream"]) + len(
        on_sqlite["two", "stream"]
    )
    assert 0 < len(on_sqlite["one", "stream"]) < len(on_sqlite["one", "stream*"])
    assert on_sqlite["one", "cafe"] and on_sqlite["one", "resume"] and on_sqlite["one", "naive"]
    assert on_sqlite["one", "nothing matches this"] == []
    # The half-written text of a checkpoint is no longer in the index.
    halfway = asyncio.run(
        SearchService(sqlite).search(
            Caller(users["one"]), "halfway", scope="mine", limit=5, offset=0
        )
    )
    assert halfway["hits"] == []
