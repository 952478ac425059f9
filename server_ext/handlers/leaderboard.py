"""``chatmore/api/leaderboard``: ratings from votes joined with scores, success rate,
latency, TTFT, tokens/s and cost (the figures: ``services/leaderboard.py``)."""

from __future__ import annotations

from .auth_decorators import authenticated
from .base import ApiHandler


class LeaderboardHandler(ApiHandler):
    @authenticated()
    async def get(self) -> None:
        args = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        self.send(await self.runtime.leaderboard.board(self.user, args))
