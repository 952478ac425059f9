"""Usage statistics kept per user, model, UTC day and source (``usage_days``), folded in
from final results by a catch-up, so that statistics over a million results read a few
thousand rows instead of scanning them all.

Folding
    :func:`catch_up` walks ``turn_results`` in id order from the fold mark
    (``usage_fold.folded_through``) and adds each final result (succeeded, failed,
    cancelled) to the row of its (user, model, day of ``created_at``, source): counts,
    token sums, and its ``latency_ms`` and ``ttft_ms`` values when it succeeded. Results
    still queued or streaming are passed and remembered in ``usage_pending``, and folded
    when they end. The mark stops short of results created in the last
    :data:`SETTLE` (a transaction that inserted smaller ids may not have committed yet).
    Mark, rows and pending ids change in one transaction, so a crash folds nothing twice.

    A catch-up rather than a hook in every place that ends a result: finalisation,
    cancellation, the INTERRUPTED sweeps, the gateway, experiments — whatever writes a
    final status is folded, with nothing added to the turn's own writes. It relies on a
    final result never changing again (DESIGN §8: finalised once), and results are never
    deleted.

Reading
    Statistics are exact at any moment, folded or not: :func:`usage_parts` reads the rows
    of the whole UTC days in the range from ``usage_days``, and from ``turn_results``
    itself everything else: results above the mark or pending (not folded yet), and
    those in the partial days at either end of a range that does not start or end at
    midnight. Both come back as :class:`Part` objects that ``store/stats.py`` combines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Connection, delete, func, insert, literal_column, null, select, update

from .db import plain_rows, utcnow
from .tables import models, turn_results, usage_days, usage_fold, usage_pending

FINAL = ("succeeded", "failed", "cancelled")
ACTIVE = ("queued", "streaming")
# Results younger than this are left above the mark (read directly until then).
SETTLE = dt.timedelta(seconds=60)
BATCH = 20_000
VALUES = np.dtype("<i4")
MARK_ID = 1

_tr = turn_results.c
_ud = usage_days.c
# What folding and reading need of a result.
_RESULT_COLUMNS = (
    _tr.id,
    _tr.user_id,
    _tr.model_id,
    _tr.created_at,
    _tr.source,
    _tr.status,
    _tr.prompt_tokens,
    _tr.completion_tokens,
    _tr.total_tokens,
    _tr.latency_ms,
    _tr.ttft_ms,
    _tr.decode_ms,
    _tr.cost,
)
_SUMS = ("prompt_tokens", "completion_tokens", "total_tokens", "rate_tokens", "rate_ms")
_COUNTS = ("succeeded", "failed", "cancelled", *_SUMS)


def _add(a: int | None, b: int | None) -> int | None:
    """A sum that stays None until something is added (SQL's SUM over no value)."""
    if b is None:
        return a
    return b if a is None else a + b


@dataclass
class Part:
    """Counts, sums and values of some results of one group, to be added together."""

    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    rate_tokens: int | None = None
    rate_ms: int | None = None
    # the summed cost of the results that have one (a float; None while none has)
    cost: float | None = None
    latency: list[np.ndarray] = field(default_factory=list)
    ttft: list[np.ndarray] = field(default_factory=list)
    # values of single results, not yet packed into an array
    loose_latency: list[int] = field(default_factory=list)
    loose_ttft: list[int] = field(default_factory=list)

    def add_result(self, row: Any) -> None:
        """One final result (a row of :data:`_RESULT_COLUMNS`)."""
        status = row.status
        setattr(self, status, getattr(self, status) + 1)
        self.prompt_tokens = _add(self.prompt_tokens, row.prompt_tokens)
        self.completion_tokens = _add(self.completion_tokens, row.completion_tokens)
        self.total_tokens = _add(self.total_tokens, row.total_tokens)
        self.cost = _add(self.cost, row.cost)
        if status != "succeeded":
            return
        if row.decode_ms is not None and row.decode_ms > 0 and row.completion_tokens is not None:
            self.rate_tokens = _add(self.rate_tokens, row.completion_tokens)
            self.rate_ms = _add(self.rate_ms, row.decode_ms)
        if row.latency_ms is not None:
            self.loose_latency.append(row.latency_ms)
        if row.ttft_ms is not None:
            self.loose_ttft.append(row.ttft_ms)

    def add_part(self, other: Part) -> None:
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.cancelled += other.cancelled
        for name in _SUMS:
            setattr(self, name, _add(getattr(self, name), getattr(other, name)))
        self.cost = _add(self.cost, other.cost)
        self.latency += other.latency
        self.ttft += other.ttft
        self.loose_latency += other.loose_latency
        self.loose_ttft += other.loose_ttft

    def values(self, measure: str) -> np.ndarray:
        """Every value of ``latency`` or ``ttft`` so far, in no order (int64)."""
        packed: list[np.ndarray] = getattr(self, measure)
        loose: list[int] = getattr(self, f"loose_{measure}")
        arrays = [a.astype(np.int64) for a in packed]
        if loose:
            arrays.append(np.array(loose, dtype=np.int64))
        return np.concatenate(arrays) if arrays else np.empty(0, np.int64)


def _day(created_at: dt.datetime) -> dt.date:
    return created_at.date()  # naive UTC: its UTC day


def _results_by_id(conn: Connection, ids: list[int], *filters: Any) -> Iterator[Any]:
    """The results with these ids (a few hundred at a time: SQLite binds at most 32,766)."""
    for lo in range(0, len(ids), 500):
        query = select(*_RESULT_COLUMNS).where(_tr.id.in_(ids[lo : lo + 500]), *filters)
        yield from conn.execute(query)


# -- folding ---------------------------------------------------------------------------------


def catch_up(
    conn: Connection,
    *,
    now: dt.datetime | None = None,
    batch: int = BATCH,
    batches: int | None = None,
) -> int:
    """Fold every result that ended since the last catch-up into ``usage_days`` (or the
    first ``batches`` batches of them); returns how many were folded. Runs in the
    caller's write transaction; when another process is folding (the mark is locked),
    returns 0 at once: reads are exact either way."""
    locked = select(usage_fold.c.folded_through).where(usage_fold.c.id == MARK_ID)
    mark = conn.execute(locked.with_for_update(skip_locked=True)).scalar_one_or_none()
    if mark is None:
        return 0
    settled = (now or utcnow()) - SETTLE
    parts: dict[tuple[Any, ...], Part] = {}
    folded = 0

    # Pending results that have ended since (by id: see _unfolded on the status).
    pending_ids = list(conn.execute(select(usage_pending.c.result_id)).scalars())
    ended = [row for row in _results_by_id(conn, pending_ids) if row.status in FINAL]
    for row in ended:
        _part_of(parts, row).add_result(row)
    if ended:
        conn.execute(
            delete(usage_pending).where(usage_pending.c.result_id.in_([r.id for r in ended]))
        )
        folded += len(ended)

    # Then onwards from the mark.
    while True:
        rows = conn.execute(
            select(*_RESULT_COLUMNS).where(_tr.id > mark).order_by(_tr.id).limit(batch)
        ).all()
        pending, settling = [], False
        for row in rows:
            if row.created_at >= settled:
                settling = True
                break
            if row.status in FINAL:
                _part_of(parts, row).add_result(row)
                folded += 1
            else:
                pending.append({"result_id": row.id})
            mark = row.id
        if pending:
            conn.execute(insert(usage_pending), pending)
        if batches is not None:
            batches -= 1
        if settling or len(rows) < batch or batches == 0:
            break

    _store(conn, parts)
    conn.execute(update(usage_fold).where(usage_fold.c.id == MARK_ID).values(folded_through=mark))
    return folded


def _part_of(parts: dict[tuple[Any, ...], Part], row: Any) -> Part:
    key = (row.user_id, row.model_id, _day(row.created_at), row.source)
    found = parts.get(key)
    if found is None:
        found = parts[key] = Part()
    return found


def _packed(part: Part, measure: str) -> bytes:
    return part.values(measure).astype(VALUES).tobytes()


def _store(conn: Connection, parts: dict[tuple[Any, ...], Part]) -> None:
    """Add ``parts`` to their rows of usage_days (the fold mark is held: no other
    process writes them meanwhile)."""
    if not parts:
        return
    keys = list(parts)
    existing: dict[tuple[Any, ...], Any] = {}
    users = sorted({k[0] for k in keys})
    days = [k[2] for k in keys]
    rows = conn.execute(
        select(usage_days).where(
            _ud.user_id.in_(users), _ud.day >= min(days), _ud.day <= max(days)
        )
    ).all()
    for row in rows:
        existing[(row.user_id, row.model_id, row.day, row.source)] = row
    inserts = []
    for key, part in parts.items():
        row = existing.get(key)
        if row is None:
            inserts.append(
                {
                    "user_id": key[0],
                    "model_id": key[1],
                    "day": key[2],
                    "source": key[3],
                    **_counts(part),
                    "latency_values": _packed(part, "latency"),
                    "ttft_values": _packed(part, "ttft"),
                }
            )
            continue
        total = Part(
            **{name: getattr(row, name) for name in ("succeeded", "failed", "cancelled", *_SUMS)},
            cost=row.cost,
        )
        total.add_part(part)
        conn.execute(
            update(usage_days)
            .where(
                _ud.user_id == key[0],
                _ud.model_id == key[1],
                _ud.day == key[2],
                _ud.source == key[3],
            )
            .values(
                **_counts(total),
                latency_values=row.latency_values + _packed(part, "latency"),
                ttft_values=row.ttft_values + _packed(part, "ttft"),
            )
        )
    if inserts:
        conn.execute(insert(usage_days), inserts)


def _counts(part: Part) -> dict[str, Any]:
    return {**{name: getattr(part, name) for name in _COUNTS}, "cost": part.cost}


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which results count (see ``store/stats.py`` UsageFilter), and how they group."""

    start: dt.datetime | None
    end: dt.datetime | None
    model_id: int | None
    user_id: int | None
    source: str | None
    by_day: bool
    by_source: bool

    def key(self, model_id: Any, day: dt.date, source: str) -> tuple[Any, ...]:
        key: tuple[Any, ...] = (int(model_id),)
        if self.by_day:
            key += (day,)
        if self.by_source:
            key += (source,)
        return key


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def whole_days(
    start: dt.datetime | None, end: dt.datetime | None
) -> tuple[dt.date | None, dt.date | None]:
    """The whole UTC days in [start, end): first day (inclusive) and last (exclusive);
    None for an open end."""
    first = None
    if start is not None:
        first = (
            start.date() if start == _midnight(start.date()) else start.date() + dt.timedelta(1)
        )
    return first, (end.date() if end is not None else None)


def _raw_intervals(scope: Scope) -> tuple[bool, list[tuple[Any, Any]]]:
    """Whether usage_days answers for some whole days of the range, and the [from, to)
    intervals of the range outside them (read from turn_results)."""
    first, last = whole_days(scope.start, scope.end)
    if first is not None and last is not None and first >= last:
        return False, [(scope.start, scope.end)]  # no whole day: all of it
    edges = []
    if first is not None and scope.start is not None and _midnight(first) > scope.start:
        edges.append((scope.start, _midnight(first)))
    if last is not None and scope.end is not None and scope.end > _midnight(last):
        edges.append((_midnight(last), scope.end))
    return True, edges


def usage_parts(conn: Connection, scope: Scope) -> dict[tuple[Any, ...], Part]:
    """Per group of ``scope``: the counts, sums and values of its final results, from
    usage_days where folded and whole days, from turn_results otherwise (each result
    counted once)."""
    mark = conn.execute(
        select(usage_fold.c.folded_through).where(usage_fold.c.id == MARK_ID)
    ).scalar_one_or_none()
    parts: dict[tuple[Any, ...], Part] = {}
    if mark is None:  # not folding (yet): everything from turn_results
        mark, has_days, edges = 0, False, []
    else:
        has_days, edges = _raw_intervals(scope)
    if has_days:
        _from_days(conn, scope, parts)
    for row in _unfolded(conn, scope, mark, edges):
        key = scope.key(row.model_id, _day(row.created_at), row.source)
        part = parts.get(key)
        if part is None:
            part = parts[key] = Part()
        part.add_result(row)
    return parts


_DAY_COLUMNS = (
    _ud.model_id,
    _ud.day,
    _ud.source,
    _ud.succeeded,
    _ud.failed,
    _ud.cancelled,
    *(_ud[name] for name in _SUMS),
    _ud.cost,
    _ud.latency_values,
    _ud.ttft_values,
)


def _from_days(conn: Connection, scope: Scope, parts: dict[tuple[Any, ...], Part]) -> None:
    """Add the usage_days rows of the whole days of ``scope`` to ``parts``: their rows
    are grouped first, then added up group by group (a million values cost one
    ``frombuffer`` per group and measure)."""
    first, last = whole_days(scope.start, scope.end)
    query = select(*_DAY_COLUMNS)
    if first is not None:
        query = query.where(_ud.day >= first)
    if last is not None:
        query = query.where(_ud.day < last)
    if scope.user_id is not None:
        query = query.where(_ud.user_id == scope.user_id)
    if scope.model_id is not None:
        query = query.where(_ud.model_id == scope.model_id)
    if scope.source is not None:
        query = query.where(_ud.source == scope.source)
    days: dict[Any, dt.date | None] = {None: None}  # the driver's day -> date, once each
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for row in _day_rows(conn, scope, query):
        day = days.get(row[1])
        if day is None and row[1] is not None:
            day = days[row[1]] = _as_date(row[1])
        groups.setdefault(scope.key(row[0], day, row[2]), []).append(row)
    for key, rows in groups.items():
        part = parts.get(key)
        if part is None:
            part = parts[key] = Part()
        columns = list(zip(*rows, strict=True))
        part.succeeded += sum(columns[3])
        part.failed += sum(columns[4])
        part.cancelled += sum(columns[5])
        for i, name in enumerate(_SUMS, start=6):
            reported = [v for v in columns[i] if v is not None]
            if reported:
                setattr(part, name, _add(getattr(part, name), int(sum(reported))))
        costs = [float(v) for v in columns[6 + len(_SUMS)] if v is not None]
        if costs:
            part.cost = _add(part.cost, sum(costs))
        latency, ttft = b"".join(columns[-2]), b"".join(columns[-1])
        if latency:
            part.latency.append(np.frombuffer(latency, VALUES))
        if ttft:
            part.ttft.append(np.frombuffer(ttft, VALUES))


def _day_rows(conn: Connection, scope: Scope, query: Any) -> list[Any]:
    """The rows of ``query`` (laid out as :data:`_DAY_COLUMNS`). MySQL groups them
    itself, its GROUP_CONCAT joining the packed values (pymysql spends ~7 µs a row: for
    everyone's 20,000 day rows, 150 ms); a group whose values would not fit
    ``max_allowed_packet`` comes back short, which the lengths reveal, and then the rows
    are read one by one. SQLite's group_concat is for text: there Python groups them."""
    if conn.dialect.name not in ("mysql", "mariadb"):
        return plain_rows(conn, query)
    conn.exec_driver_sql("SET SESSION group_concat_max_len = 4294967295")
    by = [_ud.model_id, *([_ud.day] if scope.by_day else [])]
    by += [_ud.source] if scope.by_source else []
    grouped = query.with_only_columns(
        _ud.model_id,
        _ud.day if scope.by_day else null(),
        _ud.source if scope.by_source else null(),
        *(func.sum(_ud[name]) for name in ("succeeded", "failed", "cancelled", *_SUMS)),
        func.sum(_ud.cost),
        literal_column("GROUP_CONCAT(latency_values SEPARATOR '')"),
        literal_column("GROUP_CONCAT(ttft_values SEPARATOR '')"),
        func.sum(func.length(_ud.latency_values)),
        func.sum(func.length(_ud.ttft_values)),
    ).group_by(*by)
    rows = []
    for row in plain_rows(conn, grouped):
        *values, latency_bytes, ttft_bytes = row
        if len(values[-2] or b"") != latency_bytes or len(values[-1] or b"") != ttft_bytes:
            return plain_rows(conn, query)  # cut short: the plain rows then
        rows.append([int(v) if isinstance(v, Decimal) else v for v in values])
    return rows


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _unfolded(
    conn: Connection, scope: Scope, mark: int, edges: list[tuple[Any, Any]]
) -> Iterator[Any]:
    """The final results of ``scope`` that usage_days does not answer for: above the
    mark, pending, or in ``edges`` (the partial days) — each once.

    The status is checked here, not in SQL: given ``status IN (…)`` the planners walk a
    stats index (status first) over every final result and fetch each row, where these
    queries want a primary-key range, a few ids, or a (model or user, created_at) range."""
    filters = []
    if scope.start is not None:
        filters.append(_tr.created_at >= scope.start)
    if scope.end is not None:
        filters.append(_tr.created_at < scope.end)
    if scope.user_id is not None:
        filters.append(_tr.user_id == scope.user_id)
    if scope.model_id is not None:
        filters.append(_tr.model_id == scope.model_id)
    if scope.source is not None:
        filters.append(_tr.source == scope.source)
    columns = select(*_RESULT_COLUMNS)
    pending = list(conn.execute(select(usage_pending.c.result_id)).scalars())
    skipped = set(pending)  # read by id below, not again in the partial days
    found = [conn.execute(columns.where(_tr.id > mark, *filters))]  # a primary-key range
    found.append(_results_by_id(conn, pending, *filters))  # a few, at or below the mark
    if edges:
        # Folded, but in a partial day: a (model, created_at) range per model when no user
        # or model narrows it down (ix_turn_results_model_id_created_at).
        narrowed = filters
        if scope.user_id is None and scope.model_id is None:
            every_model = list(conn.execute(select(models.c.id)).scalars())
            narrowed = [*filters, _tr.model_id.in_(every_model)]
        for lo, hi in edges:
            bounds = [_tr.id <= mark]
            if lo is not None:
                bounds.append(_tr.created_at >= lo)
            if hi is not None:
                bounds.append(_tr.created_at < hi)
            rows = conn.execute(columns.where(*narrowed, *bounds))
            found.append(row for row in rows if row.id not in skipped)
    for rows in found:
        for row in rows:
            if row.status in FINAL:
                yield row
