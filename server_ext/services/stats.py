"""Usage statistics per model: the contract of ``GET chatmore/api/stats/usage``.

Which results count
    Rows of ``turn_results`` whose status is final — ``succeeded``, ``failed`` or
    ``cancelled``; ``queued`` and ``streaming`` ones are in flight and not counted. Filters:
    ``start`` (inclusive) and ``end`` (exclusive) on ``created_at`` (naive UTC; a date
    given as ``to`` is its midnight, so ``from=2026-03-01&to=2026-04-01`` is March), an
    optional ``model_id``, an optional ``source`` (where the call came from: board, ask,
    gateway, experiment, judge — DESIGN §11), and the scope: one user's results
    (``turn_results.user_id``) or, for admins, everyone's (``user_id`` None).

Groups
    Per model, and also per UTC day of ``created_at`` (``by_day``) and/or per source
    (``by_source``). Groups without a counted row are absent: an empty range gives an
    empty list. Rows come ordered by model id, then day, then source.

Figures of a group (keys of each row)
    ``model_id``, ``model_name``, ``day`` (a ``datetime.date``, only by day), ``source``
    (only by source);
    ``calls`` = ``succeeded`` + ``failed`` + ``cancelled`` (counts);
    ``success_rate`` = succeeded / (succeeded + failed), None when that is 0 —
    a cancellation is the user's choice, not the model's failure;
    ``latency_ms_avg|p50|p95`` and ``ttft_ms_avg|p50|p95``: over the succeeded rows where
    the value is not null, None when there are none (so a model whose calls all failed has
    counts, a success rate of 0.0 and no timings);
    ``prompt_tokens``, ``completion_tokens``, ``total_tokens``: sums over all counted rows,
    nulls skipped, None when no counted row reported that count;
    ``cost``: the sum of the counted rows' costs (DESIGN §10), in ``currency``, the
    model's; both None when no counted row has a cost (a model without prices);
    ``output_tokens_per_s`` = sum(completion_tokens) / (sum(decode_ms) / 1000) over the
    succeeded rows with ``decode_ms`` > 0 and ``completion_tokens`` not null — ``decode_ms``
    is the time from the first to the last streamed delta, so a single-chunk reply (0 or
    null) has no rate — None when there is no such row.

    Averages and rates are floats. Percentiles are exact over the selected rows and equal
    to pandas' default ``Series.quantile(q)`` (linear interpolation), on every backend.

Consistency
    Every figure is read in one transaction, from the per-day rows folded so far and the
    results not folded yet (``store/usage_days.py``): a result counts once, folded or
    not. Each request first folds what has ended since the last one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..errors import validation
from ..store import stats as store
from ..store import usage_days
from ..store.db import Database
from ..store.tables import SOURCES
from .query_args import parse_id, parse_range

GROUP_BY = ("model", "day", "source", "day,source")
QUERY_PARAMETERS = ("from", "to", "model_id", "source", "group_by")
# Where a call comes from (DESIGN §11).


@dataclass(frozen=True)
class UsageQuery:
    """The parsed query string of the usage endpoint (the scope comes from the caller)."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    model_id: int | None = None
    source: str | None = None
    by_day: bool = False
    by_source: bool = False


class StatsService:
    """Usage statistics, read off the event loop."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def usage(
        self,
        *,
        start: dt.datetime | None,
        end: dt.datetime | None,
        model_id: int | None,
        user_id: int | None,
        by_day: bool,
        source: str | None = None,
        by_source: bool = False,
    ) -> list[dict[str, Any]]:
        """The usage rows (see the module docstring); ``user_id`` None is everyone."""
        f = store.UsageFilter(
            start=start,
            end=end,
            model_id=model_id,
            user_id=user_id,
            source=source,
            by_day=by_day,
            by_source=by_source,
        )
        # One batch at most: after a bulk import the rest waits for the next requests
        # (read directly meanwhile) instead of holding SQLite's write lock for seconds.
        await self._db.write(usage_days.catch_up, batches=1)
        return await self._db.read(store.usage, f)


def parse_usage_query(args: dict[str, str]) -> UsageQuery:
    """Validate the query string: ``from`` and ``to`` as ISO 8601 dates or date-times (UTC
    unless they carry an offset; ``Z`` accepted; a date means its midnight), ``model_id`` a
    positive integer, ``source`` one of :data:`SOURCES`, ``group_by`` ``model`` (default),
    ``day``, ``source`` or ``day,source``. Empty values count as absent. Raises
    VALIDATION_FAILED naming the parameter."""
    unknown = sorted(set(args) - set(QUERY_PARAMETERS))
    if unknown:
        raise validation(
            f"unknown parameter {unknown[0]!r}; expected {', '.join(QUERY_PARAMETERS)}",
            field=unknown[0],
        )
    start, end = parse_range(args)
    group_by = (args.get("group_by") or "model").strip()
    if group_by not in GROUP_BY:
        raise validation(
            f"group_by must be one of {', '.join(GROUP_BY)}, not {group_by!r}", field="group_by"
        )
    source = (args.get("source") or "").strip() or None
    if source is not None and source not in SOURCES:
        raise validation(
            f"source must be one of {', '.join(SOURCES)}, not {source[:20]!r}", field="source"
        )
    return UsageQuery(
        start=start,
        end=end,
        model_id=parse_id(args, "model_id"),
        source=source,
        by_day="day" in group_by.split(","),
        by_source="source" in group_by.split(","),
    )
