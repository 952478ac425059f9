"""The columns of every DataFrame the notebook API returns, in order, with their kinds.

These are the contract with notebooks and the dashboard: a column's name, position and
dtype never depend on the data (see ``frames.py`` for the kinds).
"""

from __future__ import annotations

from .frames import Column, Schema

STATUSES = ("queued", "streaming", "succeeded", "failed", "cancelled")
MODES = ("broadcast", "single")
# Where a result came from (DESIGN §11): the server's list (server_ext/store/tables.py
# SOURCES), repeated because the kernel must not import the server (nor the server the
# kernel, whose package pulls in the widgets); tests/chatmore_kernel/test_frames.py
# keeps the two equal.
SOURCES = ("board", "ask", "gateway", "experiment", "judge", "import")

MODELS: Schema = (
    Column("id", "id"),
    Column("name", "str"),
    Column("provider", "str"),
    Column("upstream_model", "str"),
    Column("enabled", "bool"),
    # the circuit breaker: closed, half_open (one probe in flight) or open (refused)
    Column("circuit", "str"),
    Column("notes", "str"),
    Column("temperature", "float"),
    Column("top_p", "float"),
    Column("max_tokens", "int"),
    Column("timeout_ms", "int"),
    Column("input_price", "float"),
    Column("output_price", "float"),
    Column("currency", "str"),
)

CONVERSATIONS: Schema = (
    Column("id", "id"),
    Column("title", "str"),
    Column("windows", "int"),
    Column("models", "obj"),
    Column("tags", "obj"),
    Column("created_at", "time"),
    Column("last_message_at", "time"),
    Column("archived_at", "time"),
    Column("first_prompt", "str"),
)

# GET api/results, in the server's column order (server_ext/services/results.py).
RESULTS: Schema = (
    Column("result_id", "id"),
    Column("conversation_id", "id"),
    Column("conversation", "str"),
    Column("turn_id", "id"),
    # the turn a retry or an edited prompt replaced; null for any other turn
    Column("replaces_turn_id", "int"),
    Column("window_id", "id"),
    Column("window", "str"),
    Column("model_id", "id"),
    Column("model", "cat"),
    Column("params", "obj"),
    Column("mode", "cat", MODES),
    Column("source", "cat", SOURCES),
    Column("prompt", "str"),
    Column("reply", "str"),
    Column("status", "cat", STATUSES),
    Column("error_code", "cat"),
    Column("error_message", "str"),
    Column("finish_reason", "cat"),
    Column("prompt_tokens", "int"),
    Column("completion_tokens", "int"),
    Column("total_tokens", "int"),
    Column("ttft_ms", "int"),
    Column("latency_ms", "int"),
    Column("decode_ms", "int"),
    Column("tokens_per_second", "float"),
    Column("cost", "float"),
    Column("currency", "cat"),
    Column("experiment_id", "int"),
    Column("created_at", "time"),
    Column("started_at", "time"),
    Column("finished_at", "time"),
    Column("user_id", "id"),
)
# Left out by text=False (the server does not send them then).
TEXT_COLUMNS = frozenset({"conversation", "prompt", "reply", "error_message"})
RESULTS_NO_TEXT: Schema = tuple(c for c in RESULTS if c.name not in TEXT_COLUMNS)

TURNS: Schema = (
    Column("turn_id", "id"),
    Column("conversation_id", "id"),
    Column("replaces_turn_id", "int"),
    Column("prompt", "str"),
    Column("mode", "cat", MODES),
    Column("source", "cat", SOURCES),
    Column("windows", "int"),
    Column("succeeded", "int"),
    Column("failed", "int"),
    Column("cancelled", "int"),
    Column("created_at", "time"),
    Column("finished_at", "time"),
)

# GET api/stats/usage (keys of server_ext/services/stats.py); "day" only by day,
# "source" only by source (see usage_schema).
USAGE: Schema = (
    Column("model_id", "id"),
    Column("model_name", "cat"),
    Column("day", "time"),
    Column("source", "cat"),
    Column("calls", "int"),
    Column("succeeded", "int"),
    Column("failed", "int"),
    Column("cancelled", "int"),
    Column("success_rate", "float"),
    Column("latency_ms_avg", "float"),
    Column("latency_ms_p50", "float"),
    Column("latency_ms_p95", "float"),
    Column("ttft_ms_avg", "float"),
    Column("ttft_ms_p50", "float"),
    Column("ttft_ms_p95", "float"),
    Column("prompt_tokens", "int"),
    Column("completion_tokens", "int"),
    Column("total_tokens", "int"),
    Column("output_tokens_per_s", "float"),
    Column("cost", "float"),
    Column("currency", "str"),
)
USAGE_BY_MODEL: Schema = tuple(c for c in USAGE if c.name not in ("day", "source"))


def usage_schema(by_day: bool, by_source: bool) -> Schema:
    """The usage columns of a grouping: per model, and per day and/or source."""
    left_out = {name for name, kept in (("day", by_day), ("source", by_source)) if not kept}
    return tuple(c for c in USAGE if c.name not in left_out)


# GET api/search (server_ext/services/search.py); best hit first.
SEARCH_HITS: Schema = (
    Column("message_id", "id"),
    Column("kind", "cat", ("prompt", "reply")),
    Column("conversation_id", "id"),
    Column("conversation", "str"),
    Column("window_id", "id"),
    Column("window", "str"),
    Column("model", "cat"),
    Column("turn_id", "id"),
    Column("snippet", "str"),
    Column("score", "float"),
    Column("created_at", "time"),
)

# GET api/templates (server_ext/services/templates.py).
TEMPLATES: Schema = (
    Column("id", "id"),
    Column("name", "str"),
    Column("body", "str"),
    Column("variables", "obj"),
    Column("shared", "bool"),
    Column("mine", "bool"),
    Column("created_at", "time"),
    Column("updated_at", "time"),
)

# GET api/shares (server_ext/services/sharing.py); newest first, never a token.
SHARES: Schema = (
    Column("id", "id"),
    Column("conversation_id", "id"),
    Column("conversation_title", "str"),
    Column("active", "bool"),
    Column("created_at", "time"),
    Column("expires_at", "time"),
    Column("revoked_at", "time"),
)

# GET api/votes (server_ext/services/votes.py).
VOTES: Schema = (
    Column("vote_id", "id"),
    Column("turn_id", "id"),
    Column("conversation_id", "id"),
    Column("user_id", "id"),
    Column("outcome", "cat", ("best", "tie", "all_bad")),
    Column("winner_result_id", "int"),
    Column("result_ids", "obj"),
    Column("loser_result_ids", "obj"),
    Column("blind", "bool"),
    Column("created_at", "time"),
    Column("updated_at", "time"),
)

# GET api/leaderboard (server_ext/services/leaderboard.py); each scorer's mean score
# follows as a float column ``score_<scorer>``.
LEADERBOARD: Schema = (
    Column("group", "str"),
    Column("model", "cat"),
    Column("params", "obj"),
    Column("rating", "float"),
    Column("rating_low", "float"),
    Column("rating_high", "float"),
    Column("votes", "int"),
    Column("pairs", "int"),
    Column("calls", "int"),
    Column("succeeded", "int"),
    Column("failed", "int"),
    Column("cancelled", "int"),
    Column("success_rate", "float"),
    Column("latency_ms_p50", "float"),
    Column("latency_ms_p95", "float"),
    Column("ttft_ms_p50", "float"),
    Column("ttft_ms_p95", "float"),
    Column("output_tokens_per_s", "float"),
    Column("cost_per_1k", "float"),
)

# GET api/scores (server_ext/services/scoring.py).
SCORES: Schema = (
    Column("score_id", "id"),
    Column("result_id", "id"),
    Column("turn_id", "id"),
    Column("scorer", "cat"),
    Column("value", "float"),
    Column("passed", "bool"),
    Column("rationale", "str"),
    Column("judge_result_id", "int"),
    Column("created_at", "time"),
    Column("updated_at", "time"),
)
