"""``chatmore/api/search?q=…``: full-text search over the caller's prompts and replies."""

from __future__ import annotations

from .auth_decorators import authenticated
from .base import ApiHandler

PAGE = 20


class SearchHandler(ApiHandler):
    @authenticated()
    async def get(self) -> None:
        found = await self.runtime.search.search(
            self.user,
            self.get_query_argument("q", None),
            scope=self.get_query_argument("scope", "mine") or "mine",
            limit=self.query_int("limit", PAGE, lo=1, hi=100),
            offset=self.query_int("offset", 0, lo=0),
        )
        self.send(found)
