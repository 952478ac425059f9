"""Usage statistics over ``turn_results``: groups, figures, and exact percentiles.

The figures and their meaning are the contract of :mod:`server_ext.services.stats`.
They are computed from the per-day rows of ``usage_days`` (whole UTC days, results
already folded) and from ``turn_results`` for the rest (see :mod:`.usage_days`), read in
one transaction: the counts and token sums add up, and the exact values of
``latency_ms`` and ``ttft_ms`` of the succeeded results are gathered per group, sorted
with numpy and read at the ranks of the percentiles (:func:`quantile` follows numpy's
default "linear" method step by step, so the floats equal pandas' ``Series.quantile`` to
the bit).

Why not a percentile in SQL: SQLite has none, MySQL 8 no ``PERCENTILE_CONT``, and
scanning a million rows for them took 1.4–2.1 s (measurements in ``bench/README.md``).
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from .tables import models
from .usage_days import Part, Scope, usage_parts

QUANTILES = (0.5, 0.95)

# (model_id, [day], [source])
GroupKey = tuple[Any, ...]


@dataclass(frozen=True)
class UsageFilter:
    """Which results count: ``start <= created_at < end`` (naive UTC), one model or all,
    one user's results or everyone's (``user_id`` None), one source or all; grouped per
    model, and also per UTC day and/or per source."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    model_id: int | None = None
    user_id: int | None = None
    source: str | None = None
    by_day: bool = False
    by_source: bool = False


@dataclass(frozen=True)
class Summary:
    """Average and percentiles of one measure in one group."""

    avg: float
    p50: float
    p95: float


def summarise(values: np.ndarray) -> Summary:
    """Average and percentiles of a non-empty sample (any order)."""
    ordered = np.sort(values)
    ranks = range(1, len(ordered) + 1)
    p50, p95 = (quantile(ordered, ranks, q) for q in QUANTILES)
    return Summary(avg=int(ordered.sum(dtype=np.int64)) / len(ordered), p50=p50, p95=p95)


def quantile(values: Sequence[int], cumulative: Sequence[int], q: float) -> float:
    """The q-quantile of the sample where ``values[i]`` occupies the ranks up to
    ``cumulative[i]``, exactly as ``numpy.quantile(sample, q)`` (method "linear")."""
    n = cumulative[-1]

    def at(rank: int) -> int:  # the value of 0-based rank ``rank`` in the sorted sample
        return int(values[bisect_right(cumulative, rank)])

    # numpy's steps, in numpy's order, so that the floats agree to the bit.
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return float(at(n - 1))
    below = math.floor(virtual)
    gamma = virtual - below
    a, b = at(below), at(below + 1)
    diff = b - a
    return float(b - diff * (1 - gamma)) if gamma >= 0.5 else float(a + diff * gamma)


def _row(
    key: GroupKey, f: UsageFilter, name: str, currency: str | None, part: Part
) -> dict[str, Any]:
    row: dict[str, Any] = {"model_id": key[0], "model_name": name}
    rest = iter(key[1:])
    if f.by_day:
        row["day"] = next(rest)
    if f.by_source:
        row["source"] = next(rest)
    decided = part.succeeded + part.failed
    row.update(
        calls=decided + part.cancelled,
        succeeded=part.succeeded,
        failed=part.failed,
        cancelled=part.cancelled,
        success_rate=part.succeeded / decided if decided else None,
    )
    for prefix, measure in (("latency_ms", "latency"), ("ttft_ms", "ttft")):
        values = part.values(measure)
        found = summarise(values) if len(values) else None
        row[f"{prefix}_avg"] = found.avg if found else None
        row[f"{prefix}_p50"] = found.p50 if found else None
        row[f"{prefix}_p95"] = found.p95 if found else None
    row.update(
        prompt_tokens=part.prompt_tokens,
        completion_tokens=part.completion_tokens,
        total_tokens=part.total_tokens,
        # Only the succeeded results' rate sums are kept (see usage_days.Part).
        output_tokens_per_s=part.rate_tokens * 1000 / part.rate_ms if part.rate_ms else None,
    )
    # DESIGN §10: no prices, no cost (None, not 0).
    row.update(cost=part.cost, currency=currency if part.cost is not None else None)
    return row


def usage(conn: Connection, f: UsageFilter) -> list[dict[str, Any]]:
    """One row per group of ``f``, ordered by model id, then day, then source."""
    scope = Scope(
        start=f.start,
        end=f.end,
        model_id=f.model_id,
        user_id=f.user_id,
        source=f.source,
        by_day=f.by_day,
        by_source=f.by_source,
    )
    parts = usage_parts(conn, scope)
    model_ids = sorted({key[0] for key in parts})
    found = {
        row.id: row
        for row in conn.execute(
            select(models.c.id, models.c.name, models.c.price_currency).where(
                models.c.id.in_(model_ids)
            )
        )
    }
    return [
        _row(key, f, found[key[0]].name, found[key[0]].price_currency, parts[key])
        for key in sorted(parts)
    ]


def usage_rows(
    conn: Connection,
    *,
    start: dt.datetime | None,
    end: dt.datetime | None,
    model_id: int | None,
    user_id: int | None,
    by_day: bool,
    source: str | None = None,
    by_source: bool = False,
) -> list[dict[str, Any]]:
    """The usage statistics, per model or per model and UTC day (and per source).

    ``user_id`` None counts everyone's results. See :mod:`server_ext.services.stats` for
    the meaning of every figure."""
    return usage(
        conn,
        UsageFilter(
            start=start,
            end=end,
            model_id=model_id,
            user_id=user_id,
            source=source,
            by_day=by_day,
            by_source=by_source,
        ),
    )
