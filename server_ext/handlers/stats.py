"""``chatmore/api/stats/usage``: per-model (or per-model-and-day) usage figures.

A user sees their own turns; an admin may add ``scope=all`` for everyone's. The figures
and their exact definitions are in ``services/stats.py``.
"""

from __future__ import annotations

from ..errors import ChatMoreError, validation
from ..services import schemas as s
from ..services import stats
from ..services.stats import parse_usage_query
from ..store.tables import SOURCES
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import Query, operation, query_id

TIME = {"type": "string", "description": "ISO 8601 date or date-time, UTC by default"}


class UsageHandler(ApiHandler):
    @operation(
        "Usage per model (or per model and day, and/or source)",
        access="user",
        answers={200: s.USAGE},
        query=(
            Query("from", TIME, "inclusive"),
            Query("to", TIME, "exclusive"),
            query_id("model_id"),
            Query("source", {"enum": list(SOURCES)}, "where the calls came from"),
            Query("group_by", {"enum": list(stats.GROUP_BY)}),
            Query("scope", {"enum": ["mine", "all"]}, "all: admins only"),
        ),
    )
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
            by_source=query.by_source,
        )
        self.send(
            {
                "from": query.start,
                "to": query.end,
                "group_by": ",".join(
                    name
                    for name, wanted in (("day", query.by_day), ("source", query.by_source))
                    if wanted
                )
                or "model",
                "source": query.source,
                "scope": scope,
                "usage": rows,
            }
        )
