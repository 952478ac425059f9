"""``chatmore/api/leaderboard``: ratings from votes joined with scores, success rate,
latency, TTFT, tokens/s and cost (the figures: ``services/leaderboard.py``)."""

from __future__ import annotations

from ..services import schemas as s
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import operation


class LeaderboardHandler(ApiHandler):
    @operation(
        "Per model: Bradley-Terry rating with its interval, scores, success rate, latency, cost",
        access="user",
        answers={200: s.OPEN_OBJECT},
    )
    @authenticated()
    async def get(self) -> None:
        args = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        self.send(await self.runtime.leaderboard.board(self.user, args))
