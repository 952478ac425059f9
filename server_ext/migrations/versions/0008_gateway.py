"""The recording gateway: personal API keys, the conversations gateway calls land in,
per-user rate-limit overrides, circuit breakers per model, and what a gateway turn
keeps of its request and tool calls (DESIGN §12).

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MYSQL = ("mysql", "mariadb")
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *_MYSQL)
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLE = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("last4", sa.String(8), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=True),
        sa.Column("revoked_at", Timestamp, nullable=True),
        sa.Column("last_used_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_keys_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
        **TABLE,
    )
    op.create_index("ix_api_keys_user_id_id", "api_keys", ["user_id", "id"], unique=False)
    op.create_table(
        "gateway_threads",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("thread", sa.String(255), nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_gateway_threads_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_gateway_threads_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_gateway_threads"),
        sa.UniqueConstraint("user_id", "thread", name="uq_gateway_threads_user_id_thread"),
        **TABLE,
    )
    op.create_table(
        "rate_limit_overrides",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("requests_per_minute", sa.Integer(), nullable=True),
        sa.Column("tokens_per_minute", sa.Integer(), nullable=True),
        sa.Column("concurrent_streams", sa.Integer(), nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_rate_limit_overrides_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_rate_limit_overrides"),
        **TABLE,
    )
    op.create_table(
        "model_circuits",
        sa.Column("model_id", Id, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_failure_at", Timestamp, nullable=True),
        sa.Column("opened_at", Timestamp, nullable=True),
        sa.Column("probe_until", Timestamp, nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name="fk_model_circuits_model_id_models",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", name="pk_model_circuits"),
        **TABLE,
    )
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("api_key_id", Id, nullable=True))
        batch_op.add_column(sa.Column("request", sa.JSON(), nullable=True))
    op.create_index(
        "ix_turns_api_key_id_created_at", "turns", ["api_key_id", "created_at"], unique=False
    )
    with op.batch_alter_table("turn_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tool_calls", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("turn_results", schema=None) as batch_op:
        batch_op.drop_column("tool_calls")
    op.drop_index("ix_turns_api_key_id_created_at", table_name="turns")
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.drop_column("request")
        batch_op.drop_column("api_key_id")
    op.drop_table("model_circuits")
    op.drop_table("rate_limit_overrides")
    op.drop_table("gateway_threads")
    op.drop_index("ix_api_keys_user_id_id", table_name="api_keys")
    op.drop_table("api_keys")
