"""``chatmore/api/search?q=…``: full-text search over the caller's prompts and replies."""

from __future__ import annotations

from ..services import schemas as s
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import Query, operation

PAGE = 20


class SearchHandler(ApiHandler):
    @operation(
        "Full-text search over the caller's prompts and replies, best hit first",
        access="user",
        answers={200: s.OPEN_OBJECT},
        query=(
            Query("q", {"type": "string"}, "words; word* matches word starts"),
            Query("scope", {"enum": ["mine", "all"]}, "all: admins only"),
            Query("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
            Query("offset", {"type": "integer", "minimum": 0, "maximum": 100_000}),
        ),
    )
    @authenticated()
    async def get(self) -> None:
        found = await self.runtime.search.search(
            self.user,
            self.get_query_argument("q", None),
            scope=self.get_query_argument("scope", "mine") or "mine",
            limit=self.query_int("limit", PAGE),
            offset=self.query_int("offset", 0),
        )
        self.send(found)
