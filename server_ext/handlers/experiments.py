"""``chatmore/api/experiments``: create, list, read, cancel and resume experiments, and
read their cells and cases page by page."""

from __future__ import annotations

from .auth_decorators import authenticated
from .base import ApiHandler

PAGE = 50
CELL_PAGE = 5000
MAX_CELL_PAGE = 10_000


class ExperimentsHandler(ApiHandler):
    @authenticated()
    async def get(self) -> None:
        before = self.query_int("before_id", 0, lo=0)
        page = await self.runtime.experiments.list(
            self.user, before_id=before or None, limit=self.query_int("limit", PAGE, lo=1, hi=200)
        )
        self.send(page)

    @authenticated()
    async def post(self) -> None:
        self.send(await self.runtime.experiments.create(self.user, self.json_body()), status=201)


class ExperimentHandler(ApiHandler):
    @authenticated()
    async def get(self, experiment_id: str) -> None:
        self.send(await self.runtime.experiments.get(self.user, int(experiment_id)))


class ExperimentCancelHandler(ApiHandler):
    @authenticated()
    async def post(self, experiment_id: str) -> None:
        self.send(await self.runtime.experiments.cancel(self.user, int(experiment_id)))


class ExperimentResumeHandler(ApiHandler):
    @authenticated()
    async def post(self, experiment_id: str) -> None:
        self.send(await self.runtime.experiments.resume(self.user, int(experiment_id)))


class ExperimentResultsHandler(ApiHandler):
    @authenticated()
    async def get(self, experiment_id: str) -> None:
        page = await self.runtime.experiments.cells(
            self.user,
            int(experiment_id),
            after_id=self.query_int("after_id", 0, lo=0),
            limit=self.query_int("limit", CELL_PAGE, lo=1, hi=MAX_CELL_PAGE),
        )
        self.send(page)


class ExperimentCasesHandler(ApiHandler):
    @authenticated()
    async def get(self, experiment_id: str) -> None:
        page = await self.runtime.experiments.cases(
            self.user,
            int(experiment_id),
            after=self.query_int("after", -1, lo=-1),
            limit=self.query_int("limit", CELL_PAGE, lo=1, hi=MAX_CELL_PAGE),
        )
        self.send(page)
