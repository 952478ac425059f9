"""The HTTP layer: parse, authorise, call one service, shape the answer.

:func:`routes` lists every ChatMore route relative to the server's base URL.
"""

from __future__ import annotations

from typing import Any

from . import (
    api_keys,
    auth,
    conversations,
    experiments,
    gateway,
    leaderboard,
    models,
    prometheus,
    quotas,
    results,
    scores,
    search,
    sharing,
    stats,
    streams,
    templates,
    transfer,
    users,
    votes,
)
from .base import NotFoundHandler
from .health import HealthHandler
from .openapi import OpenApiHandler

PREFIX = "chatmore"
ID = r"(\d+)"
DEMO_PREFIX = f"/{PREFIX}/demo"


def routes(*, demo: bool = False) -> list[tuple[str, type, dict[str, Any]] | tuple[str, type]]:
    """(pattern, handler) pairs, patterns relative to the base URL. ``demo`` mounts the
    built-in demo provider at ``chatmore/demo/v1``."""
    table: list[tuple[str, type]] = [
        ("healthz", HealthHandler),
        (r"openapi\.json", OpenApiHandler),
        ("auth/register", auth.RegisterHandler),
        ("auth/login", auth.LoginHandler),
        ("auth/refresh", auth.RefreshHandler),
        ("auth/logout", auth.LogoutHandler),
        ("auth/logout-all", auth.LogoutAllHandler),
        ("auth/me", auth.MeHandler),
        ("auth/change-password", auth.ChangePasswordHandler),
        ("streams/ticket", streams.TicketHandler),
        (r"streams/turn/(\d+)", streams.TurnStreamHandler),
        ("api/conversations", conversations.ConversationsHandler),
        (r"api/conversations/(\d+)", conversations.ConversationHandler),
        (r"api/conversations/(\d+)/messages", conversations.MessagesHandler),
        (r"api/conversations/(\d+)/windows", conversations.WindowsHandler),
        (r"api/conversations/(\d+)/export", transfer.ExportHandler),
        ("api/conversations/import", transfer.ImportHandler),
        (r"api/conversations/(\d+)/shares", sharing.ConversationSharesHandler),
        ("api/shares", sharing.SharesHandler),
        (r"api/shares/(\d+)", sharing.ShareHandler),
        ("share", sharing.SharePageHandler),
        ("api/templates", templates.TemplatesHandler),
        (r"api/templates/(\d+)", templates.TemplateHandler),
        (r"api/templates/(\d+)/render", templates.TemplateRenderHandler),
        (r"api/turns/(\d+)", conversations.TurnHandler),
        (r"api/turns/(\d+)/cancel", conversations.TurnCancelHandler),
        ("api/results", results.ResultsHandler),
        ("api/experiments", experiments.ExperimentsHandler),
        (r"api/experiments/(\d+)", experiments.ExperimentHandler),
        (r"api/experiments/(\d+)/cancel", experiments.ExperimentCancelHandler),
        (r"api/experiments/(\d+)/resume", experiments.ExperimentResumeHandler),
        (r"api/experiments/(\d+)/results", experiments.ExperimentResultsHandler),
        (r"api/experiments/(\d+)/cases", experiments.ExperimentCasesHandler),
        ("api/stats/usage", stats.UsageHandler),
        ("api/search", search.SearchHandler),
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
        (r"api/users/(\d+)/limits", users.UserLimitsHandler),
        ("api/keys", api_keys.ApiKeysHandler),
        (r"api/keys/(\d+)", api_keys.ApiKeyHandler),
        ("v1/models", gateway.ModelsHandler),
        ("v1/chat/completions", gateway.ChatCompletionsHandler),
        ("v1/.*", gateway.NotFoundHandler),
        (r"api/users/(\d+)/quota", quotas.UserQuotaHandler),
    ]
    mounted: list = [
        (f"/{PREFIX}/{path}", handler, {"route": f"/{PREFIX}/{path.replace(ID, '{id}')}"})
        for path, handler in table
    ]
    if demo:
        from ..demo_provider import routes as demo_routes

        mounted += demo_routes(DEMO_PREFIX)
    return [*mounted, (f"/{PREFIX}/.*", NotFoundHandler, {"route": "unmatched"})]
