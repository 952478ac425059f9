"""``chatmore/api/votes``: votes on the caller's turns (DESIGN §13)."""

from __future__ import annotations

from .auth_decorators import authenticated
from .base import ApiHandler


class VotesHandler(ApiHandler):
    @authenticated()
    async def get(self) -> None:
        args = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        self.send(await self.runtime.votes.list(self.user, args))

    @authenticated()
    async def post(self) -> None:
        vote, new = await self.runtime.votes.cast(self.user, self.json_body())
        self.send(vote, status=201 if new else 200)


class VoteHandler(ApiHandler):
    @authenticated()
    async def get(self, vote_id: str) -> None:
        self.send(await self.runtime.votes.get(self.user, int(vote_id)))

    @authenticated()
    async def put(self, vote_id: str) -> None:
        self.send(await self.runtime.votes.change(self.user, int(vote_id), self.json_body()))

    @authenticated()
    async def delete(self, vote_id: str) -> None:
        await self.runtime.votes.delete(self.user, int(vote_id))
        self.set_status(204)
        self.finish()
