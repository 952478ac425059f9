"""``chatmore/api/scores``: scores on the caller's results, stored, run and listed (the
contract: ``services/scoring.py``)."""

from __future__ import annotations

from ..services import schemas as s
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import operation


class ScoresHandler(ApiHandler):
    @operation(
        "Scores of the caller's results",
        access="user",
        answers={200: s.OPEN_OBJECT},
    )
    @authenticated()
    async def get(self) -> None:
        args = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        self.send(await self.runtime.scores.list(self.user, args))

    @operation(
        "Store scores computed elsewhere (a Python scorer in the kernel)",
        access="user",
        body=s.OPEN_OBJECT,
        answers={201: s.OPEN_OBJECT},
    )
    @authenticated()
    async def post(self) -> None:
        self.send(await self.runtime.scores.post(self.user, self.json_body()), status=201)


class ScoreRunHandler(ApiHandler):
    @operation(
        "Run a built-in scorer or an LLM judge on results",
        access="user",
        body=s.OPEN_OBJECT,
        answers={200: s.OPEN_OBJECT},
    )
    @authenticated()
    async def post(self) -> None:
        self.send(await self.runtime.scores.run(self.user, self.json_body()))
