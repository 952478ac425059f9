"""Time the usage-statistics query on a large history, on SQLite and MariaDB.

    .venv/bin/python bench/stats_query.py [-n 1000000] [--runs 7] [--sqlite FILE] [--no-mariadb]
    .venv/bin/python bench/stats_query.py --no-sqlite --mariadb-url URL   # a filled one, kept
    .venv/bin/python bench/stats_query.py --smoke      # seconds: 3,000 results, one run

For each backend: fill a database with ``-n`` results (bench/fill_history.py; the SQLite
file is reused when it already holds them), fold them into ``usage_days`` as migration
0005 does for a database that has them (timed), then time the usage query — median of
``--runs`` after a warm-up, with the spread (min–max) and this process's CPU time — for
the busiest user, the quietest user, everyone, everyone by day (and by day and source),
the busiest user by day, everyone over the last week, and a range that starts and ends
mid-day (its two partial days are read from ``turn_results``). "service" is
``StatsService.usage`` as the server runs it (a catch-up, then one read transaction),
"read" is ``usage_rows`` alone on one connection. MariaDB (127.0.0.1:3306, root) gets a
database ``chatmore_bench_<random>`` of its own, dropped at the end; without MariaDB
that half is skipped. The target is everyone by day in at most 500 ms.
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
from sqlalchemy import func, select, text

from server_ext.services.stats import StatsService
from server_ext.store import tables as t
from server_ext.store.db import Database
from server_ext.store.stats import usage_rows
from server_ext.store.usage_days import catch_up

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


@dataclass
class Timing:
    median_ms: float
    best_ms: float
    worst_ms: float
    cpu_ms: float  # of this process, all threads: SQLite's work included, MariaDB's not

    def __str__(self) -> str:
        spread = f"{self.best_ms:.0f}–{self.worst_ms:.0f}"
        return f"{self.median_ms:6.0f} ({spread:>11}, {self.cpu_ms:5.0f} cpu)"


def timed(call: Callable[[], Any], runs: int) -> Timing:
    call()  # warm-up: caches, pool connections
    walls, cpus = [], []
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - began)
        cpus.append(time.process_time() - began_cpu)
    return Timing(
        statistics.median(walls) * 1000,
        min(walls) * 1000,
        max(walls) * 1000,
        statistics.median(cpus) * 1000,
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
    noon = week - dt.timedelta(days=23, hours=12)
    later = noon + dt.timedelta(days=14, hours=3)
    base = {"start": None, "end": None, "model_id": None, "user_id": None, "by_day": False}
    return [
        (f"busiest user ({busy_n:,} results)", base | {"user_id": busy}),
        (f"quietest user ({quiet_n:,} results)", base | {"user_id": quiet}),
        ("everyone", base),
        ("everyone, by day", base | {"by_day": True}),
        ("everyone, by day and source", base | {"by_day": True, "by_source": True}),
        ("busiest user, by day", base | {"user_id": busy, "by_day": True}),
        ("everyone, last 7 days", base | {"start": week}),
        ("everyone, mid-day to mid-day", base | {"start": noon, "end": later}),
    ]


def fold(label: str, db: Database) -> None:
    """Fold what is not folded yet (all of a fresh fill), as migration 0005 does."""
    began = time.perf_counter()
    folded = db.write_sync(catch_up)
    seconds = time.perf_counter() - began
    print(f"{label}: folded {folded:,} results into usage_days in {seconds:.1f} s")
    with db.engine.connect() as conn:
        days = conn.execute(select(func.count()).select_from(t.usage_days)).scalar_one()
    print(f"{label}: usage_days holds {days:,} rows")


def measure(label: str, url: str, runs: int) -> None:
    db = Database(url, threads=4)
    service = StatsService(db)
    fold(label, db)
    print(
        f"{'':7} {'query':38} {'service: median ms (min–max, cpu)':36}  "
        f"{'read alone: median ms (min–max, cpu)':36}  rows"
    )
    loop = asyncio.new_event_loop()
    try:
        for name, query in cases(db):
            via_service = timed(lambda q=query: loop.run_until_complete(service.usage(**q)), runs)
            read_only = timed(lambda q=query: db.read_sync(usage_rows, **q), runs)
            groups = len(db.read_sync(usage_rows, **query))
            target = ""
            if name == "everyone, by day" and runs > 1:
                target = "  (≤ 500 ms: " + ("met)" if via_service.median_ms <= 500 else "MISSED)")
            print(
                f"{label:7} {name:38} {via_service!s:36}  {read_only!s:36}  {groups:4}{target}",
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
        filled = fill(db.engine, n, days=max(2, min(90, n // 10_000)))
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
    parser.add_argument("--mariadb-url", help="measure this filled database (kept) instead")
    parser.add_argument("--smoke", action="store_true", help="3,000 results, one run")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if args.smoke:
        args.n, args.runs = 3_000, 1
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="chatmore-bench-") as tmp:
            path = args.sqlite or (Path(tmp) / "history.db" if args.smoke else None)
            run_sqlite(args.n, args.runs, path)
    if args.mariadb_url:
        measure("mariadb", args.mariadb_url, args.runs)
    elif not args.no_mariadb:
        run_mariadb(args.n, args.runs)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
