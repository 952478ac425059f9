"""Usage statistics (store/stats.py, services/stats.py) against pandas, on both backends.

Every figure of ``usage_rows`` is compared with the same figure computed by pandas over
the rows the test inserted: seeded random results of several users and models, in every
status, with nulls, spread over a few UTC days.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Connection, Engine, create_engine, func, insert, select, update

from server_ext.errors import ChatMoreError
from server_ext.services.stats import StatsService, UsageQuery, parse_usage_query
from server_ext.store import migrate
from server_ext.store import tables as t
from server_ext.store.db import Database
from server_ext.store.stats import usage_rows
from server_ext.store.usage_days import catch_up

FINAL = ("succeeded", "failed", "cancelled")
SOURCES = ("board", "board", "gateway", "judge")
DAY0 = dt.datetime(2026, 3, 1)
COUNTS = ("calls", "succeeded", "failed", "cancelled")
TOKENS = ("prompt_tokens", "completion_tokens", "total_tokens")
PERCENTILES = tuple(f"{m}_{p}" for m in ("latency_ms", "ttft_ms") for p in ("p50", "p95"))
FLOATS = ("success_rate", "latency_ms_avg", "ttft_ms_avg", "output_tokens_per_s")


# -- writing a history ---------------------------------------------------------------------


@dataclass
class History:
    """A migrated database and the turn results inserted into it (as a DataFrame).
    ``fold``: how much of it is folded into usage_days before each read (none, all, or
    what a catch-up at :data:`PART_NOW` reaches)."""

    engine: Engine
    fold: str = "none"
    users: dict[str, int] = field(default_factory=dict)
    models: dict[str, int] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)

    def add_user(self, name: str) -> int:
        with self.engine.begin() as conn:
            self.users[name] = conn.execute(
                insert(t.users).values(
                    email=f"{name}@stats.test",
                    password_hash="!",
                    created_at=DAY0,
                    updated_at=DAY0,
                )
            ).inserted_primary_key[0]
        return self.users[name]

    def add_model(self, name: str) -> int:
        with self.engine.begin() as conn:
            self.models[name] = conn.execute(
                insert(t.models).values(
                    name=name,
                    base_url="http://127.0.0.1:9/v1",
                    upstream_model=name,
                    default_params={},
                    created_at=DAY0,
                    updated_at=DAY0,
                )
            ).inserted_primary_key[0]
        return self.models[name]

    def add_conversation(self, user: str, model_names: list[str], turns: list[list[dict]]):
        """A conversation of ``user`` with one window per model, and ``turns``: for each
        turn, one result per window (a dict of turn_results columns, created_at included)."""
        user_id = self.users[user]
        with self.engine.begin() as conn:
            conv_id = _insert(
                conn,
                t.conversations,
                user_id=user_id,
                title="",
                tags=[],
                metadata={},
                last_message_at=DAY0,
                created_at=DAY0,
                updated_at=DAY0,
            )
            windows = [
                _insert(
                    conn,
                    t.windows,
                    conversation_id=conv_id,
                    model_id=self.models[m],
                    params={},
                    sort_order=i,
                    created_at=DAY0,
                )
                for i, m in enumerate(model_names)
            ]
            for results in turns:
                created = min(r["created_at"] for r in results)
                turn_id = _insert(
                    conn,
                    t.turns,
                    conversation_id=conv_id,
                    user_id=user_id,
                    mode="broadcast",
                    input_text="?",
                    status="done",
                    created_at=created,
                )
                rows = [
                    {
                        **_NULLS,
                        "source": "board",
                        **r,
                        "turn_id": turn_id,
                        "window_id": window_id,
                        "model_id": self.models[m],
                        "user_id": user_id,
                    }
                    for r, window_id, m in zip(results, windows, model_names, strict=True)
                ]
                for row in rows:
                    row["id"] = _insert(conn, t.turn_results, **row)
                self.results += rows

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.results, columns=[*_NULLS, "model_id", "user_id", "source"])

    def frame_ids(self, part: pd.DataFrame) -> list[int]:
        return [self.results[i]["id"] for i in part.index]

    def set_status(self, result_id: int, **values: Any) -> None:
        """End a result later, as finalisation does."""
        with self.engine.begin() as conn:
            conn.execute(
                update(t.turn_results).where(t.turn_results.c.id == result_id).values(**values)
            )
        for row in self.results:
            if row["id"] == result_id:
                row.update(values)


_NULLS = dict.fromkeys(
    (
        "status",
        "created_at",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "ttft_ms",
        "latency_ms",
        "decode_ms",
    ),
)


def _insert(conn: Connection, table: t.Table, **values: Any) -> int:
    return conn.execute(insert(table).values(**values)).inserted_primary_key[0]


FOLDS = ("none", "all", "part")
PART_NOW = DAY0 + dt.timedelta(days=2)


@pytest.fixture(params=FOLDS)
def history(database_url: str, request: pytest.FixtureRequest) -> Iterator[History]:
    engine = create_engine(database_url)
    migrate.upgrade(engine)
    yield History(engine, fold=request.param)
    engine.dispose()


def random_result(rng: random.Random, model: str, at: dt.datetime) -> dict[str, Any]:
    """One result of a plausible mix: every status, nulls, repeated values, single-chunk
    replies (decode_ms 0 or null)."""
    status = rng.choices(
        ["succeeded", "failed", "cancelled", "queued", "streaming"], [70, 12, 10, 4, 4]
    )[0]
    slow = 3 if model == "jittery" else 1
    prompt, completion = rng.randint(5, 900), rng.randint(0, 700)
    usage = status in ("succeeded", "cancelled") and rng.random() > 0.15
    # Small ranges so that values repeat and histograms have counts above one.
    ttft = rng.randint(100, 160) * slow if rng.random() > 0.1 else None
    decode = rng.choice([0, None, *[rng.randint(200, 5000)] * 6])
    return {
        "source": rng.choice(SOURCES),
        "status": status,
        "created_at": at,
        "prompt_tokens": prompt if usage else None,
        "completion_tokens": completion if usage and rng.random() > 0.1 else None,
        "total_tokens": prompt + completion if usage else None,
        "ttft_ms": ttft if status not in ("queued", "streaming") else None,
        "latency_ms": (ttft or 0) + (decode or 0) + rng.randint(0, 9)
        if status not in ("queued", "streaming") and rng.random() > 0.08
        else None,
        "decode_ms": decode if status in ("succeeded", "cancelled") else None,
    }


def fill_random(h: History, seed: int = 20260301) -> None:
    """Three users, three models over four days, plus a failed-only model and a model
    with a single succeeded row."""
    rng = random.Random(seed)
    for name in ("ada", "bob", "cy"):
        h.add_user(name)
    for name in ("steady", "jittery", "broken", "lonely", "unused"):
        h.add_model(name)
    for user in ("ada", "bob", "cy"):
        for _ in range(3):
            names = rng.sample(["steady", "jittery", "broken"], k=rng.choice([2, 3]))
            turns = []
            for _ in range(rng.randint(8, 16)):
                at = DAY0 + dt.timedelta(
                    seconds=rng.randint(0, 4 * 86400 - 1), microseconds=rng.randint(0, 999_999)
                )
                turns.append(
                    [
                        _broken(rng, at) if m == "broken" else random_result(rng, m, at)
                        for m in names
                    ]
                )
            h.add_conversation(user, names, turns)
    # A result at the last microsecond of a day and one at the first of the next.
    edge = DAY0 + dt.timedelta(days=1)
    near = [_succeeded(edge - dt.timedelta(microseconds=1)), _succeeded(edge, latency=1)]
    h.add_conversation("ada", ["steady"], [[r] for r in near])
    h.add_conversation(
        "bob", ["lonely"], [[{**_succeeded(DAY0 + dt.timedelta(hours=30), latency=777)}]]
    )


def _broken(rng: random.Random, at: dt.datetime) -> dict[str, Any]:
    return {"status": "failed", "created_at": at, "latency_ms": rng.randint(10, 30_000)}


def _succeeded(at: dt.datetime, **values: Any) -> dict[str, Any]:
    row = {
        "status": "succeeded",
        "created_at": at,
        "ttft_ms": 120,
        "latency_ms": 900,
        "decode_ms": 700,
        "prompt_tokens": 10,
        "completion_tokens": 35,
        "total_tokens": 45,
    }
    renamed = {
        f"{k}_ms" if k in ("latency", "ttft", "decode") else k: v for k, v in values.items()
    }
    return row | renamed


# -- the reference: pandas ------------------------------------------------------------------


def reference(
    df: pd.DataFrame,
    names: dict[str, int],
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    model_id: int | None = None,
    user_id: int | None = None,
    by_day: bool = False,
    source: str | None = None,
    by_source: bool = False,
) -> list[dict[str, Any]]:
    """The contract of services/stats.py, written with pandas."""
    sel = df[df.status.isin(FINAL)]
    if source is not None:
        sel = sel[sel.source == source]
    if start is not None:
        sel = sel[sel.created_at >= start]
    if end is not None:
        sel = sel[sel.created_at < end]
    if model_id is not None:
        sel = sel[sel.model_id == model_id]
    if user_id is not None:
        sel = sel[sel.user_id == user_id]
    sel = sel.assign(day=[c.date() for c in sel.created_at])
    by_id = {v: k for k, v in names.items()}
    rows = []
    keys = ["model_id"] + (["day"] if by_day else []) + (["source"] if by_source else [])
    for key, g in sel.groupby(keys, sort=True):
        ok = g[g.status == "succeeded"]
        counts = g.status.value_counts()
        row: dict[str, Any] = {"model_id": int(key[0]), "model_name": by_id[key[0]]}
        if by_day:
            row["day"] = key[1]
        if by_source:
            row["source"] = key[-1]
        row.update({s: int(counts.get(s, 0)) for s in FINAL}, calls=len(g))
        decided = row["succeeded"] + row["failed"]
        row["success_rate"] = row["succeeded"] / decided if decided else None
        for m in ("latency_ms", "ttft_ms"):
            values = ok[m].dropna().astype(float)
            row[f"{m}_avg"] = values.mean() if len(values) else None
            row[f"{m}_p50"] = values.quantile(0.5) if len(values) else None
            row[f"{m}_p95"] = values.quantile(0.95) if len(values) else None
        for name in TOKENS:
            total = g[name].sum(min_count=1)
            row[name] = None if pd.isna(total) else int(total)
        rated = ok[(ok.decode_ms > 0) & ok.completion_tokens.notna()]
        row["output_tokens_per_s"] = (
            rated.completion_tokens.sum() / (rated.decode_ms.sum() / 1000) if len(rated) else None
        )
        # These models have no prices: no cost and no currency (DESIGN §10).
        costs = g["cost"].dropna() if "cost" in g else pd.Series([], dtype=float)
        row["cost"] = float(costs.sum()) if len(costs) else None
        row["currency"] = None
        rows.append(row)
    return rows


def assert_same(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert [_key(r) for r in actual] == [_key(r) for r in expected]
    for got, want in zip(actual, expected, strict=True):
        assert set(got) == set(want), _key(want)
        for name, value in want.items():
            if name in PERCENTILES:
                # exact: the same floats as pandas, not merely close ones
                assert got[name] == value, (_key(want), name)
            elif name in FLOATS and value is not None:
                assert got[name] == pytest.approx(value, rel=1e-12), (_key(want), name)
            else:
                assert got[name] == value, (_key(want), name)
            if got[name] is not None and name in (*PERCENTILES, *FLOATS):
                assert isinstance(got[name], float) and math.isfinite(got[name])


def _key(row: dict[str, Any]) -> tuple:
    return (row["model_id"], row.get("day"), row.get("source"))


def fold(h: History) -> None:
    """Fold what the history's mode folds (the server does it before each read)."""
    if h.fold != "none":
        with h.engine.begin() as conn:
            catch_up(conn, now=PART_NOW if h.fold == "part" else dt.datetime(2100, 1, 1))


def rows(h: History, **query: Any) -> list[dict[str, Any]]:
    args = {"start": None, "end": None, "model_id": None, "user_id": None, "by_day": False}
    fold(h)
    with h.engine.connect() as conn:
        return usage_rows(conn, **(args | query))


# -- tests ---------------------------------------------------------------------------------


def test_every_figure_matches_pandas(history: History) -> None:
    fill_random(history)
    df = history.frame()
    ada, bob = history.users["ada"], history.users["bob"]
    steady = history.models["steady"]
    middle = (DAY0 + dt.timedelta(hours=20), DAY0 + dt.timedelta(hours=70))
    cases = [
        {},
        {"by_day": True},
        {"user_id": ada},
        {"user_id": bob, "by_day": True},
        {"model_id": steady},
        {"model_id": steady, "user_id": ada, "by_day": True},
        {"start": middle[0], "end": middle[1]},
        {"start": middle[0], "by_day": True},
        {"end": middle[1], "user_id": bob},
        {"source": "gateway"},
        {"by_source": True, "by_day": True, "user_id": ada},
        {"by_source": True, "start": middle[0], "end": middle[1]},
        {"source": "judge", "by_day": True, "end": middle[1]},
    ]
    for query in cases:
        expected = reference(df, history.models, **query)
        assert expected, query
        assert_same(rows(history, **query), expected)


def test_range_is_from_inclusive_to_exclusive(history: History) -> None:
    fill_random(history)
    df = history.frame()
    counted = df[df.status.isin(FINAL)].sort_values("created_at")
    first = counted.created_at.iloc[10].to_pydatetime()
    last = counted.created_at.iloc[-10].to_pydatetime()
    # the boundary rows exist and fall on opposite sides
    assert (counted.created_at == first).sum() >= 1
    assert (counted.created_at == last).sum() >= 1
    got = rows(history, start=first, end=last)
    assert_same(got, reference(df, history.models, start=first, end=last))
    expected_calls = int(((counted.created_at >= first) & (counted.created_at < last)).sum())
    assert sum(r["calls"] for r in got) == expected_calls
    just_after = first + dt.timedelta(microseconds=1)
    assert sum(r["calls"] for r in rows(history, start=just_after, end=last)) < expected_calls
    assert sum(r["calls"] for r in rows(history, start=first, end=just_after)) >= 1


def test_empty_ranges_give_empty_lists(history: History) -> None:
    assert rows(history) == []  # an empty table
    fill_random(history)
    later = DAY0 + dt.timedelta(days=30)
    assert rows(history, start=later) == []
    assert rows(history, end=DAY0) == []
    assert rows(history, start=DAY0 + dt.timedelta(days=1), end=DAY0 + dt.timedelta(days=1)) == []
    assert rows(history, model_id=history.models["unused"], by_day=True) == []


def test_failed_only_model_has_counts_and_no_timings(history: History) -> None:
    fill_random(history)
    (broken,) = rows(history, model_id=history.models["broken"])
    assert broken["calls"] == broken["failed"] > 0
    assert broken["succeeded"] == broken["cancelled"] == 0
    assert broken["success_rate"] == 0.0
    for name in (*PERCENTILES, "latency_ms_avg", "ttft_ms_avg", "output_tokens_per_s", *TOKENS):
        assert broken[name] is None, name


def test_single_succeeded_row(history: History) -> None:
    fill_random(history)
    (lonely,) = rows(history, model_id=history.models["lonely"])
    assert lonely == {
        "model_id": history.models["lonely"],
        "model_name": "lonely",
        "calls": 1,
        "succeeded": 1,
        "failed": 0,
        "cancelled": 0,
        "success_rate": 1.0,
        "latency_ms_avg": 777.0,
        "latency_ms_p50": 777.0,
        "latency_ms_p95": 777.0,
        "ttft_ms_avg": 120.0,
        "ttft_ms_p50": 120.0,
        "ttft_ms_p95": 120.0,
        "prompt_tokens": 10,
        "completion_tokens": 35,
        "total_tokens": 45,
        "output_tokens_per_s": 50.0,
        "cost": None,
        "currency": None,
    }


def test_by_day_uses_utc_days(history: History) -> None:
    fill_random(history)
    df = history.frame()
    got = rows(history, by_day=True, model_id=history.models["steady"], user_id=None)
    assert_same(got, reference(df, history.models, by_day=True, model_id=history.models["steady"]))
    assert {r["day"] for r in got} == {(DAY0 + dt.timedelta(days=d)).date() for d in range(4)}
    assert all(type(r["day"]) is dt.date for r in got)


def test_another_users_results_never_count(history: History) -> None:
    fill_random(history)
    before = rows(history, user_id=history.users["ada"])
    # bob's extreme results change everyone's figures, not ada's
    at = DAY0 + dt.timedelta(hours=5)
    extremes = [[_succeeded(at, latency=9_000_000, ttft=8_000_000)] for _ in range(50)]
    history.add_conversation("bob", ["steady"], extremes)
    assert rows(history, user_id=history.users["ada"]) == before
    assert_same(
        rows(history, user_id=history.users["bob"]),
        reference(history.frame(), history.models, user_id=history.users["bob"]),
    )
    everyone = {r["model_id"]: r for r in rows(history)}
    assert everyone[history.models["steady"]]["latency_ms_p95"] == 9_000_000.0


def test_in_flight_results_are_not_counted(history: History) -> None:
    history.add_user("ada")
    history.add_model("steady")
    at = DAY0 + dt.timedelta(hours=1)
    running = [{"status": s, "created_at": at} for s in ("queued", "streaming")]
    history.add_conversation("ada", ["steady"], [[r] for r in running])
    assert rows(history) == []
    history.add_conversation("ada", ["steady"], [[_succeeded(at, latency=500)]])
    (row,) = rows(history)
    assert row["calls"] == row["succeeded"] == 1
    assert row["latency_ms_p50"] == 500.0


def test_tokens_per_second_skips_single_chunk_replies(history: History) -> None:
    history.add_user("ada")
    history.add_model("steady")
    at = DAY0 + dt.timedelta(hours=2)
    results = [
        _succeeded(at, decode=2000, completion_tokens=100),  # counted
        _succeeded(at, decode=500, completion_tokens=60),  # counted
        _succeeded(at, decode=0, completion_tokens=400),  # single chunk
        _succeeded(at, decode=None, completion_tokens=300),  # single chunk, no decode time
        _succeeded(at, decode=800, completion_tokens=None),  # no usage reported
        {"status": "cancelled", "created_at": at, "decode_ms": 100, "completion_tokens": 90},
        {"status": "failed", "created_at": at, "decode_ms": 100, "completion_tokens": 90},
    ]
    history.add_conversation("ada", ["steady"], [[r] for r in results])
    (row,) = rows(history)
    assert row["output_tokens_per_s"] == pytest.approx(160 / 2.5)
    assert row["completion_tokens"] == 100 + 60 + 400 + 300 + 90 + 90
    assert row["success_rate"] == 5 / 6
    assert_same([row], reference(history.frame(), history.models))
    only_single = [_succeeded(at, decode=0), _succeeded(at, decode=None)]
    history.add_model("oneshot")
    history.add_conversation("ada", ["oneshot"], [[r] for r in only_single])
    (oneshot,) = rows(history, model_id=history.models["oneshot"])
    assert oneshot["output_tokens_per_s"] is None
    assert oneshot["completion_tokens"] == 70


def test_service_answers_like_usage_rows(history: History, database_url: str) -> None:
    fill_random(history)
    db = Database(database_url, threads=3)
    try:
        service = StatsService(db)
        for query in ({}, {"user_id": history.users["cy"], "by_day": True}):
            args = {"start": None, "end": None, "model_id": None, "user_id": None, "by_day": False}
            args |= query
            got = asyncio.run(service.usage(**args))
            assert got == rows(history, **args)
            assert_same(got, reference(history.frame(), history.models, **args))
    finally:
        db.close()


def test_results_that_end_after_a_fold_count_once(history: History) -> None:
    """Results still running when folded (pending), ending later; more results folded
    into a day's existing row; each figure counted once whether folded or not."""
    fill_random(history)
    df = history.frame()
    running = df[~df.status.isin(FINAL)]
    assert len(running) >= 4
    before = rows(history, by_day=True)
    assert_same(before, reference(df, history.models, by_day=True))
    for i, result_id in enumerate(history.frame_ids(running)):
        status = FINAL[i % 3]
        history.set_status(result_id, status=status, latency_ms=40_000 + i, ttft_ms=30 + i)
    at = DAY0 + dt.timedelta(hours=50)
    history.add_conversation("cy", ["steady"], [[_succeeded(at, latency=5)] for _ in range(3)])
    df = history.frame()
    for query in ({}, {"by_day": True}, {"by_source": True, "user_id": history.users["ada"]}):
        assert_same(rows(history, **query), reference(df, history.models, **query))
        assert_same(rows(history, **query), reference(df, history.models, **query))  # again
    assert sum(r["calls"] for r in rows(history)) == int(df.status.isin(FINAL).sum())


def test_a_bounded_catch_up_leaves_the_rest_exact(history: History) -> None:
    fill_random(history)
    with history.engine.begin() as conn:
        folded = catch_up(conn, now=dt.datetime(2100, 1, 1), batch=7, batches=2)
    assert 0 < folded <= 14
    df = history.frame()
    for query in ({}, {"by_day": True}, {"start": DAY0 + dt.timedelta(hours=30)}):
        assert_same(rows(history, **query), reference(df, history.models, **query))


def test_start_up_folds_the_results_stored_before_the_upgrade(database_url: str) -> None:
    """A database upgraded from before usage_days has its results folded when the server
    starts (those still running wait in usage_pending); the figures read from the folded
    rows are pandas' own."""
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine, "0004")
        history = History(engine)
        fill_random(history)
        df = history.frame()
        migrate.upgrade(engine)
        with engine.begin() as conn:  # as Runtime.build does
            catch_up(conn)
        with engine.connect() as conn:
            folded = conn.execute(
                select(
                    func.sum(
                        t.usage_days.c.succeeded + t.usage_days.c.failed + t.usage_days.c.cancelled
                    )
                )
            ).scalar_one()
            pending = conn.execute(select(func.count()).select_from(t.usage_pending)).scalar()
        assert folded == int(df.status.isin(FINAL).sum())
        assert pending == int((~df.status.isin(FINAL)).sum()) > 0
        for query in ({}, {"by_day": True, "by_source": True}):
            assert_same(rows(history, **query), reference(df, history.models, **query))
    finally:
        engine.dispose()


# -- parsing the query string ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, UsageQuery()),
        ({"group_by": "model"}, UsageQuery()),
        ({"group_by": "day", "model_id": "12"}, UsageQuery(model_id=12, by_day=True)),
        (
            {"from": "2026-03-01", "to": "2026-04-01"},
            UsageQuery(start=dt.datetime(2026, 3, 1), end=dt.datetime(2026, 4, 1)),
        ),
        (
            {"from": "2026-03-01T10:20:30Z", "to": "2026-03-01T12:00:00.250"},
            UsageQuery(
                start=dt.datetime(2026, 3, 1, 10, 20, 30),
                end=dt.datetime(2026, 3, 1, 12, 0, 0, 250_000),
            ),
        ),
        (
            {"from": "2026-03-01T02:00:00+02:00", "to": ""},
            UsageQuery(start=dt.datetime(2026, 3, 1, 0, 0)),
        ),
        ({"from": "2026-03-01", "to": "2026-03-01"}, UsageQuery(*[dt.datetime(2026, 3, 1)] * 2)),
        ({"source": "gateway"}, UsageQuery(source="gateway")),
        ({"group_by": "source"}, UsageQuery(by_source=True)),
        ({"group_by": "day,source"}, UsageQuery(by_day=True, by_source=True)),
    ],
)
def test_parse_usage_query(args: dict[str, str], expected: UsageQuery) -> None:
    assert parse_usage_query(args) == expected


@pytest.mark.parametrize(
    ("args", "field", "words"),
    [
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to", "before"),
        ({"from": "yesterday"}, "from", "ISO 8601"),
        ({"to": "2026-13-01"}, "to", "ISO 8601"),
        ({"from": "0001-01-01T00:00:00+01:00"}, "from", "ISO 8601"),
        ({"group_by": "week"}, "group_by", "model, day"),
        ({"group_by": "source,day"}, "group_by", "day,source"),
        ({"source": "elsewhere"}, "source", "board, ask, gateway"),
        ({"model_id": "abc"}, "model_id", "positive integer"),
        ({"model_id": "0"}, "model_id", "positive integer"),
        ({"model_id": "-3"}, "model_id", "positive integer"),
        ({"model_id": "1e3"}, "model_id", "positive integer"),
        ({"form": "2026-03-01"}, "form", "unknown parameter"),
    ],
)
def test_parse_usage_query_rejects_bad_input(args: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(ChatMoreError) as caught:
        parse_usage_query(args)
    assert caught.value.code == "VALIDATION_FAILED"
    assert caught.value.status == 400
    assert words in caught.value.message
    assert caught.value.details == {"field": field}
