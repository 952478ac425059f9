"""``chatmore/api/results``: every turn × window outcome, page by page, for analysis."""

from __future__ import annotations

from typing import Any

from ..errors import ChatMoreError, validation
from ..services.query_args import parse_id, parse_range
from ..services.results import MAX_PAGE
from ..store.results import ResultFilter
from .auth_decorators import authenticated
from .base import ApiHandler

FILTERS = {
    "conversation_id",
    "model_id",
    "experiment_id",
    "from",
    "to",
    "after_id",
    "before_id",
    "scope",
}


class _ResultsBase(ApiHandler):
    def query_args(self, allowed: set[str]) -> dict[str, str]:
        args = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        unknown = sorted(set(args) - allowed)
        if unknown:
            raise validation(f"unknown parameter {unknown[0]!r}", field=unknown[0])
        return args

    def result_filter(self, args: dict[str, Any]) -> ResultFilter:
        scope = args.get("scope") or "mine"
        if scope not in ("mine", "all"):
            raise validation("scope must be mine or all", field="scope")
        if scope == "all" and not self.user.is_admin:
            raise ChatMoreError("FORBIDDEN", "only admins read everyone's results")
        start, end = parse_range(args)
        return ResultFilter(
            user_id=None if scope == "all" else self.user.id,
            after_id=self.query_int("after_id", 0, lo=0),
            before_id=parse_id(args, "before_id"),
            conversation_id=parse_id(args, "conversation_id"),
            model_id=parse_id(args, "model_id"),
            experiment_id=parse_id(args, "experiment_id"),
            start=start,
            end=end,
        )


class ResultsHandler(_ResultsBase):
    @authenticated()
    async def get(self) -> None:
        args = self.query_args(FILTERS | {"limit", "text"})
        text = (args.get("text") or "true").lower()
        if text not in ("true", "false"):
            raise validation("text must be true or false", field="text")
        body = await self.runtime.results.page_json(
            self.result_filter(args),
            limit=self.query_int("limit", 5000, lo=1, hi=MAX_PAGE),
            with_text=text == "true",
        )
        self.finish(body)
