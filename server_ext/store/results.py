"""Results as rows for analysis: one row per turn × window, read page by page in
result-id order (keyset paging), always scoped to one user unless an admin asks for
everyone.

A page is read as plain tuples with its times as the text the database stores, and
what many rows share (their turn, window, model, conversation) is read
once per page, so that a million rows cost little more than the database's own scan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, String, Text, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from .db import plain_rows
from .tables import conversations, messages, models, turn_results, turns, windows
from .turns import REPLY_OF_RESULT


class stored_time(FunctionElement):  # lower case: it reads as the SQL it renders
    """A DATETIME as the text the database keeps, ``YYYY-MM-DD HH:MM:SS.ffffff`` (naive
    UTC; NULL stays NULL), with no conversion per row on either side of the driver."""

    type = String()
    inherit_cache = True


@compiles(stored_time, "sqlite")
def _stored_time_sqlite(element: stored_time, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)  # SQLite keeps it as that text already


@compiles(stored_time, "mysql")
@compiles(stored_time, "mariadb")
def _stored_time_mysql(element: stored_time, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS CHAR(26))"


ROW_COLUMNS: tuple[tuple[str, ColumnElement[Any]], ...] = (
    ("result_id", turn_results.c.id),
    ("turn_id", turn_results.c.turn_id),
    ("window_id", turn_results.c.window_id),
    ("model_id", turn_results.c.model_id),
    ("status", turn_results.c.status),
    ("error_code", turn_results.c.error_code),
    ("finish_reason", turn_results.c.finish_reason),
    ("prompt_tokens", turn_results.c.prompt_tokens),
    ("completion_tokens", turn_results.c.completion_tokens),
    ("total_tokens", turn_results.c.total_tokens),
    ("ttft_ms", turn_results.c.ttft_ms),
    ("latency_ms", turn_results.c.latency_ms),
    ("decode_ms", turn_results.c.decode_ms),
    ("cost", turn_results.c.cost),
    ("source", turn_results.c.source),
    ("experiment_id", turn_results.c.experiment_id),
    ("created_at", stored_time(turn_results.c.created_at)),
    ("started_at", stored_time(turn_results.c.started_at)),
    ("finished_at", stored_time(turn_results.c.finished_at)),
    ("user_id", turn_results.c.user_id),
)
TEXT_ROW_COLUMNS: tuple[tuple[str, ColumnElement[Any]], ...] = (
    ("error_message", turn_results.c.error_message),
    ("reply", messages.c.content),
)
# What a page's rows take from their turns, read once per turn, in this order (the id
# first: the rows are matched to their turn by it): the JSON page's "turns" table and
# the Arrow page's turn columns. ``replaces_turn_id`` is the turn a retry or an edited
# prompt replaced, null for any other.
TURN_COLUMNS: tuple[tuple[str, ColumnElement[Any]], ...] = (
    ("turn_id", turns.c.id),
    ("conversation_id", turns.c.conversation_id),
    ("mode", turns.c.mode),
    ("replaces_turn_id", turns.c.replaces_turn_id),
)
TEXT_TURN_COLUMNS: tuple[tuple[str, ColumnElement[Any]], ...] = (("prompt", turns.c.input_text),)


def turn_column_names(with_text: bool) -> list[str]:
    """The names of the values :func:`turn_details` and :func:`turns_between` read."""
    return [name for name, _ in TURN_COLUMNS + (TEXT_TURN_COLUMNS if with_text else ())]


def _turn_columns(with_text: bool) -> list[ColumnElement[Any]]:
    return [column for _, column in TURN_COLUMNS + (TEXT_TURN_COLUMNS if with_text else ())]


@dataclass(frozen=True)
class ResultFilter:
    """Which results: the user's (None: everyone's), ids in (after_id, before_id), and
    optionally one conversation, one model, one experiment and a time range (from
    inclusive, to not)."""

    user_id: int | None
    after_id: int = 0
    before_id: int | None = None
    conversation_id: int | None = None
    model_id: int | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    experiment_id: int | None = None

    def apply(self, query: Any) -> Any:
        conditions = [turn_results.c.id > self.after_id]
        if self.before_id is not None:
            conditions.append(turn_results.c.id < self.before_id)
        if self.user_id is not None:
            conditions.append(turn_results.c.user_id == self.user_id)
        if self.conversation_id is not None:
            conditions.append(
                turn_results.c.turn_id.in_(
                    select(turns.c.id).where(turns.c.conversation_id == self.conversation_id)
                )
            )
        if self.model_id is not None:
            conditions.append(turn_results.c.model_id == self.model_id)
        if self.experiment_id is not None:
            conditions.append(turn_results.c.experiment_id == self.experiment_id)
        if self.start is not None:
            conditions.append(turn_results.c.created_at >= self.start)
        if self.end is not None:
            conditions.append(turn_results.c.created_at < self.end)
        return query.where(*conditions)


def result_page(
    conn: Connection, which: ResultFilter, *, limit: int, with_text: bool = True
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows (tuples) of one page, in id order."""
    named = ROW_COLUMNS + (TEXT_ROW_COLUMNS if with_text else ())
    source = turn_results.outerjoin(messages, REPLY_OF_RESULT) if with_text else turn_results
    query = which.apply(
        select(*(column.label(name) for name, column in named)).select_from(source)
    )
    rows = conn.execute(query.order_by(turn_results.c.id).limit(limit)).all()
    return [name for name, _ in named], rows


def columns(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, list[Any]]:
    """Rows turned into named columns (one transpose, in C)."""
    if not rows:
        return {name: [] for name in names}
    return dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))


def _pointed_to(
    column: ColumnElement[Any], user_id: int | None, after_id: int, last_id: int
) -> Any:
    """``column`` of a page's results (the user's, ids in (after_id, last_id]): what the
    page's rows point to is read through this subquery, not a list of thousands of ids."""
    span = select(column).where(turn_results.c.id > after_id, turn_results.c.id <= last_id)
    if user_id is not None:
        span = span.where(turn_results.c.user_id == user_id)
    return span


def turn_details(
    conn: Connection,
    span: tuple[int | None, int, int],
    *,
    with_text: bool,
) -> list[tuple[Any, ...]]:
    """The :func:`turn_column_names` of the turns of a page's results (``span``: the
    page's user, after_id and last result id)."""
    pointed = _pointed_to(turn_results.c.turn_id, *span)
    return conn.execute(select(*_turn_columns(with_text)).where(turns.c.id.in_(pointed))).all()


def window_details(conn: Connection, span: tuple[int | None, int, int]) -> list[tuple[Any, ...]]:
    """(window_id, window name, model name, window params, model default params) of the
    windows of a page's results."""
    query = (
        select(
            windows.c.id,
            windows.c.name,
            models.c.name,
            windows.c.params,
            models.c.default_params,
        )
        .join(models, models.c.id == windows.c.model_id)
        .where(windows.c.id.in_(_pointed_to(turn_results.c.window_id, *span)))
    )
    return conn.execute(query).all()


def model_names(conn: Connection, model_ids: list[int]) -> list[tuple[Any, ...]]:
    """(model_id, name, currency of its prices) of the given models."""
    return conn.execute(
        select(models.c.id, models.c.name, models.c.price_currency).where(
            models.c.id.in_(model_ids)
        )
    ).all()


def conversation_titles(conn: Connection, conversation_ids: list[int]) -> list[tuple[Any, ...]]:
    return conn.execute(
        select(conversations.c.id, conversations.c.title).where(
            conversations.c.id.in_(conversation_ids)
        )
    ).all()


# -- for the Arrow page: plain tuples, what the rows point to looked up by id ---------------


def result_tuples(
    conn: Connection, which: ResultFilter, *, limit: int, with_text: bool
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """As :func:`result_page`, the rows as the driver's own tuples: SQLAlchemy's row
    objects add a quarter to the database's fetch on a page of 100,000 (none of these
    columns needs a result processor: times are text already)."""
    named = ROW_COLUMNS + (TEXT_ROW_COLUMNS if with_text else ())
    source = turn_results.outerjoin(messages, REPLY_OF_RESULT) if with_text else turn_results
    query = which.apply(
        select(*(column.label(name) for name, column in named)).select_from(source)
    )
    return [name for name, _ in named], plain_rows(
        conn, query.order_by(turn_results.c.id).limit(limit)
    )


def turns_between(
    conn: Connection, lo: int, hi: int, user_id: int | None, *, with_text: bool
) -> list[Any]:
    """The :func:`turn_column_names` of the user's turns with ids in [lo, hi]: a page's
    turns are a narrow id range (a primary-key range scan; an IN list of tens of
    thousands of ids costs more to bind than to read)."""
    query = select(*_turn_columns(with_text)).where(turns.c.id.between(lo, hi))
    if user_id is not None:
        query = query.where(turns.c.user_id == user_id)
    return plain_rows(conn, query)


def windows_between(conn: Connection, lo: int, hi: int) -> list[Any]:
    """(window_id, window name, model name, window params, model default params) of the
    windows with ids in [lo, hi], the params as the JSON text stored. Any user's: the
    caller keeps only those its rows point to."""
    query = (
        select(
            windows.c.id,
            windows.c.name,
            models.c.name,
            type_coerce(windows.c.params, Text),
            type_coerce(models.c.default_params, Text),
        )
        .join(models, models.c.id == windows.c.model_id)
        .where(windows.c.id.between(lo, hi))
    )
    return plain_rows(conn, query)
