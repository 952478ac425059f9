"""``chatmore/api/votes``: votes on the caller's turns (DESIGN §13)."""

from __future__ import annotations

from ..services import schemas as s
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import operation


class VotesHandler(ApiHandler):
    @operation(
        "The caller's votes (admins: everyone's with scope=all)",
        access="user",
        answers={200: s.OPEN_OBJECT},
    )
    @authenticated()
    async def get(self) -> None:
        args = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        self.send(await self.runtime.votes.list(self.user, args))

    @operation(
        "Vote on a turn: its best result, a tie, or all bad (again: changes it)",
        access="user",
        body=s.OPEN_OBJECT,
        answers={201: s.OPEN_OBJECT, 200: s.OPEN_OBJECT},
    )
    @authenticated()
    async def post(self) -> None:
        vote, new = await self.runtime.votes.cast(self.user, self.json_body())
        self.send(vote, status=201 if new else 200)


class VoteHandler(ApiHandler):
    @operation(
        "A vote",
        access="user",
        answers={200: s.OPEN_OBJECT},
        not_found="VOTE_NOT_FOUND",
    )
    @authenticated()
    async def get(self, vote_id: int) -> None:
        self.send(await self.runtime.votes.get(self.user, vote_id))

    @operation(
        "Change a vote",
        access="user",
        body=s.OPEN_OBJECT,
        answers={200: s.OPEN_OBJECT},
        not_found="VOTE_NOT_FOUND",
    )
    @authenticated()
    async def put(self, vote_id: int) -> None:
        self.send(await self.runtime.votes.change(self.user, vote_id, self.json_body()))

    @operation(
        "Take a vote back",
        access="user",
        answers={204: "none"},
        not_found="VOTE_NOT_FOUND",
    )
    @authenticated()
    async def delete(self, vote_id: int) -> None:
        await self.runtime.votes.delete(self.user, vote_id)
        self.set_status(204)
        self.finish()
