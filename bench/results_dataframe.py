"""Time ``cm.results()`` end to end on a large history: a million results into a DataFrame.

    .venv/bin/python bench/results_dataframe.py [-n 1000000] [--runs 3] [--db FILE]

Fills a SQLite database with ``-n`` results of one user (bench/fill_history.py; ``--db``
reuses a file that already holds them), starts a ChatMore server on it as a process of
its own, signs in with the notebook API and times, median of ``--runs``:

- ``cm.results(text=False)`` and ``cm.results()`` (with prompts and replies), whole;
- where the time goes: the server alone (every page fetched and read, nothing decoded),
  then the client alone on those same bodies (JSON decoding, then building the frame).

The target is 1,000,000 rows in at most 5 s with ``text=False``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.fill_history import fill  # noqa: E402
from chatmore_kernel import result_frames as results_module  # noqa: E402
from server_ext.security.passwords import hash_password  # noqa: E402
from server_ext.store import tables as t  # noqa: E402
from server_ext.store.db import create_db_engine  # noqa: E402
from tests.support.servers import JupyterServer  # noqa: E402

EMAIL = "bench0@chatmore.test"
PASSWORD = "bench password 1"  # noqa: S105 - a throwaway account in a throwaway database
TARGET_S = 5.0


def prepare(db: Path, n: int) -> str:
    """A SQLite database holding ``n`` results of one user who can sign in."""
    url = f"sqlite:///{db}"
    engine = create_db_engine(url)
    try:
        have = 0
        if db.exists():
            with engine.connect() as conn:
                have = conn.execute(select(func.count()).select_from(t.turn_results)).scalar()
        if have != n:
            if have:
                raise SystemExit(f"{db} holds {have:,} results, not {n:,}: use another file")
            print(f"filling {db} with {n:,} results …", flush=True)
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


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median seconds of ``runs`` calls, and the last result."""
    seconds, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds), result


def raw_pages(session: Any, text: bool) -> list[bytes]:
    """Every page's body, fetched one after the other (the server's share of the work)."""
    api = session._api  # the bench looks under the hood on purpose
    bodies, after = [], 0
    while after is not None:
        query = {"after_id": after, "limit": results_module.PAGE_SIZE, "text": str(text).lower()}
        body = api.request("GET", "api/results", params=query).content
        bodies.append(body)
        after, _ = results_module._next_after_id(body)
    return bodies


def decode_only(bodies: list[bytes], text: bool) -> Any:
    """What ``cm.results`` does with the pages, without fetching them."""
    with results_module._no_cyclic_gc():
        return _decode(bodies, text)


def _decode(bodies: list[bytes], text: bool) -> Any:
    return results_module.frame_from_pages((results_module._decode(b) for b in bodies), text)


def _parse(bodies: list[bytes]) -> None:
    with results_module._no_cyclic_gc():
        for body in bodies:
            results_module._decode(body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", type=Path, help="SQLite file to fill or reuse")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="chatmore-bench-") as tmp:
        root = Path(tmp)
        url = prepare(args.db or root / "bench.db", args.n)
        server = JupyterServer(
            workdir=root / "server",
            env={"CHATMORE_DATA_DIR": str(root / "data"), "CHATMORE_DB_URL": url},
            log_level="WARN",
        )
        server.start()
        try:
            import chatmore_kernel as cm

            session = cm.connect(server.base_url, EMAIL, PASSWORD)
            print(f"server {server.base_url} on {url}; {args.runs} runs each, median")
            for text in (False, True):
                label = f"cm.results(text={text})"
                seconds, df = timed(lambda text=text: cm.results(text=text), args.runs)
                mb = df.memory_usage(deep=False).sum() / 2**20
                verdict = ""
                if not text:
                    verdict = "  (target ≤ 5 s: " + ("met)" if seconds <= TARGET_S else "MISSED)")
                print(
                    f"{label:24} {len(df):>9,} rows  {seconds:6.2f} s  "
                    f"{len(df) / seconds:>10,.0f} rows/s  {mb:5.0f} MB{verdict}"
                )
                server_s, bodies = timed(lambda text=text: raw_pages(session, text), args.runs)
                size = sum(len(b) for b in bodies) / 2**20
                parse_s, _ = timed(lambda b=bodies: _parse(b), args.runs)
                client_s, _ = timed(lambda b=bodies, text=text: decode_only(b, text), args.runs)
                print(
                    f"  server only: {len(bodies)} pages, {size:,.0f} MB of JSON in "
                    f"{server_s:.2f} s; client only: {client_s:.2f} s "
                    f"(json.loads {parse_s:.2f} s, frame {client_s - parse_s:.2f} s)"
                )
            session.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
