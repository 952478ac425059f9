"""``chatmore/api/experiments``: create, list, read, cancel and resume experiments, and
read their cells and cases page by page."""

from __future__ import annotations

from ..services import schemas as s
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import Query, operation

PAGE = 50
CELL_PAGE = 5000
MAX_CELL_PAGE = 10_000

_FOUND = "EXPERIMENT_NOT_FOUND"
_PAGE_QUERY = (Query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_CELL_PAGE}),)


class ExperimentsHandler(ApiHandler):
    @operation(
        "The caller's experiments, newest first",
        access="user",
        answers={200: s.EXPERIMENT_PAGE},
        query=(
            Query("before_id", {"type": "integer", "minimum": 0}, "the previous page's last"),
            Query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
        ),
    )
    @authenticated()
    async def get(self) -> None:
        before = self.query_int("before_id", 0)
        page = await self.runtime.experiments.list(
            self.user, before_id=before or None, limit=self.query_int("limit", PAGE)
        )
        self.send(page)

    @operation(
        "Run prompts (or a stored conversation's prompts) across windows x samples",
        access="user",
        body=s.EXPERIMENT_CREATE,
        answers={201: s.EXPERIMENT},
    )
    @authenticated()
    async def post(self) -> None:
        self.send(await self.runtime.experiments.create(self.user, self.json_body()), status=201)


class ExperimentHandler(ApiHandler):
    @operation(
        "An experiment with its progress", access="user", answers={200: s.EXPERIMENT},
        not_found=_FOUND,
    )  # fmt: skip
    @authenticated()
    async def get(self, experiment_id: int) -> None:
        self.send(await self.runtime.experiments.get(self.user, experiment_id))


class ExperimentCancelHandler(ApiHandler):
    @operation(
        "Stop an experiment; what finished is kept", access="user",
        answers={200: s.EXPERIMENT}, not_found=_FOUND,
    )  # fmt: skip
    @authenticated()
    async def post(self, experiment_id: int) -> None:
        self.send(await self.runtime.experiments.cancel(self.user, experiment_id))


class ExperimentResumeHandler(ApiHandler):
    @operation(
        "Run again what has not succeeded", access="user",
        answers={200: s.EXPERIMENT}, not_found=_FOUND,
    )  # fmt: skip
    @authenticated()
    async def post(self, experiment_id: int) -> None:
        self.send(await self.runtime.experiments.resume(self.user, experiment_id))


class ExperimentResultsHandler(ApiHandler):
    @operation(
        "A page of the experiment's results (columns), in id order",
        access="user",
        answers={200: s.COLUMN_PAGE},
        query=(Query("after_id", {"type": "integer", "minimum": 0}), *_PAGE_QUERY),
        not_found=_FOUND,
    )
    @authenticated()
    async def get(self, experiment_id: int) -> None:
        page = await self.runtime.experiments.cells(
            self.user,
            experiment_id,
            after_id=self.query_int("after_id", 0),
            limit=self.query_int("limit", CELL_PAGE),
        )
        self.send(page)


class ExperimentCasesHandler(ApiHandler):
    @operation(
        "A page of the experiment's cases (prompt and inputs), in order",
        access="user",
        answers={200: s.OPEN_OBJECT},
        query=(Query("after", {"type": "integer", "minimum": -1}), *_PAGE_QUERY),
        not_found=_FOUND,
    )
    @authenticated()
    async def get(self, experiment_id: int) -> None:
        page = await self.runtime.experiments.cases(
            self.user,
            experiment_id,
            after=self.query_int("after", -1),
            limit=self.query_int("limit", CELL_PAGE),
        )
        self.send(page)
