"""Time ``cm.results()`` end to end on a large history: a million results into a DataFrame.

    .venv/bin/python bench/results_dataframe.py [-n 1000000] [--runs 3] [--db FILE | --url URL]
    .venv/bin/python bench/results_dataframe.py --smoke      # seconds: 2,000 rows, one run

Fills a database with ``-n`` results of one user (bench/fill_history.py; ``--db`` reuses
a SQLite file that already holds them, ``--url`` any SQLAlchemy URL, e.g. a MariaDB
database), starts a ChatMore server on it as a process of its own, signs in with the
notebook API and times, median of ``--runs`` (with the spread, min–max):

- ``cm.results(text=False)`` and ``cm.results()`` (with prompts and replies), whole, as
  the notebook reads them: Arrow pages of 100,000 rows, the next fetched while this one
  is converted;
- where the time goes: the server alone (every Arrow page fetched one after the other,
  nothing decoded), then the client alone on those same bodies;
- for comparison, the JSON pages other clients read (10,000 rows each): the server
  alone, and the client decoding them into the same DataFrame.

The target is 1,000,000 rows in at most 3 s with ``text=False``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select, update
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.fill_history import fill  # noqa: E402
from chatmore_kernel import result_frames as results_module  # noqa: E402
from chatmore_kernel.arrow_frames import ARROW_STREAM, frame_from_tables, read_page  # noqa: E402
from chatmore_kernel.schemas import RESULTS, RESULTS_NO_TEXT  # noqa: E402
from server_ext.security.passwords import hash_password  # noqa: E402
from server_ext.store import tables as t  # noqa: E402
from server_ext.store.db import create_db_engine  # noqa: E402
from tests.support.servers import JupyterServer  # noqa: E402

EMAIL = "bench0@chatmore.test"
PASSWORD = "bench password 1"  # noqa: S105 - a throwaway account in a throwaway database
TARGET_S = 3.0
JSON_PAGE = 10_000


def prepare(url: str, n: int) -> str:
    """A database holding ``n`` results of one user who can sign in."""
    engine = create_db_engine(url)
    try:
        have = 0
        if inspect(engine).has_table("turn_results"):
            with engine.connect() as conn:
                have = conn.execute(select(func.count()).select_from(t.turn_results)).scalar()
        if have != n:
            if have:
                raise SystemExit(f"{url} holds {have:,} results, not {n:,}: use another")
            print(f"filling {url} with {n:,} results …", flush=True)
            filled = fill(engine, n, users=1)
            print(f"  filled in {filled.seconds:.0f} s", flush=True)
        with engine.begin() as conn:
            conn.execute(
                update(t.users)
                .where(t.users.c.email == EMAIL)
                .values(password_hash=hash_password(PASSWORD, 4))
            )
    finally:
        engine.dispose()
    return url


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, float, Any]:
    """Median, min and max seconds of ``runs`` calls, and the last result."""
    seconds, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds), min(seconds), max(seconds), result


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux): the server's own work,
    whatever else the machine is busy with."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spread(low: float, high: float) -> str:
    return f"({low:.2f}–{high:.2f})"


def arrow_pages(session: Any, text: bool) -> list[bytes]:
    """Every Arrow page's body, fetched one after the other (the server's share)."""
    api = session._api  # the bench looks under the hood on purpose
    bodies: list[bytes] = []
    after: int | None = 0
    while after is not None:
        query = {"after_id": after, "limit": results_module.PAGE_SIZE, "text": str(text).lower()}
        answer = api.request("GET", "api/results", params=query, headers={"Accept": ARROW_STREAM})
        bodies.append(answer.content)
        after, _ = read_page(answer.content)
    return bodies


def arrow_decode(bodies: list[bytes], text: bool) -> Any:
    """What ``cm.results`` does with the Arrow pages, without fetching them."""
    tables = [read_page(b)[1] for b in bodies]
    return frame_from_tables(tables, RESULTS if text else RESULTS_NO_TEXT)


def json_pages(session: Any, text: bool) -> list[bytes]:
    """Every JSON page's body (10,000 rows), fetched one after the other."""
    api = session._api
    bodies, after = [], 0
    while after is not None:
        query = {"after_id": after, "limit": JSON_PAGE, "text": str(text).lower()}
        body = api.request("GET", "api/results", params=query).content
        bodies.append(body)
        after, _ = results_module._next_after_id(body)
    return bodies


def json_decode(bodies: list[bytes], text: bool) -> Any:
    """The same DataFrame from the JSON pages, as a client of those would build it."""
    with results_module._no_cyclic_gc():
        pages = (results_module._decode(b) for b in bodies)
        return results_module.frame_from_pages(pages, text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", type=Path, help="SQLite file to fill or reuse")
    parser.add_argument("--url", help="a database URL to fill or reuse (e.g. MariaDB)")
    parser.add_argument("--smoke", action="store_true", help="2,000 rows, one run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.n, args.runs = 2_000, 1
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    with tempfile.TemporaryDirectory(prefix="chatmore-bench-") as tmp:
        root = Path(tmp)
        url = prepare(args.url or f"sqlite:///{args.db or root / 'bench.db'}", args.n)
        server = JupyterServer(
            workdir=root / "server",
            env={"CHATMORE_DATA_DIR": str(root / "data"), "CHATMORE_DB_URL": url},
            log_level="WARN",
        )
        server.start()
        try:
            import chatmore_kernel as cm

            session = cm.connect(server.base_url, EMAIL, PASSWORD)
            assert server.proc is not None
            pid = server.proc.pid
            shown = make_url(url).render_as_string(hide_password=True)
            print(f"server {server.base_url} on {shown}; {args.runs} runs each, median (min–max)")
            for text in (False, True):
                label = f"cm.results(text={text})"
                cpu_before, began_cpu = cpu_seconds(pid), time.process_time()
                seconds, low, high, df = timed(lambda text=text: cm.results(text=text), args.runs)
                server_cpu = (cpu_seconds(pid) - cpu_before) / args.runs
                client_cpu = (time.process_time() - began_cpu) / args.runs
                mb = df.memory_usage(deep=False).sum() / 2**20
                verdict = ""
                if not text and not args.smoke:
                    verdict = f"  (target ≤ {TARGET_S:g} s: " + (
                        "met)" if seconds <= TARGET_S else "MISSED)"
                    )
                print(
                    f"{label:24} {len(df):>9,} rows  {seconds:6.2f} s {spread(low, high)}  "
                    f"{len(df) / seconds:>10,.0f} rows/s  {mb:5.0f} MB{verdict}"
                )
                print(f"  CPU per call: server {server_cpu:.2f} s, notebook {client_cpu:.2f} s")
                cpu_before = cpu_seconds(pid)
                server_s, low, high, bodies = timed(
                    lambda text=text: arrow_pages(session, text), args.runs
                )
                server_cpu = (cpu_seconds(pid) - cpu_before) / args.runs
                size = sum(len(b) for b in bodies) / 2**20
                began_cpu = time.process_time()
                client_s, *_ = timed(lambda b=bodies, t=text: arrow_decode(b, t), args.runs)
                client_cpu = (time.process_time() - began_cpu) / args.runs
                print(
                    f"  Arrow: server only {server_s:.2f} s {spread(low, high)} for "
                    f"{len(bodies)} pages, {size:,.0f} MB, server CPU {server_cpu:.2f} s; "
                    f"client only {client_s:.2f} s (CPU {client_cpu:.2f} s)"
                )
                cpu_before = cpu_seconds(pid)
                server_s, low, high, bodies = timed(
                    lambda text=text: json_pages(session, text), args.runs
                )
                server_cpu = (cpu_seconds(pid) - cpu_before) / args.runs
                size = sum(len(b) for b in bodies) / 2**20
                client_s, *_, json_df = timed(
                    lambda b=bodies, t=text: json_decode(b, t), args.runs
                )
                assert len(json_df) == len(df)
                print(
                    f"  JSON:  server only {server_s:.2f} s {spread(low, high)} for "
                    f"{len(bodies)} pages, {size:,.0f} MB, server CPU {server_cpu:.2f} s; "
                    f"client only {client_s:.2f} s"
                )
            session.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
