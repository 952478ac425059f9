"""``chatmore/api/scores``: scores on the caller's results, stored, run and listed (the
contract: ``services/scoring.py``)."""

from __future__ import annotations

from .auth_decorators import authenticated
from .base import ApiHandler


class ScoresHandler(ApiHandler):
    @authenticated()
    async def get(self) -> None:
        args = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        self.send(await self.runtime.scores.list(self.user, args))

    @authenticated()
    async def post(self) -> None:
        self.send(await self.runtime.scores.post(self.user, self.json_body()), status=201)


class ScoreRunHandler(ApiHandler):
    @authenticated()
    async def post(self) -> None:
        self.send(await self.runtime.scores.run(self.user, self.json_body()))
