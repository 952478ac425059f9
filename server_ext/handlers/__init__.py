"""The HTTP layer: parse, authorise, call one service, shape the answer.

:func:`routes` lists every ChatMore route relative to the server's base URL.
"""

from __future__ import annotations

from typing import Any

from . import (
    auth,
    conversations,
    leaderboard,
    models,
    prometheus,
    results,
    scores,
    stats,
    streams,
    users,
    votes,
)
from .base import NotFoundHandler
from .health import HealthHandler

PREFIX = "chatmore"
ID = r"(\d+)"
DEMO_PREFIX = f"/{PREFIX}/demo"


def routes(*, demo: bool = False) -> list[tuple[str, type, dict[str, Any]] | tuple[str, type]]:
    """(pattern, handler) pairs, patterns relative to the base URL. ``demo`` mounts the
    built-in demo provider at ``chatmore/demo/v1``."""
    table: list[tuple[str, type]] = [
        ("healthz", HealthHandler),
        ("auth/register", auth.RegisterHandler),
        ("auth/login", auth.LoginHandler),
        ("auth/refresh", auth.RefreshHandler),
        ("auth/logout", auth.LogoutHandler),
        ("auth/me", auth.MeHandler),
        ("auth/change-password", auth.ChangePasswordHandler),
        ("streams/ticket", streams.TicketHandler),
        (r"streams/turn/(\d+)", streams.TurnStreamHandler),
        ("api/conversations", conversations.ConversationsHandler),
        (r"api/conversations/(\d+)", conversations.ConversationHandler),
        (r"api/conversations/(\d+)/messages", conversations.MessagesHandler),
        (r"api/turns/(\d+)", conversations.TurnHandler),
        (r"api/turns/(\d+)/cancel", conversations.TurnCancelHandler),
        ("api/results", results.ResultsHandler),
        ("api/stats/usage", stats.UsageHandler),
        ("api/votes", votes.VotesHandler),
        (r"api/votes/(\d+)", votes.VoteHandler),
        ("api/leaderboard", leaderboard.LeaderboardHandler),
        ("api/scores", scores.ScoresHandler),
        ("api/scores/run", scores.ScoreRunHandler),
        ("api/models", models.ModelsHandler),
        (r"api/models/(\d+)", models.ModelHandler),
        (r"api/models/(\d+)/test", models.ModelTestHandler),
        ("metrics", prometheus.MetricsHandler),
        ("api/users", users.UsersHandler),
        (r"api/users/(\d+)", users.UserHandler),
    ]
    mounted: list = [
        (f"/{PREFIX}/{path}", handler, {"route": f"/{PREFIX}/{path.replace(ID, '{id}')}"})
        for path, handler in table
    ]
    if demo:
        from ..demo_provider import routes as demo_routes

        mounted += demo_routes(DEMO_PREFIX)
    return [*mounted, (f"/{PREFIX}/.*", NotFoundHandler, {"route": "unmatched"})]
