"""Fill a database with a realistic history of turn results, for the benchmarks.

    .venv/bin/python bench/fill_history.py [URL] [-n 1000000] [--days 90] [--users 8]
    .venv/bin/python bench/fill_history.py --smoke      # seconds: 1,000 results

URL defaults to a new SQLite file in the temporary directory. The database is migrated
first, then filled with bulk inserts: users, models, conversations with 2–4 windows each,
turns, and one result per window and turn, spread over ``--days`` days up to today.

The mix is meant to look like real use: a few users (one much busier than the others),
models of different speeds and reliability, ~86 % succeeded / ~9 % failed / ~5 % cancelled
results, a few in flight at the very end, single-chunk replies without a decode time,
providers that report no usage, and an ``event_log`` of realistic size
(``--event-log-chars``, 0 for none), since row width is what a table scan pays for.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, func, insert, select

from server_ext.store import tables as t
from server_ext.store.db import create_db_engine
from server_ext.store.migrate import upgrade

BATCH = 20_000


@dataclass(frozen=True)
class Profile:
    """How one model behaves: medians of lognormal timings, and how often it fails."""

    name: str
    ttft_ms: float
    tokens_per_s: float
    failed: float
    cancelled: float
    weight: float


PROFILES = (
    Profile("fast-small", 180, 140, 0.03, 0.03, 3),
    Profile("balanced", 420, 75, 0.05, 0.05, 3),
    Profile("large", 900, 38, 0.08, 0.07, 2),
    Profile("reasoning", 4200, 55, 0.10, 0.08, 1),
    Profile("local", 260, 22, 0.12, 0.04, 1),
    Profile("flaky", 650, 60, 0.35, 0.05, 1),
)

# Where calls come from (DESIGN §11), with their shares.
SOURCES = (("board", 0.7), ("ask", 0.1), ("gateway", 0.12), ("experiment", 0.06), ("judge", 0.02))

ERRORS = (
    ("PROVIDER_TIMEOUT", "the provider did not answer in time"),
    ("PROVIDER_HTTP_ERROR", "the provider answered with status 500"),
    ("PROVIDER_RATE_LIMITED", "the provider is rate limiting"),
    ("PROVIDER_BAD_RESPONSE", "the stream ended without [DONE]"),
)


@dataclass
class Filled:
    url: str
    results: int
    users: list[int]
    models: list[int]
    start: dt.datetime
    end: dt.datetime
    seconds: float


def _batches(n: int) -> Iterator[slice]:
    for lo in range(0, n, BATCH):
        yield slice(lo, min(lo + BATCH, n))


def _ids(conn: Connection, table: Any, count: int) -> list[int]:
    """The ids of the ``count`` rows just inserted (ids are increasing)."""
    rows = conn.execute(select(table.c.id).order_by(table.c.id.desc()).limit(count)).scalars()
    return sorted(rows)


def _lognormal(rng: np.random.Generator, median: np.ndarray, sigma: float) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, sigma, size=median.shape))


def _event_logs(rng: np.random.Generator, chars: int) -> list[Any]:
    """A few dozen event logs of about ``chars`` characters, reused across rows."""
    if chars <= 0:
        return [None]
    words = ("each", "model", "streams", "its", "reply", "in", "small", "chunks", "side", "by")
    logs = []
    for _ in range(32):
        events, size, seq = [], 0, 0
        target = int(chars * rng.uniform(0.3, 1.7))
        while size < target:
            text = " ".join(rng.choice(words, size=int(rng.integers(3, 12))))
            events.append({"event": "chunk", "seq": seq, "delta_text": text, "ts": 1.0 + seq})
            size += len(text) + 48
            seq += 1
        events.append({"event": "final", "seq": seq, "finish_reason": "stop"})
        logs.append(events)
    return logs


def fill(
    engine: Engine,
    n: int = 1_000_000,
    *,
    days: int = 90,
    users: int = 8,
    seed: int = 7,
    event_log_chars: int = 800,
) -> Filled:
    """Migrate the database of ``engine`` and add ``n`` turn results with their parents."""
    began = time.perf_counter()
    upgrade(engine)
    rng = np.random.default_rng(seed)
    end = dt.datetime.now(dt.UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=days)

    # Windows per conversation and turns per conversation, then as many turns as needed.
    per_turn = rng.integers(2, 5, size=n)  # windows answering each turn (2–4)
    n_turns = int(np.searchsorted(np.cumsum(per_turn), n)) + 1
    per_turn = per_turn[:n_turns]
    per_turn[-1] -= int(per_turn.sum()) - n
    turns_per_conv = 12
    n_convs = (n_turns + turns_per_conv - 1) // turns_per_conv
    conv_of_turn = np.arange(n_turns) // turns_per_conv
    # A conversation keeps one set of windows: as many as its widest turn.
    conv_width = np.zeros(n_convs, dtype=np.int64)
    np.maximum.at(conv_width, conv_of_turn, per_turn)

    # Users: one busy, the rest lighter (Zipf-like shares).
    shares = 1.0 / np.arange(1, users + 1)
    conv_user_ix = rng.choice(users, size=n_convs, p=shares / shares.sum())
    weights = np.array([p.weight for p in PROFILES])
    # Turns in time order, so ids grow with time as they do in a live database.
    turn_secs = np.sort(rng.uniform(0, days * 86400, size=n_turns))
    turn_at = [start + dt.timedelta(seconds=float(s)) for s in turn_secs]
    conv_first_turn = np.searchsorted(conv_of_turn, np.arange(n_convs))

    with engine.begin() as conn:
        # Another fill of the same database adds users and models of its own.
        known = conn.execute(select(func.count()).select_from(t.users)).scalar_one()
        conn.execute(
            insert(t.users),
            [
                {
                    "email": f"bench{known + i}@chatmore.test",
                    "display_name": f"Bench user {i}",
                    "password_hash": "!",
                    "role": "user",
                    "created_at": start,
                    "updated_at": start,
                }
                for i in range(users)
            ],
        )
        user_ids = _ids(conn, t.users, users)
        known = conn.execute(select(func.count()).select_from(t.models)).scalar_one()
        conn.execute(
            insert(t.models),
            [
                {
                    "name": f"{p.name}-{known + i}",
                    "provider_name": "bench",
                    "base_url": "http://127.0.0.1:9/v1",
                    "upstream_model": p.name,
                    "default_params": {},
                    "created_at": start,
                    "updated_at": start,
                }
                for i, p in enumerate(PROFILES)
            ],
        )
        model_ids = _ids(conn, t.models, len(PROFILES))

        conv_ids: list[int] = []
        for part in _batches(n_convs):
            rows = [
                {
                    "user_id": user_ids[conv_user_ix[c]],
                    "title": f"Comparison {c}",
                    "tags": [],
                    "metadata": {},
                    "last_message_at": turn_at[conv_first_turn[c]],
                    "created_at": turn_at[conv_first_turn[c]],
                    "updated_at": turn_at[conv_first_turn[c]],
                }
                for c in range(part.start, part.stop)
            ]
            conn.execute(insert(t.conversations), rows)
            conv_ids += _ids(conn, t.conversations, len(rows))

        # Windows: conv_width[c] of them per conversation, each with a weighted model.
        n_windows = int(conv_width.sum())
        window_model_ix = rng.choice(len(PROFILES), size=n_windows, p=weights / weights.sum())
        window_conv = np.repeat(np.arange(n_convs), conv_width)
        window_first = np.concatenate(([0], np.cumsum(conv_width)[:-1]))
        window_ids: list[int] = []
        for part in _batches(n_windows):
            rows = [
                {
                    "conversation_id": conv_ids[window_conv[w]],
                    "model_id": model_ids[window_model_ix[w]],
                    "name": "",
                    "params": {},
                    "sort_order": int(w - window_first[window_conv[w]]),
                    "created_at": turn_at[conv_first_turn[window_conv[w]]],
                }
                for w in range(part.start, part.stop)
            ]
            conn.execute(insert(t.windows), rows)
            window_ids += _ids(conn, t.windows, len(rows))

        prompts = [f"Compare these approaches, take {i}: " + "why? " * i for i in range(40)]
        turn_ids: list[int] = []
        for part in _batches(n_turns):
            rows = [
                {
                    "conversation_id": conv_ids[conv_of_turn[k]],
                    "user_id": user_ids[conv_user_ix[conv_of_turn[k]]],
                    "mode": "broadcast"
                    if per_turn[k] == conv_width[conv_of_turn[k]]
                    else "single",
                    "input_text": prompts[k % len(prompts)],
                    "status": "done",
                    "created_at": turn_at[k],
                    "finished_at": turn_at[k],
                }
                for k in range(part.start, part.stop)
            ]
            conn.execute(insert(t.turns), rows)
            turn_ids += _ids(conn, t.turns, len(rows))

        _fill_results(
            conn,
            rng,
            n,
            per_turn,
            conv_of_turn,
            conv_width,
            window_first,
            window_model_ix,
            turn_at,
            end,
            event_log_chars,
            ids=(turn_ids, window_ids, model_ids, [user_ids[u] for u in conv_user_ix]),
        )
    return Filled(
        url=engine.url.render_as_string(hide_password=True),
        results=n,
        users=user_ids,
        models=model_ids,
        start=start,
        end=end,
        seconds=time.perf_counter() - began,
    )


def _fill_results(
    conn: Connection,
    rng: np.random.Generator,
    n: int,
    per_turn: np.ndarray,
    conv_of_turn: np.ndarray,
    conv_width: np.ndarray,
    window_first: np.ndarray,
    window_model_ix: np.ndarray,
    turn_at: list[dt.datetime],
    now: dt.datetime,
    event_log_chars: int,
    *,
    ids: tuple[list[int], list[int], list[int], list[int]],
) -> None:
    turn_ids, window_ids, model_ids, conv_user_ids = ids
    turn_of = np.repeat(np.arange(len(per_turn)), per_turn)
    # The k-th result of a turn goes to the k-th window of its conversation.
    slot = np.arange(n) - np.repeat(np.cumsum(per_turn) - per_turn, per_turn)
    window_of = window_first[conv_of_turn[turn_of]] + slot
    mix = window_model_ix[window_of]
    prof = [PROFILES[i] for i in range(len(PROFILES))]
    ttft_med = np.array([p.ttft_ms for p in prof])[mix]
    tps = np.array([p.tokens_per_s for p in prof])[mix]
    p_fail = np.array([p.failed for p in prof])[mix]
    p_cancel = np.array([p.cancelled for p in prof])[mix]

    roll = rng.random(n)
    status = np.where(roll < p_fail, 2, np.where(roll < p_fail + p_cancel, 3, 1))
    in_flight = max(1, n // 5000)
    status[-in_flight:] = rng.choice([0, 4], size=in_flight)  # the last ones are still running
    names = ("streaming", "succeeded", "failed", "cancelled", "queued")

    prompt = np.clip(_lognormal(rng, np.full(n, 380.0), 0.9), 5, 30_000).astype(np.int64)
    completion = np.clip(_lognormal(rng, np.full(n, 260.0), 0.8), 1, 8_000).astype(np.int64)
    ttft = np.maximum(_lognormal(rng, ttft_med, 0.45), 20).astype(np.int64)
    decode = (completion / _lognormal(rng, tps, 0.25) * 1000).astype(np.int64)
    single_chunk = rng.random(n) < 0.05  # the whole reply arrived in one delta
    decode_null = single_chunk & (rng.random(n) < 0.5)
    decode[single_chunk] = 0
    latency = ttft + decode + rng.integers(1, 40, size=n)
    no_usage = rng.random(n) < 0.03  # a provider that reports no token counts
    ttft_null = rng.random(n) < 0.01

    failed, cancelled = status == 2, status == 3
    # A failure usually comes before any token; a cancellation part-way through.
    midstream_fail = failed & (rng.random(n) < 0.3)
    latency[failed] = np.minimum(latency[failed], rng.integers(50, 60_000, size=n)[failed])
    latency[cancelled] = (ttft + decode * rng.random(n)).astype(np.int64)[cancelled]
    completion[cancelled] = (completion * rng.random(n)).astype(np.int64)[cancelled]

    logs = _event_logs(rng, event_log_chars)
    source_ix = rng.choice(len(SOURCES), size=n, p=[w for _, w in SOURCES])
    error_ix = rng.integers(0, len(ERRORS), size=n)
    offsets = rng.integers(0, 900_000, size=n)  # µs after the turn was created
    for part in _batches(n):
        rows = []
        for i in range(part.start, part.stop):
            st = int(status[i])
            ok, running = st == 1, st in (0, 4)
            usage = not no_usage[i] and (ok or (st == 3 and completion[i] > 0))
            created = turn_at[turn_of[i]] + dt.timedelta(microseconds=int(offsets[i]))
            if running:
                created = now - dt.timedelta(seconds=5)
            error = ERRORS[error_ix[i]] if st == 2 else (None, None)
            rows.append(
                {
                    "turn_id": turn_ids[turn_of[i]],
                    "window_id": window_ids[window_of[i]],
                    "model_id": model_ids[mix[i]],
                    "user_id": conv_user_ids[conv_of_turn[turn_of[i]]],
                    "status": names[st],
                    "error_code": error[0],
                    "error_message": error[1],
                    "finish_reason": "stop" if ok else None,
                    "prompt_tokens": int(prompt[i]) if usage else None,
                    "completion_tokens": int(completion[i]) if usage else None,
                    "total_tokens": int(prompt[i] + completion[i]) if usage else None,
                    "ttft_ms": None
                    if ttft_null[i] or running or (st == 2 and not midstream_fail[i])
                    else int(ttft[i]),
                    "latency_ms": None if running else int(latency[i]),
                    "decode_ms": None
                    if running or st == 2 or decode_null[i]
                    else int(decode[i] if ok else latency[i] - ttft[i]),
                    "event_log": None if running else logs[i % len(logs)],
                    "source": SOURCES[source_ix[i]][0],
                    "created_at": created,
                    "started_at": created,
                    "finished_at": created + dt.timedelta(milliseconds=int(latency[i]))
                    if not running
                    else None,
                }
            )
        conn.execute(insert(t.turn_results), rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="SQLAlchemy URL (default: a temp SQLite file)")
    parser.add_argument("-n", type=int, default=1_000_000, help="turn results to add")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--event-log-chars", type=int, default=800)
    parser.add_argument("--smoke", action="store_true", help="1,000 results, 3 days")
    args = parser.parse_args(argv)
    if args.smoke:
        args.n, args.days = 1_000, 3
    temp = Path(tempfile.mkdtemp(prefix="chatmore-bench-"))
    url = args.url or f"sqlite:///{temp / 'bench.db'}"
    engine = create_db_engine(url)
    try:
        filled = fill(
            engine,
            args.n,
            days=args.days,
            users=args.users,
            seed=args.seed,
            event_log_chars=args.event_log_chars,
        )
    finally:
        engine.dispose()
        if args.smoke or args.url:  # a smoke run's file is not kept
            shutil.rmtree(temp, ignore_errors=True)
    print(
        f"filled {filled.url}: {filled.results:,} results of {len(filled.users)} users and "
        f"{len(filled.models)} models, {filled.start:%Y-%m-%d} to {filled.end:%Y-%m-%d}, "
        f"in {filled.seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
