"""Every table of ChatMore, declared once with SQLAlchemy Core.

SQLite is the embedded default and MySQL 8 / MariaDB the production database; where
they differ it is written inline with ``with_variant``. Times are naive UTC. The Alembic
migrations create exactly these tables (a test compares them), and ``schema/mysql.sql``
is this module rendered for MySQL (``chatmore db ddl``).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql

_MYSQL = ("mysql", "mariadb")

# SQLite only auto-increments an INTEGER PRIMARY KEY; MySQL gets BIGINT.
Id = BigInteger().with_variant(Integer(), "sqlite")
# Millisecond-precise times on MySQL (DATETIME alone drops fractions).
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), *_MYSQL)
# Prompts and replies can exceed MySQL's 64 KiB TEXT.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), *_MYSQL)
# Packed values of a day's results (store/usage_days.py): beyond MySQL's 64 KiB BLOB.
LongBlob = LargeBinary().with_variant(mysql.LONGBLOB(), *_MYSQL)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_MYSQL_TABLE = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def _table(name: str, *items: Column | Index | UniqueConstraint) -> Table:
    return Table(name, metadata, *items, **_MYSQL_TABLE)


def _ref(column: str, *, ondelete: str = "CASCADE") -> ForeignKey:
    return ForeignKey(column, ondelete=ondelete)


users = _table(
    "users",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("password_hash", String(100), nullable=False),
    Column("role", String(16), nullable=False, server_default="user"),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    Column("locked_until", Timestamp),
    Column("is_active", Boolean, nullable=False, server_default="1"),
    Column("last_login_at", Timestamp),
    # Access tokens and tickets issued before this time are refused (a password change,
    # a deactivation, "log out everywhere").
    Column("tokens_valid_after", Timestamp),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

refresh_tokens = _table(
    "refresh_tokens",
    Column("jti", String(64), primary_key=True),
    Column("user_id", Id, _ref("users.id"), nullable=False),
    Column("family_id", String(64), nullable=False),
    Column("issued_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp),
    Column("replaced_by", String(64)),
    Column("user_agent", String(300)),
    Column("ip", String(64)),
    Index(None, "user_id", "revoked_at"),
    Index(None, "family_id"),
)

models = _table(
    "models",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("provider_name", String(100), nullable=False, server_default=""),
    Column("base_url", String(1000), nullable=False),
    Column("upstream_model", String(200), nullable=False),
    # "<kid>:<base64 nonce+ciphertext>", see security/secret_box.py; never sent to clients.
    Column("api_key_enc", Text),
    # The last four characters, shown in place of the key.
    Column("api_key_hint", String(8)),
    Column("default_params", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("notes", Text),
    # Prices per million tokens, set together with their currency (ISO 4217) or not at
    # all: a model without prices has no cost (services/pricing.py).
    Column("input_price", Double),
    Column("output_price", Double),
    Column("price_currency", String(3)),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

conversations = _table(
    "conversations",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, _ref("users.id"), nullable=False),
    Column("title", String(300), nullable=False, server_default=""),
    Column("tags", JSON, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("system_prompt", LongText),
    Column("archived_at", Timestamp),
    Column("last_message_at", Timestamp, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    # a user's conversations, most recently active first
    Index(None, "user_id", "last_message_at", "id"),
)

windows = _table(
    "windows",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, _ref("conversations.id"), nullable=False),
    Column("model_id", Id, _ref("models.id", ondelete="RESTRICT"), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("params", JSON, nullable=False),
    Column("system_prompt", LongText),
    Column("sort_order", Integer, nullable=False, server_default="0"),
    Column("created_at", Timestamp, nullable=False),
    Index(None, "conversation_id", "sort_order"),
)

turns = _table(
    "turns",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, _ref("conversations.id"), nullable=False),
    Column("user_id", Id, _ref("users.id"), nullable=False),
    Column("mode", String(16), nullable=False),  # broadcast | single
    Column("input_text", LongText, nullable=False),
    Column("status", String(16), nullable=False),  # running | done
    # A gateway call's personal API key (api_keys.id; keys are revoked, never deleted)
    # and its request body as the client sent it.
    Column("api_key_id", Id),
    Column("request", JSON),
    # A retry or an edited prompt: the earlier turn this one replaces in its windows.
    # The replaced turn stays stored and shown, but leaves those windows' chains.
    Column("replaces_turn_id", Id, _ref("turns.id", ondelete="SET NULL")),
    Column("created_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp),
    Index(None, "conversation_id", "id"),
    Index(None, "user_id", "created_at"),
    # a key's calls of the last minute (its rate limits)
    Index(None, "api_key_id", "created_at"),
    # the turns that replace a turn (a window's chain leaves those out)
    Index(None, "replaces_turn_id"),
)

# Where a result's call came from (DESIGN §11), and "import": a result copied in from an
# exported conversation (services/transfer.py), made by no call here. A client may name
# only the first two.
SOURCES = ("board", "ask", "gateway", "experiment", "judge", "import")
CLIENT_SOURCES = ("board", "ask")

turn_results = _table(
    "turn_results",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("turn_id", Id, _ref("turns.id"), nullable=False),
    Column("window_id", Id, _ref("windows.id"), nullable=False),
    Column("model_id", Id, _ref("models.id", ondelete="RESTRICT"), nullable=False),
    # The turn's owner again, so that per-user statistics need no join.
    Column("user_id", Id, _ref("users.id"), nullable=False),
    # queued | streaming | succeeded | failed | cancelled
    Column("status", String(16), nullable=False),
    Column("error_code", String(64)),
    Column("error_message", String(500)),
    Column("finish_reason", String(32)),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("total_tokens", Integer),
    Column("ttft_ms", Integer),
    Column("latency_ms", Integer),
    # Time from the first to the last streamed delta: the denominator of tokens/second.
    Column("decode_ms", Integer),
    # The SSE events this result produced, for an exact replay: see streaming/replay.py.
    Column("event_log", JSON),
    # Where the call came from: one of SOURCES.
    Column("source", String(16), nullable=False, server_default="board"),
    # The server process running it while queued or streaming (server_processes.id);
    # only that process writes it until it ends, or until its lease runs out.
    Column("runner", String(64)),
    # What the call cost, from its usage and its model's prices when it ended, in the
    # model's currency; null when the model has no prices or the usage is unknown.
    Column("cost", Double),
    # The experiment this result is a cell of (source "experiment").
    Column("experiment_id", Id, _ref("experiments.id")),
    # The tool calls of a reply (the gateway passes them through), as OpenAI shapes them.
    Column("tool_calls", JSON),
    Column("created_at", Timestamp, nullable=False),
    Column("started_at", Timestamp),
    Column("finished_at", Timestamp),
    UniqueConstraint("turn_id", "window_id"),
    # an experiment's cells page by page, and its progress
    Index(None, "experiment_id", "id"),
    # statistics: by model and time, and by user and time
    Index(None, "model_id", "created_at"),
    Index(None, "user_id", "created_at", "model_id"),
    # a user's results page by page, in id order (api/results)
    Index(None, "user_id", "id"),
    # Usage statistics answered from the index alone (store/stats.py; bench/README.md):
    # totals and latency histograms, then TTFT histograms. They also serve the lookups
    # by status (results left streaming after a crash).
    Index(
        "ix_turn_results_stats_latency",
        "status",
        "model_id",
        "latency_ms",
        "created_at",
        "user_id",
        "ttft_ms",
        "decode_ms",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
    ),
    Index("ix_turn_results_stats_ttft", "status", "model_id", "ttft_ms", "created_at", "user_id"),
)

messages = _table(
    "messages",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, _ref("conversations.id"), nullable=False),
    Column("window_id", Id, _ref("windows.id"), nullable=False),
    Column("turn_id", Id, _ref("turns.id")),
    Column("role", String(16), nullable=False),  # system | user | assistant
    Column("content", LongText, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    # a window's chain, in order
    Index(None, "window_id", "id"),
    Index(None, "turn_id", "window_id"),
)

# Full-text search over messages.content is an index of the database's own, created by
# migration 0009 and queried in store/search.py: FTS5 on SQLite, FULLTEXT on MySQL.

# Read-only links to one conversation, opened without signing in (services/sharing.py).
# Only the token's SHA-256 is kept; a link works until it is revoked or expires.
share_links = _table(
    "share_links",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, _ref("conversations.id"), nullable=False),
    Column("user_id", Id, _ref("users.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp),
    Column("revoked_at", Timestamp),
    Index(None, "user_id", "created_at"),
    Index(None, "conversation_id"),
)

# Named system prompts with {variables}: a user's own, or shared with everyone by an admin
# (services/templates.py).
prompt_templates = _table(
    "prompt_templates",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, _ref("users.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("body", LongText, nullable=False),
    Column("shared", Boolean, nullable=False, server_default="0"),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("user_id", "name"),
    Index(None, "shared"),
)

# A user's own monthly budgets (services/quotas.py); without a row, or with a NULL, the
# default settings apply; 0 means no limit.
user_quotas = _table(
    "user_quotas",
    Column("user_id", Id, _ref("users.id"), primary_key=True),
    Column("monthly_tokens", BigInteger),
    Column("monthly_cost", Double),
    Column("updated_at", Timestamp, nullable=False),
)

# Every running server process with its lease (DESIGN §8 "Ownership and several
# processes"): renewed by a heartbeat; a process whose lease ran out has stopped, and any
# other process may mark the results it left running as INTERRUPTED.
server_processes = _table(
    "server_processes",
    Column("id", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", Timestamp, nullable=False),
    Column("heartbeat_at", Timestamp, nullable=False),
    Column("lease_until", Timestamp, nullable=False),
    Index(None, "lease_until"),
)

# Stream tickets already redeemed, so that one works once across every process; kept
# until they expire.
used_tickets = _table(
    "used_tickets",
    Column("jti", String(64), primary_key=True),
    Column("expires_at", Timestamp, nullable=False),
    Index(None, "expires_at"),
)

# Usage statistics folded in from final results, per user, model, UTC day (of created_at)
# and source, so that statistics over a million results read thousands of rows
# (store/usage_days.py). Counts and sums per day, and the exact values of latency_ms and
# ttft_ms of the succeeded results (little-endian int32, in no order), from which
# percentiles are exact. Sums are NULL while no folded result reported them.
usage_days = _table(
    "usage_days",
    Column("user_id", Id, _ref("users.id"), primary_key=True),
    Column("model_id", Id, _ref("models.id", ondelete="RESTRICT"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("source", String(16), primary_key=True),
    Column("succeeded", Integer, nullable=False, server_default="0"),
    Column("failed", Integer, nullable=False, server_default="0"),
    Column("cancelled", Integer, nullable=False, server_default="0"),
    Column("prompt_tokens", BigInteger),
    Column("completion_tokens", BigInteger),
    Column("total_tokens", BigInteger),
    # Over the succeeded results with decode_ms > 0 and completion_tokens: tokens/second.
    Column("rate_tokens", BigInteger),
    Column("rate_ms", BigInteger),
    # The summed cost of the results that had one (DESIGN §10); NULL while none had.
    Column("cost", Double),
    Column("latency_values", LongBlob, nullable=False),
    Column("ttft_values", LongBlob, nullable=False),
)

# How far usage_days has folded turn_results: every result with an id up to
# ``folded_through`` is in usage_days, except those in usage_pending (one row, id 1).
usage_fold = _table(
    "usage_fold",
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("folded_through", Id, nullable=False),
)

# Results at or below the fold mark that were still queued or streaming when it passed
# them: folded once they end.
usage_pending = _table(
    "usage_pending",
    Column("result_id", Id, primary_key=True, autoincrement=False),
)

# An experiment (DESIGN §13): its cases × the windows of its own conversation × samples,
# run in the server. Each case and sample is one turn of that conversation (linked in
# experiment_turns), and each of its windows one result with source "experiment".
experiments = _table(
    "experiments",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, _ref("users.id"), nullable=False),
    # Holds the windows and the turns; hidden from the conversation list.
    Column("conversation_id", Id, _ref("conversations.id"), nullable=False, unique=True),
    Column("name", String(300), nullable=False, server_default=""),
    Column("kind", String(16), nullable=False),  # prompts | replay
    # running | cancelled | finished | interrupted
    Column("status", String(16), nullable=False),
    Column("samples", Integer, nullable=False),
    Column("concurrency", Integer, nullable=False),
    Column("template", LongText),
    # replay: the conversation whose prompts are re-sent
    Column("source_conversation_id", Id, _ref("conversations.id", ondelete="SET NULL")),
    # The server process running it (server_processes.id): when that process stops,
    # any other marks the experiment interrupted (resumable).
    Column("runner", String(64)),
    Column("created_at", Timestamp, nullable=False),
    Column("started_at", Timestamp),
    Column("finished_at", Timestamp),
    # a user's experiments, newest first
    Index(None, "user_id", "id"),
)

# The prompts of an experiment, in order, with the inputs they were made from.
experiment_cases = _table(
    "experiment_cases",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("experiment_id", Id, _ref("experiments.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("prompt", LongText, nullable=False),
    Column("inputs", JSON, nullable=False),
    UniqueConstraint("experiment_id", "position"),
)

# Which turn runs a case's sample: one at most, so that resuming never duplicates a cell.
experiment_turns = _table(
    "experiment_turns",
    Column("turn_id", Id, _ref("turns.id"), primary_key=True),
    Column("experiment_id", Id, _ref("experiments.id"), nullable=False),
    Column("case_id", Id, _ref("experiment_cases.id"), nullable=False),
    Column("sample", Integer, nullable=False),
    UniqueConstraint("case_id", "sample"),
    Index(None, "experiment_id", "case_id"),
)

# Personal API keys (DESIGN §12): only a hash of the key is kept; the key itself is shown
# once, when it is made. Keys are long random strings, so one SHA-256 suffices.
api_keys = _table(
    "api_keys",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, _ref("users.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("last4", String(8), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp),
    Column("revoked_at", Timestamp),
    Column("last_used_at", Timestamp),
    Index(None, "user_id", "id"),
)

# The conversation a gateway call lands in: one per key and UTC day ("key:<id>:<day>"),
# or one per title the client names ("title:<title>"), always per user.
gateway_threads = _table(
    "gateway_threads",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, _ref("users.id"), nullable=False),
    Column("thread", String(255), nullable=False),
    Column("conversation_id", Id, _ref("conversations.id"), nullable=False),
    UniqueConstraint("user_id", "thread"),
)

# An admin's per-user limits over the settings' defaults (NULL: the default).
rate_limit_overrides = _table(
    "rate_limit_overrides",
    Column("user_id", Id, _ref("users.id"), primary_key=True),
    Column("requests_per_minute", Integer),
    Column("tokens_per_minute", Integer),
    Column("concurrent_streams", Integer),
    Column("updated_at", Timestamp, nullable=False),
)

# Each model's circuit breaker (closed, open or half_open), shared by every process.
model_circuits = _table(
    "model_circuits",
    Column("model_id", Id, _ref("models.id"), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("first_failure_at", Timestamp),
    Column("opened_at", Timestamp),
    Column("probe_until", Timestamp),
    Column("updated_at", Timestamp, nullable=False),
)

# A user's judgement of one turn (DESIGN §13): the best of its compared results
# (``winner_result_id``), or a tie, or all bad. ``result_ids`` are the results compared,
# in the order shown; those other than the winner lost. One per user and turn, changed
# in place by its author.
votes = _table(
    "votes",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("turn_id", Id, _ref("turns.id"), nullable=False),
    Column("user_id", Id, _ref("users.id"), nullable=False),
    Column("outcome", String(16), nullable=False),  # best | tie | all_bad
    Column("winner_result_id", Id, _ref("turn_results.id")),
    Column("result_ids", JSON, nullable=False),
    Column("blind", Boolean, nullable=False, server_default="0"),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("turn_id", "user_id"),
    Index(None, "user_id", "created_at"),
)

# One scorer's verdict on one result (DESIGN §13): a value in [0, 1] (a pass is 1, a
# fail 0, ``passed`` then set), an optional rationale, and for an LLM judge the result of
# its own call. Scoring a result again with the same scorer replaces its score.
scores = _table(
    "scores",
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("result_id", Id, _ref("turn_results.id"), nullable=False),
    Column("user_id", Id, _ref("users.id"), nullable=False),
    Column("scorer", String(100), nullable=False),
    Column("value", Double, nullable=False),
    Column("passed", Boolean),
    Column("rationale", Text),
    Column("judge_result_id", Id, _ref("turn_results.id", ondelete="SET NULL")),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("result_id", "scorer"),
    Index(None, "user_id", "scorer"),
)
