"""``chatmore/api/stats/usage``: per-model (or per-model-and-day) usage figures.

A user sees their own turns; an admin may add ``scope=all`` for everyone's. The figures
and their exact definitions are in ``services/stats.py``.
"""

from __future__ import annotations

from ..errors import ChatMoreError, validation
from ..services.stats import parse_usage_query
from .auth_decorators import authenticated
from .base import ApiHandler


class UsageHandler(ApiHandler):
    @authenticated()
    async def get(self) -> None:
        args = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        scope = args.pop("scope", "") or "mine"
        if scope not in ("mine", "all"):
            raise validation("scope must be mine or all", field="scope")
        if scope == "all" and not self.user.is_admin:
            raise ChatMoreError("FORBIDDEN", "only admins see everyone's usage")
        query = parse_usage_query(args)
        rows = await self.runtime.stats.usage(
            start=query.start,
            end=query.end,
            model_id=query.model_id,
            user_id=None if scope == "all" else self.user.id,
            by_day=query.by_day,
            source=query.source,
        )
        self.send(
            {
                "from": query.start,
                "to": query.end,
                "group_by": "day" if query.by_day else "model",
                "scope": scope,
                "source": query.source,
                "usage": rows,
            }
        )
