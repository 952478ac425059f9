"""``chatmore/api/results``: every turn × window outcome, page by page, for analysis."""

from __future__ import annotations

from typing import Any

from ..errors import ChatMoreError, validation
from ..services import schemas as s
from ..services.query_args import parse_id, parse_range
from ..services.result_arrow import ARROW_STREAM, MAX_ARROW_PAGE
from ..services.results import MAX_PAGE
from ..store.results import ResultFilter
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import Query, operation, query_id

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
            after_id=self.query_int("after_id", 0),
            before_id=parse_id(args, "before_id"),
            conversation_id=parse_id(args, "conversation_id"),
            model_id=parse_id(args, "model_id"),
            experiment_id=parse_id(args, "experiment_id"),
            start=start,
            end=end,
        )


TIME = {"type": "string", "description": "ISO 8601 date or date-time, UTC by default"}


class ResultsHandler(_ResultsBase):
    @operation(
        "Every turn x window outcome, a columnar page in result-id order",
        access="user",
        answers={200: s.RESULTS_PAGE},
        description=f"With Accept: {ARROW_STREAM} the page is an Apache Arrow IPC stream.",
        query=(
            query_id("conversation_id"),
            query_id("model_id"),
            Query("from", TIME, "inclusive"),
            Query("to", TIME, "exclusive"),
            Query("after_id", {"type": "integer", "minimum": 0}, "the previous next_after_id"),
            query_id("before_id"),
            Query("scope", {"enum": ["mine", "all"]}, "all: admins only"),
            Query(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_ARROW_PAGE},
                f"at most {MAX_PAGE} for JSON, {MAX_ARROW_PAGE} for Arrow",
            ),
            Query("text", {"enum": ["true", "false"]}, "false leaves prompts and replies out"),
        ),
    )
    @authenticated()
    async def get(self) -> None:
        args = self.query_args(FILTERS | {"limit", "text"})
        text = (args.get("text") or "true").lower()
        if text not in ("true", "false"):
            raise validation("text must be true or false", field="text")
        # Arrow when the client asks for it (content negotiation); JSON otherwise.
        arrow = ARROW_STREAM in self.request.headers.get("Accept", "")
        page = self.runtime.results.page_arrow if arrow else self.runtime.results.page_json
        limit = self.query_int("limit", 5000)
        if not arrow and limit > MAX_PAGE:
            raise validation(f"limit must be between 1 and {MAX_PAGE}", field="limit")
        body = await page(
            self.result_filter(args),
            limit=limit,
            with_text=text == "true",
        )
        if arrow:
            self.set_header("Content-Type", ARROW_STREAM)
        self.finish(body)
