"""The columns of every DataFrame the notebook API returns, in order, with their kinds.

These are the contract with notebooks and the dashboard: a column's name, position and
dtype never depend on the data (see ``frames.py`` for the kinds).
"""

from __future__ import annotations

from .frames import Column, Schema

STATUSES = ("queued", "streaming", "succeeded", "failed", "cancelled")
MODES = ("broadcast", "single")
SOURCES = ("board", "ask", "gateway", "experiment", "judge")  # DESIGN §11

MODELS: Schema = (
    Column("id", "id"),
    Column("name", "str"),
    Column("provider", "str"),
    Column("upstream_model", "str"),
    Column("enabled", "bool"),
    Column("notes", "str"),
    Column("temperature", "float"),
    Column("top_p", "float"),
    Column("max_tokens", "int"),
    Column("timeout_ms", "int"),
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
)

# GET api/results, in the server's column order (server_ext/services/results.py).
RESULTS: Schema = (
    Column("result_id", "id"),
    Column("conversation_id", "id"),
    Column("conversation", "str"),
    Column("turn_id", "id"),
    Column("window_id", "id"),
    Column("window", "str"),
    Column("model_id", "id"),
    Column("model", "cat"),
    Column("params", "obj"),
    Column("mode", "cat", MODES),
    Column("prompt", "str"),
    Column("reply", "str"),
    Column("status", "cat", STATUSES),
    Column("source", "cat", SOURCES),
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
    Column("prompt", "str"),
    Column("mode", "cat", MODES),
    Column("windows", "int"),
    Column("succeeded", "int"),
    Column("failed", "int"),
    Column("cancelled", "int"),
    Column("created_at", "time"),
    Column("finished_at", "time"),
)

# GET api/stats/usage (keys of server_ext/services/stats.py); "day" only by day.
USAGE: Schema = (
    Column("model_id", "id"),
    Column("model_name", "cat"),
    Column("day", "time"),
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
)
USAGE_BY_MODEL: Schema = tuple(c for c in USAGE if c.name != "day")

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
