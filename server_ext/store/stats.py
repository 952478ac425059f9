"""Usage statistics over ``turn_results``: the queries, and exact percentiles in Python.

The figures and their meaning are the contract of :mod:`server_ext.services.stats`. They
come from three independent queries, which the service runs at once on three pooled
connections (:func:`usage_rows` runs them one after the other on one):

- :func:`usage_totals`: per (model, [day], status) the counts, the token sums and the
  sums behind tokens per second, with the model's name;
- :func:`value_summaries`, once for ``latency_ms`` and once for ``ttft_ms``: per (model,
  [day]) the values of the succeeded rows, from which the average and the exact
  percentiles are computed in Python (:func:`quantile` follows numpy's default "linear"
  method step by step, so the floats equal pandas' ``Series.quantile`` to the bit).

SQLite has no percentile function and MySQL 8 no ``PERCENTILE_CONT``, so no SQL
percentile is used. Per model, the values are whole milliseconds and repeat a lot: the
query is a histogram, ``GROUP BY model, value``, which a (status, model_id, value, …)
index yields in order without sorting. Per day they barely repeat, so the raw values are
read. Either way they travel packed with ``group_concat`` (a few rows of text instead of
one row per value: pymysql spends ~4 µs on a row) and are parsed and sorted in Python.
The measurements behind these choices are in ``bench/README.md``.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import mul
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, and_, case, func, select

from .tables import models, turn_results

FINAL_STATUSES = ("succeeded", "failed", "cancelled")
QUANTILES = (0.5, 0.95)

Measure = Literal["latency_ms", "ttft_ms"]
# (model_id,) or (model_id, day)
GroupKey = tuple[Any, ...]

_tr = turn_results.c


@dataclass(frozen=True)
class UsageFilter:
    """Which results count: ``start <= created_at < end`` (naive UTC), one model or all,
    one user's results or everyone's (``user_id`` None)."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    model_id: int | None = None
    user_id: int | None = None
    by_day: bool = False
    source: str | None = None  # board, gateway … (DESIGN §11); None: every source


@dataclass(frozen=True)
class Summary:
    """Average and percentiles of one measure in one group."""

    avg: float
    p50: float
    p95: float


def _where(f: UsageFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.start is not None:
        clauses.append(_tr.created_at >= f.start)
    if f.end is not None:
        clauses.append(_tr.created_at < f.end)
    if f.model_id is not None:
        clauses.append(_tr.model_id == f.model_id)
    if f.user_id is not None:
        # "+ 0" keeps the planners off ix(user_id, created_at, model_id): SQLite and MariaDB
        # both prefer it, then fetch each of a busy user's rows from the wide table (seconds)
        # where a covering stats index answers from the index alone (see bench/README.md).
        clauses.append((_tr.user_id + 0) == f.user_id)
    if f.source is not None:
        clauses.append(_tr.source == f.source)
    return clauses


def _keys(f: UsageFilter) -> list[ColumnElement[Any]]:
    # created_at is naive UTC, so its date is the UTC day.
    return [_tr.model_id, func.date(_tr.created_at).label("day")] if f.by_day else [_tr.model_id]


def _key(model_id: Any, day: Any = None) -> GroupKey:
    if day is None:
        return (int(model_id),)
    # SQLite's date() is text, MySQL's DATE() a date.
    return (int(model_id), day if isinstance(day, dt.date) else dt.date.fromisoformat(day))


def _int(value: Any) -> int | None:
    # MySQL's SUM() of integers is a Decimal.
    return None if value is None else int(value)


def usage_totals(conn: Connection, f: UsageFilter) -> list[dict[str, Any]]:
    """Per (model, [day], final status): the counts and sums of the counted rows, with
    the model's name."""
    rated = and_(_tr.decode_ms > 0, _tr.completion_tokens.is_not(None))
    keys = _keys(f)
    grouped = (
        select(
            *keys,
            _tr.status,
            func.count().label("n"),
            func.sum(_tr.prompt_tokens).label("prompt_tokens"),
            func.sum(_tr.completion_tokens).label("completion_tokens"),
            func.sum(_tr.total_tokens).label("total_tokens"),
            # Only the succeeded group's rate sums are used (see combine()).
            func.sum(case((rated, _tr.completion_tokens))).label("rate_tokens"),
            func.sum(case((rated, _tr.decode_ms))).label("rate_ms"),
        )
        .where(_tr.status.in_(FINAL_STATUSES), *_where(f))
        .group_by(_tr.status, *keys)
        .subquery()
    )
    # The names are joined onto the few grouped rows, not onto the scanned ones.
    query = select(grouped, models.c.name.label("model_name")).join(
        models, models.c.id == grouped.c.model_id
    )
    rows = []
    for row in conn.execute(query).mappings():
        out = {name: _int(row[name]) for name in _SUMS}
        out.update(
            key=_key(row["model_id"], row.get("day")),
            status=row["status"],
            model_name=row["model_name"],
        )
        rows.append(out)
    return rows


_SUMS = ("n", "prompt_tokens", "completion_tokens", "total_tokens", "rate_tokens", "rate_ms")


def value_summaries(conn: Connection, f: UsageFilter, measure: Measure) -> dict[GroupKey, Summary]:
    """Per (model, [day]): average, p50 and p95 of ``measure`` over the succeeded rows
    where it is not null."""
    _allow_long_concat(conn)
    if f.by_day:
        return {key: summarise(values) for key, values in _day_samples(conn, f, measure)}
    return {key: summarise(*hist) for key, hist in _model_histograms(conn, f, measure)}


def _succeeded(f: UsageFilter, column: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    return [_tr.status == "succeeded", column.is_not(None), *_where(f)]


def _model_histograms(
    conn: Connection, f: UsageFilter, measure: Measure
) -> Iterator[tuple[GroupKey, tuple[list[int], list[int]]]]:
    """Per model: the distinct values, increasing, and the count of each.

    ``GROUP BY model, value`` reads a (status, model_id, value …) index in order, without
    sorting; the histogram rows are then packed with group_concat, a bounded range of
    values per row, because fetching one row per value costs more than the query itself
    (pymysql: ~4 µs a row)."""
    column = _tr[measure]
    hist = (
        select(_tr.model_id, column.label("v"), func.count().label("n"))
        .where(*_succeeded(f, column))
        .group_by(_tr.model_id, column)
        .subquery()
    )
    packed = select(
        hist.c.model_id, func.group_concat(hist.c.v), func.group_concat(hist.c.n), func.count()
    ).group_by(hist.c.model_id, hist.c.v - hist.c.v % _CHUNK)
    pairs: dict[GroupKey, list[tuple[int, int]]] = {}
    for model_id, values, counts, size in conn.execute(packed):
        chunk = list(zip(_ints(values, size), _ints(counts, size), strict=True))
        pairs.setdefault(_key(model_id), []).extend(chunk)
    for key, found in pairs.items():
        found.sort()  # group_concat keeps no order
        yield key, ([v for v, _ in found], [c for _, c in found])


def _day_samples(
    conn: Connection, f: UsageFilter, measure: Measure
) -> Iterator[tuple[GroupKey, list[int]]]:
    """Per (model, day): the sorted values. Within a day the values are mostly distinct,
    so a histogram would not be smaller; they are packed per group instead."""
    column = _tr[measure]
    keys = _keys(f)
    packed = (
        select(*keys, func.group_concat(column), func.count())
        .where(*_succeeded(f, column))
        .group_by(*keys)
    )
    for model_id, day, values, size in conn.execute(packed):
        yield _key(model_id, day), sorted(_ints(values, size))


# Distinct values per packed histogram row: at most ~50 kB of text.
_CHUNK = 4096


def _allow_long_concat(conn: Connection) -> None:
    # MySQL cuts group_concat at 1 kB by default (MariaDB at 1 MB); what still does not
    # fit max_allowed_packet is caught by the count check in _ints().
    if conn.dialect.name in ("mysql", "mariadb"):
        conn.exec_driver_sql("SET SESSION group_concat_max_len = 1073741824")


def _ints(packed: str | bytes | None, size: int) -> list[int]:
    text = packed.decode() if isinstance(packed, bytes) else (packed or "")
    values = [int(v) for v in text.split(",")] if text else []
    if len(values) != size:
        raise RuntimeError(
            f"group_concat returned {len(values)} of {size} values; raise max_allowed_packet"
        )
    return values


def summarise(values: Sequence[int], counts: Sequence[int] | None = None) -> Summary:
    """Average and percentiles of a non-empty sample: its sorted ``values``, or its
    distinct sorted values and how often each occurs (a histogram)."""
    cumulative: Sequence[int]
    if counts is None:
        cumulative, total = range(1, len(values) + 1), sum(values)
    else:
        cumulative, total = list(accumulate(counts)), sum(map(mul, values, counts))
    p50, p95 = (quantile(values, cumulative, q) for q in QUANTILES)
    return Summary(avg=total / cumulative[-1], p50=p50, p95=p95)


def quantile(values: Sequence[int], cumulative: Sequence[int], q: float) -> float:
    """The q-quantile of the sample where ``values[i]`` occupies the ranks up to
    ``cumulative[i]``, exactly as ``numpy.quantile(sample, q)`` (method "linear")."""
    n = cumulative[-1]

    def at(rank: int) -> int:  # the value of 0-based rank ``rank`` in the sorted sample
        return values[bisect_right(cumulative, rank)]

    # numpy's steps, in numpy's order, so that the floats agree to the bit.
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return float(at(n - 1))
    below = math.floor(virtual)
    gamma = virtual - below
    a, b = at(below), at(below + 1)
    diff = b - a
    return float(b - diff * (1 - gamma)) if gamma >= 0.5 else float(a + diff * gamma)


def combine(
    totals: Iterable[dict[str, Any]],
    latency: dict[GroupKey, Summary],
    ttft: dict[GroupKey, Summary],
    by_day: bool,
) -> list[dict[str, Any]]:
    """One row per (model, [day]), ordered by model id then day."""
    groups: dict[GroupKey, dict[str, Any]] = {}
    for part in totals:
        key = part["key"]
        row = groups.get(key)
        if row is None:
            row = groups[key] = _empty_row(key, part["model_name"], by_day)
        row[part["status"]] = part["n"]
        row["calls"] += part["n"]
        for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
            if part[name] is not None:
                row[name] = (row[name] or 0) + part[name]
        if part["status"] == "succeeded" and part["rate_ms"]:
            row["output_tokens_per_s"] = part["rate_tokens"] * 1000 / part["rate_ms"]
    for key, row in groups.items():
        decided = row["succeeded"] + row["failed"]
        row["success_rate"] = row["succeeded"] / decided if decided else None
        for prefix, summaries in (("latency_ms", latency), ("ttft_ms", ttft)):
            found = summaries.get(key)
            if found is not None:
                row[f"{prefix}_avg"], row[f"{prefix}_p50"], row[f"{prefix}_p95"] = (
                    found.avg,
                    found.p50,
                    found.p95,
                )
    return [groups[key] for key in sorted(groups)]


def _empty_row(key: GroupKey, model_name: str, by_day: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"model_id": key[0], "model_name": model_name}
    if by_day:
        row["day"] = key[1]
    row.update(calls=0, succeeded=0, failed=0, cancelled=0, success_rate=None)
    for prefix in ("latency_ms", "ttft_ms"):
        row.update({f"{prefix}_avg": None, f"{prefix}_p50": None, f"{prefix}_p95": None})
    row.update(
        prompt_tokens=None, completion_tokens=None, total_tokens=None, output_tokens_per_s=None
    )
    return row


def usage_rows(
    conn: Connection,
    *,
    start: dt.datetime | None,
    end: dt.datetime | None,
    model_id: int | None,
    user_id: int | None,
    by_day: bool,
) -> list[dict[str, Any]]:
    """The usage statistics, per model or per model and UTC day, on one connection.

    ``user_id`` None counts everyone's results. See :mod:`server_ext.services.stats` for
    the meaning of every figure."""
    f = UsageFilter(start=start, end=end, model_id=model_id, user_id=user_id, by_day=by_day)
    return combine(
        usage_totals(conn, f),
        value_summaries(conn, f, "latency_ms"),
        value_summaries(conn, f, "ttft_ms"),
        by_day,
    )
