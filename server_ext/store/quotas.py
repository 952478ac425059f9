"""Queries of monthly budgets: a user's own, and what they used since a moment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from .db import utcnow
from .tables import turn_results, user_quotas

# Results brought in by an import were not calls made here: they use no budget.
NOT_COUNTED_SOURCES = ("import",)


def get_quota(conn: Connection, user_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(user_quotas).where(user_quotas.c.user_id == user_id)).mappings()
    found = row.first()
    return dict(found) if found else None


def set_quota(
    conn: Connection, user_id: int, monthly_tokens: int | None, monthly_cost: float | None
) -> None:
    conn.execute(delete(user_quotas).where(user_quotas.c.user_id == user_id))
    conn.execute(
        insert(user_quotas).values(
            user_id=user_id,
            monthly_tokens=monthly_tokens,
            monthly_cost=monthly_cost,
            updated_at=utcnow(),
        )
    )


def used_since(conn: Connection, user_id: int, since: dt.datetime) -> tuple[int, float | None]:
    """Tokens (and cost, where results carry one) of the user's calls since ``since``."""
    cost = turn_results.c.get("cost")
    columns = [func.coalesce(func.sum(turn_results.c.total_tokens), 0)]
    if cost is not None:
        columns.append(func.sum(cost))
    row = conn.execute(
        select(*columns).where(
            turn_results.c.user_id == user_id,
            turn_results.c.created_at >= since,
            turn_results.c.source.not_in(NOT_COUNTED_SOURCES),
        )
    ).one()
    return int(row[0]), (float(row[1] or 0) if cost is not None else None)
