"""Monthly budgets of tokens and cost per user (calendar months, UTC).

Admins give a user their own budgets (``PUT chatmore/api/users/{id}/quota``); otherwise
the default settings apply (``CHATMORE_QUOTA_MONTHLY_TOKENS``, ``…_COST``). A budget of
0 means no limit; ``null`` in a user's own means "the default". A turn is refused with
QUOTA_EXCEEDED (429) before anything is sent upstream when the user has already used
their budget this month; the turn that crosses it runs to its end. ``auth/me`` shows
each budget with what is used and left.

Cost is counted where results carry one (a ``cost`` column); until then only the token
budget can refuse a turn, and the cost used reads ``null``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from ..errors import ChatMoreError, validation
from ..store import quotas as quota_store
from ..store import users as user_store
from ..store.db import Database, utcnow
from .auth import AuthUser


def month_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def _budget(value: Any, name: str, kind: type) -> Any:
    if value is None:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not 0 <= value < 2**53 or (kind is int and not float(value).is_integer()):
        what = "a whole number" if kind is int else "a number"
        raise validation(f"{name} must be {what}, 0 or more, or null", field=name)
    return kind(value)


def _line(budget: float | None, used: float | None) -> dict[str, Any]:
    limited = bool(budget)
    left = max(budget - (used or 0), 0) if limited and budget is not None else None
    return {"budget": budget if limited else None, "used": used, "left": left}


class QuotaService:
    def __init__(self, db: Database, default_tokens: int, default_cost: float) -> None:
        self.db = db
        self.default_tokens = default_tokens
        self.default_cost = default_cost

    def _read(self, conn: Any, user_id: int) -> dict[str, Any]:
        own = quota_store.get_quota(conn, user_id) or {}
        tokens = own.get("monthly_tokens")
        cost = own.get("monthly_cost")
        start, end = month_bounds(utcnow())
        used_tokens, used_cost = quota_store.used_since(conn, user_id, start)
        return {
            "period_start": start,
            "period_end": end,
            "tokens": _line(self.default_tokens if tokens is None else tokens, used_tokens),
            "cost": _line(self.default_cost if cost is None else cost, used_cost),
            "own": {"monthly_tokens": tokens, "monthly_cost": cost},
        }

    async def status(self, user_id: int) -> dict[str, Any]:
        return await self.db.read(self._read, user_id)

    async def check(self, user: AuthUser) -> None:
        """Refuse a new turn of a user who used this month's budget."""
        status = await self.status(user.id)
        for what in ("tokens", "cost"):
            line = status[what]
            if line["budget"] is not None and line["used"] is not None and line["left"] <= 0:
                raise ChatMoreError(
                    "QUOTA_EXCEEDED",
                    f"this month's {what} budget is used up; it renews on "
                    f"{status['period_end']:%Y-%m-%d} (UTC)",
                    budget=line["budget"],
                    used=line["used"],
                    renews_at=status["period_end"],
                )

    async def set(self, user_id: int, body: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(body) - {"monthly_tokens", "monthly_cost"})
        if unknown:
            raise validation(f"unknown field {unknown[0]!r}", field=unknown[0])
        tokens = _budget(body.get("monthly_tokens"), "monthly_tokens", int)
        cost = _budget(body.get("monthly_cost"), "monthly_cost", float)
        if cost is not None and not math.isfinite(cost):
            raise validation("monthly_cost must be finite", field="monthly_cost")

        def store(conn: Any) -> dict[str, Any] | None:
            if user_store.get_user(conn, user_id) is None:
                return None
            quota_store.set_quota(conn, user_id, tokens, cost)
            return self._read(conn, user_id)

        found = await self.db.write(store)
        if found is None:
            raise ChatMoreError("NOT_FOUND", "no such user")
        return found

    async def get(self, user_id: int) -> dict[str, Any]:
        def read(conn: Any) -> dict[str, Any] | None:
            if user_store.get_user(conn, user_id) is None:
                return None
            return self._read(conn, user_id)

        found = await self.db.read(read)
        if found is None:
            raise ChatMoreError("NOT_FOUND", "no such user")
        return found
