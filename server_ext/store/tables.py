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
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
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
    Column("created_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp),
    Index(None, "conversation_id", "id"),
    Index(None, "user_id", "created_at"),
)

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
    # Where the call came from (DESIGN §11): board, ask, gateway, experiment, judge.
    Column("source", String(16), nullable=False, server_default="board"),
    # The server process running it while queued or streaming (server_processes.id);
    # only that process writes it until it ends, or until its lease runs out.
    Column("runner", String(64)),
    Column("created_at", Timestamp, nullable=False),
    Column("started_at", Timestamp),
    Column("finished_at", Timestamp),
    UniqueConstraint("turn_id", "window_id"),
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
    Column("value", Float, nullable=False),
    Column("passed", Boolean),
    Column("rationale", Text),
    Column("judge_result_id", Id, _ref("turn_results.id", ondelete="SET NULL")),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("result_id", "scorer"),
    Index(None, "user_id", "scorer"),
)
