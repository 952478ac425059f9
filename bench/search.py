"""Time full-text search (``GET api/search``'s service) over a large message history.

    .venv/bin/python bench/search.py [-n 1000000] [--mariadb-n N] [--queries 200]
                                     [--sqlite FILE] [--no-mariadb] [--smoke]

Fills a database with ``-n`` messages (prompts and replies of 2-window turns, words drawn
from a Zipf-distributed vocabulary of 30,000 made-up words, replies ~60 words, prompts
~12; eight users, one much busier), then times :meth:`SearchService.search` — the
query, the rows and the snippets, as the server answers them — for a mix of queries by
the busiest user: a rare word, a mid-frequency word, two words, a word prefix; then a
frequent word (a tenth of the messages hold it) and an admin's search of everyone's.
Prints p50 / p95 / max per kind and over the mix. The SQLite file is reused when it
already holds the messages. MariaDB (127.0.0.1:3306, root) gets a database of its own,
dropped at the end. ``--smoke`` is a quick run on 20,000 messages.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pymysql
from harness import percentile
from sqlalchemy import func, insert, select, text

from server_ext.services.search import SearchService
from server_ext.store import tables as t
from server_ext.store.db import Database, utcnow
from server_ext.store.migrate import upgrade

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
VOCABULARY = 30_000
BATCH = 10_000
WINDOWS = 2
TURNS_PER_CONVERSATION = 12
USERS = 8
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


@dataclass(frozen=True)
class Caller:
    id: int
    is_admin: bool = False


def vocabulary(rng: np.random.Generator) -> np.ndarray:
    """Made-up words of 2 to 4 syllables (4 to 8 letters), all different."""
    words: dict[str, None] = {}
    while len(words) < VOCABULARY:
        size = int(rng.integers(2, 5))
        words["".join(rng.choice(SYLLABLES, size=size))] = None
    return np.array(list(words))


def zipf_ranks(rng: np.random.Generator, count: int) -> np.ndarray:
    """Word ranks (0 = most frequent) with Zipf's law over the vocabulary."""
    weights = 1.0 / np.arange(1, VOCABULARY + 1) ** 1.05
    return rng.choice(VOCABULARY, size=count, p=weights / weights.sum())


def texts(rng: np.random.Generator, words: np.ndarray, count: int, mean: int) -> Iterator[str]:
    lengths = np.maximum(3, rng.poisson(mean, size=count))
    ranks = zipf_ranks(rng, int(lengths.sum()))
    at = 0
    for length in lengths:
        yield " ".join(words[ranks[at : at + length]]) + "."
        at += length


def fill(db: Database, n: int, rng: np.random.Generator, words: np.ndarray) -> tuple[int, float]:
    """``n`` messages; returns the busiest user's id and the seconds it took."""
    began = time.perf_counter()
    upgrade(db.engine)
    n_turns = max(1, n // (2 * WINDOWS))
    n_convs = (n_turns + TURNS_PER_CONVERSATION - 1) // TURNS_PER_CONVERSATION
    shares = 1.0 / np.arange(1, USERS + 1)
    owner_ix = rng.choice(USERS, size=n_convs, p=shares / shares.sum())
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(
            insert(t.users),
            [
                {
                    "email": f"search{i}-{secrets.token_hex(3)}@chatmore.test",
                    "password_hash": "!",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(USERS)
            ],
        )
        users = sorted(conn.execute(select(t.users.c.id)).scalars())[-USERS:]
        model = conn.execute(
            insert(t.models).values(
                name=f"bench-{secrets.token_hex(3)}",
                base_url="http://127.0.0.1:9/v1",
                upstream_model="bench",
                default_params={},
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
    prompts = texts(rng, words, n_turns, 12)
    replies = texts(rng, words, n_turns * WINDOWS, 60)
    for lo in range(0, n_convs, BATCH // (TURNS_PER_CONVERSATION * WINDOWS * 2) or 1):
        hi = min(n_convs, lo + max(1, BATCH // (TURNS_PER_CONVERSATION * WINDOWS * 2)))
        with db.engine.begin() as conn:
            rows = []
            for c in range(lo, hi):
                user = users[owner_ix[c]]
                cid = conn.execute(
                    insert(t.conversations).values(
                        user_id=user,
                        title=f"Comparison {c}",
                        tags=[],
                        metadata={},
                        last_message_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                ).inserted_primary_key[0]
                wids = [
                    conn.execute(
                        insert(t.windows).values(
                            conversation_id=cid,
                            model_id=model,
                            name="",
                            params={},
                            sort_order=w,
                            created_at=now,
                        )
                    ).inserted_primary_key[0]
                    for w in range(WINDOWS)
                ]
                turns = min(TURNS_PER_CONVERSATION, n_turns - c * TURNS_PER_CONVERSATION)
                for _ in range(turns):
                    prompt = next(prompts)
                    tid = conn.execute(
                        insert(t.turns).values(
                            conversation_id=cid,
                            user_id=user,
                            mode="broadcast",
                            input_text=prompt,
                            status="done",
                            created_at=now,
                        )
                    ).inserted_primary_key[0]
                    for wid in wids:
                        base = {"conversation_id": cid, "window_id": wid, "turn_id": tid}
                        rows.append({**base, "role": "user", "content": prompt, "created_at": now})
                        rows.append(
                            {
                                **base,
                                "role": "assistant",
                                "content": next(replies),
                                "created_at": now,
                            }
                        )
            conn.execute(insert(t.messages), rows)
    with db.engine.connect() as conn:
        busiest = conn.execute(
            select(t.conversations.c.user_id)
            .group_by(t.conversations.c.user_id)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar_one()
    if db.is_sqlite:  # merge the index's segments, as a long-lived database's would be
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')"))
    return busiest, time.perf_counter() - began


def query_mix(rng: np.random.Generator, words: np.ndarray, count: int) -> dict[str, list[str]]:
    """Queries by kind. Ranks: rare 3,000-30,000; mid 300-3,000; frequent: rank 5-15 (a
    tenth to a quarter of the messages hold one)."""

    def pick(lo: int, hi: int, k: int = count) -> list[str]:
        return [str(w) for w in words[rng.integers(lo, hi, size=k)]]

    return {
        "rare word": pick(3_000, VOCABULARY),
        "mid word": pick(300, 3_000),
        "two words": [f"{a} {b}" for a, b in zip(pick(20, 600), pick(20, 600), strict=True)],
        "prefix": [w[:4] + "*" for w in pick(300, VOCABULARY)],
        "frequent word": pick(5, 15, max(10, count // 10)),
        "admin, everyone's": pick(300, 3_000, max(10, count // 10)),
    }


MIX = ("rare word", "mid word", "two words", "prefix")


def figures(times: list[float], cpus: list[float]) -> str:
    """Wall-clock p50, p95, max; and this process's CPU time (SQLite's work is in it,
    MariaDB's is not), which a busy machine inflates less than the wall clock."""
    return (
        f"{len(times):4} {percentile(times, 0.5):8.1f} {percentile(times, 0.95):8.1f}"
        f" {max(times):8.1f} {percentile(cpus, 0.5):8.1f} {percentile(cpus, 0.95):8.1f}"
    )


def measure(label: str, db: Database, busiest: int, mix: dict[str, list[str]]) -> None:
    service = SearchService(db)
    loop = asyncio.new_event_loop()
    admin = Caller(0, is_admin=True)
    user = Caller(busiest)
    everything: list[float] = []
    everything_cpu: list[float] = []
    print(
        f"{label:7} {'query':18} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
        f" {'cpu p50':>8} {'cpu p95':>8}  hits"
    )
    try:
        for kind, queries in mix.items():
            caller, scope = (admin, "all") if kind.startswith("admin") else (user, "mine")
            loop.run_until_complete(
                service.search(caller, queries[0], scope=scope, limit=20, offset=0)
            )
            times, cpus, hits = [], [], 0
            for q in queries:
                began, began_cpu = time.perf_counter(), time.process_time()
                page = loop.run_until_complete(
                    service.search(caller, q, scope=scope, limit=20, offset=0)
                )
                times.append((time.perf_counter() - began) * 1000)
                cpus.append((time.process_time() - began_cpu) * 1000)
                hits += bool(page["hits"])
            if kind in MIX:
                everything += times
                everything_cpu += cpus
            print(f"{label:7} {kind:18} {figures(times, cpus)}  {hits}/{len(times)} found")
        print(f"{label:7} {'the mix (4 kinds)':18} {figures(everything, everything_cpu)}")
    finally:
        loop.close()


def held(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.messages)).scalar_one()


def run_sqlite(n: int, path: Path | None, mix_count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    words = vocabulary(rng)
    path = path or Path(tempfile.gettempdir()) / "chatmore-bench" / f"search-{n}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()  # (opening the database creates the file)
    db = Database(f"sqlite:///{path}", threads=2)
    try:
        if existed and held(db) >= n:
            busiest = db.read_sync(
                lambda conn: conn.execute(
                    select(t.conversations.c.user_id)
                    .group_by(t.conversations.c.user_id)
                    .order_by(func.count().desc())
                    .limit(1)
                ).scalar_one()
            )
            print(f"sqlite: reusing {path} ({held(db):,} messages)")
        else:
            db.close()
            path.unlink(missing_ok=True)
            db = Database(f"sqlite:///{path}", threads=2)
            busiest, seconds = fill(db, n, rng, words)
            size = path.stat().st_size / 2**20
            print(f"sqlite: filled {held(db):,} messages in {seconds:.0f} s ({size:,.0f} MiB)")
        measure(
            "sqlite", db, busiest, query_mix(np.random.default_rng(seed + 1), words, mix_count)
        )
    finally:
        db.close()


def run_mariadb(n: int, mix_count: int, seed: int) -> None:
    try:
        admin = pymysql.connect(**MARIADB, autocommit=True, connect_timeout=3)
    except pymysql.err.OperationalError as exc:
        print(f"mariadb: skipped, not reachable ({exc.args[-1]})")
        return
    name = f"chatmore_bench_{secrets.token_hex(4)}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        cur.execute("SELECT VERSION(), @@innodb_buffer_pool_size")
        version, pool = cur.fetchone()
    print(f"mariadb: {version}, buffer pool {pool / 2**20:.0f} MiB, database {name}")
    db = Database(f"mysql+pymysql://root@{MARIADB['host']}:{MARIADB['port']}/{name}", threads=2)
    try:
        rng = np.random.default_rng(seed)
        words = vocabulary(rng)
        busiest, seconds = fill(db, n, rng, words)
        print(f"mariadb: filled {held(db):,} messages in {seconds:.0f} s")
        measure(
            "mariadb", db, busiest, query_mix(np.random.default_rng(seed + 1), words, mix_count)
        )
    finally:
        db.close()
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="messages in the history")
    parser.add_argument("--mariadb-n", type=int, help="messages on MariaDB (default: -n)")
    parser.add_argument("--queries", type=int, default=200, help="queries of each main kind")
    parser.add_argument("--sqlite", type=Path, help="SQLite file to fill or reuse")
    parser.add_argument("--no-mariadb", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--smoke", action="store_true", help="20,000 messages, 20 queries")
    args = parser.parse_args()
    if args.smoke:
        args.n, args.mariadb_n, args.queries = 20_000, 20_000, 20
        args.sqlite = args.sqlite or Path(tempfile.mkdtemp()) / "search-smoke.db"
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not args.no_sqlite:
        run_sqlite(args.n, args.sqlite, args.queries, args.seed)
    if not args.no_mariadb:
        run_mariadb(args.mariadb_n or args.n, args.queries, args.seed)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
