"""Time the usage-statistics query on a large history, on SQLite and MariaDB.

    .venv/bin/python bench/stats_query.py [-n 1000000] [--runs 7] [--sqlite FILE] [--no-mariadb]

For each backend: fill a database with ``-n`` results (bench/fill_history.py; the SQLite
file is reused when it already holds them), time the usage query — median of ``--runs``
after a warm-up — for the busiest user, the quietest user, everyone, everyone by day and
everyone over the last week, first on the schema as migrated, then with the stats indexes
of :data:`STATS_INDEXES` added. "service" is ``StatsService.usage`` (three queries at once
on three pooled connections, as the server runs it), "1 conn" is ``usage_rows`` on one
connection. MariaDB (127.0.0.1:3306, root) gets a database ``chatmore_bench_<random>`` of
its own, dropped at the end; without MariaDB that half is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
from fill_history import fill
from sqlalchemy import Engine, Index, MetaData, func, inspect, select, text

from server_ext.services.stats import StatsService
from server_ext.store import tables as t
from server_ext.store.db import Database
from server_ext.store.stats import usage_rows

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}

# The indexes proposed for server_ext/store/tables.py, on a copy of the table so that
# this script does not add them to the application's metadata. Explicit names: the naming
# convention would make them longer than MySQL's 64 characters.
_tr = t.turn_results.to_metadata(MetaData()).c
STATS_INDEXES = (
    # GROUP BY model, latency_ms in index order (no sort), and every column the totals
    # query reads, so that neither query touches the wide table rows.
    Index(
        "ix_turn_results_stats_latency",
        _tr.status,
        _tr.model_id,
        _tr.latency_ms,
        _tr.created_at,
        _tr.user_id,
        _tr.ttft_ms,
        _tr.decode_ms,
        _tr.prompt_tokens,
        _tr.completion_tokens,
        _tr.total_tokens,
    ),
    # GROUP BY model, ttft_ms in index order.
    Index(
        "ix_turn_results_stats_ttft",
        _tr.status,
        _tr.model_id,
        _tr.ttft_ms,
        _tr.created_at,
        _tr.user_id,
    ),
)


def in_schema() -> bool:
    """Whether tables.py declares the stats indexes already (then there is nothing to add)."""
    declared = {index.name for index in t.turn_results.indexes}
    return all(index.name in declared for index in STATS_INDEXES)


def set_stats_indexes(engine: Engine, present: bool) -> float:
    """Create or drop :data:`STATS_INDEXES` (a reused file may hold them from a previous
    run); returns the seconds it took."""
    began = time.perf_counter()
    existing = {ix["name"] for ix in inspect(engine).get_indexes("turn_results")}
    with engine.begin() as conn:
        for index in STATS_INDEXES:
            if present and index.name not in existing:
                index.create(conn)
            elif not present and index.name in existing:
                index.drop(conn)
    return time.perf_counter() - began


@dataclass
class Timing:
    median_ms: float
    best_ms: float
    cpu_ms: float  # of this process, all threads: SQLite's work included, MariaDB's not

    def __str__(self) -> str:
        return f"{self.median_ms:6.0f} ({self.best_ms:5.0f} best, {self.cpu_ms:5.0f} cpu)"


def timed(call: Callable[[], Any], runs: int) -> Timing:
    call()  # warm-up: caches, pool connections
    walls, cpus = [], []
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - began)
        cpus.append(time.process_time() - began_cpu)
    return Timing(
        statistics.median(walls) * 1000, min(walls) * 1000, statistics.median(cpus) * 1000
    )


def cases(db: Database) -> list[tuple[str, dict[str, Any]]]:
    with db.engine.connect() as conn:
        per_user = conn.execute(
            select(t.turn_results.c.user_id, func.count())
            .group_by(t.turn_results.c.user_id)
            .order_by(func.count().desc())
        ).all()
        newest = conn.execute(select(func.max(t.turn_results.c.created_at))).scalar_one()
    (busy, busy_n), (quiet, quiet_n) = per_user[0], per_user[-1]
    week = newest.replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=6)
    base = {"start": None, "end": None, "model_id": None, "user_id": None, "by_day": False}
    return [
        (f"busiest user ({busy_n:,} results)", base | {"user_id": busy}),
        (f"quietest user ({quiet_n:,} results)", base | {"user_id": quiet}),
        ("everyone", base),
        ("everyone, by day", base | {"by_day": True}),
        ("busiest user, by day", base | {"user_id": busy, "by_day": True}),
        ("everyone, last 7 days", base | {"start": week}),
    ]


def measure(label: str, url: str, runs: int) -> None:
    db = Database(url, threads=4)
    service = StatsService(db)
    print(
        f"{'':7} {'schema':15} {'query':34} {'service: median ms':33}  "
        f"{'usage_rows on 1 connection':33}  rows"
    )
    loop = asyncio.new_event_loop()
    try:
        schemas = ["as migrated"] if in_schema() else ["as migrated", "+ stats indexes"]
        for schema in schemas:
            if schema == "+ stats indexes":
                seconds = set_stats_indexes(db.engine, present=True)
                print(f"{label}: created the stats indexes in {seconds:.1f} s", flush=True)
            elif not in_schema():
                set_stats_indexes(db.engine, present=False)
            for name, query in cases(db):
                via_service = timed(
                    lambda q=query: loop.run_until_complete(service.usage(**q)), runs
                )
                one_conn = timed(lambda q=query: db.read_sync(usage_rows, **q), runs)
                groups = len(db.read_sync(usage_rows, **query))
                print(
                    f"{label:7} {schema:15} {name:34} {via_service}  {one_conn}  {groups:3}",
                    flush=True,
                )
    finally:
        loop.close()
        db.close()


def sqlite_url(path: Path, n: int) -> str:
    url = f"sqlite:///{path}"
    if path.exists():
        db = Database(url)
        try:
            with db.engine.connect() as conn:
                held = conn.execute(select(func.count()).select_from(t.turn_results)).scalar_one()
        finally:
            db.close()
        if held >= n:
            print(f"sqlite: reusing {path} ({held:,} results)")
            return url
        path.unlink()
    return url


def run_sqlite(n: int, runs: int, path: Path | None) -> None:
    path = path or Path(tempfile.gettempdir()) / "chatmore-bench" / f"history-{n}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    url = sqlite_url(path, n)
    if not path.exists():
        _fill("sqlite", url, n)
    measure("sqlite", url, runs)


def run_mariadb(n: int, runs: int) -> None:
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
    try:
        url = f"mysql+pymysql://root@{MARIADB['host']}:{MARIADB['port']}/{name}?charset=utf8mb4"
        _fill("mariadb", url, n)
        measure("mariadb", url, runs)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def _fill(label: str, url: str, n: int) -> None:
    db = Database(url)
    try:
        filled = fill(db.engine, n)
        with db.engine.connect() as conn:
            if db.is_sqlite:
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        db.close()
    print(f"{label}: filled {filled.results:,} results in {filled.seconds:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="results in the history")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per figure")
    parser.add_argument("--sqlite", type=Path, help="SQLite file to fill or reuse")
    parser.add_argument("--no-mariadb", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not args.no_sqlite:
        run_sqlite(args.n, args.runs, args.sqlite)
    if not args.no_mariadb:
        run_mariadb(args.n, args.runs)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
