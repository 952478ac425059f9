"""Usage statistics per user, model, UTC day and source, folded in from final results,
with the fold mark and the results passed while still running (store/usage_days.py).
The results already stored are folded here.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# This revision's own copies of the column types.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LongBlob = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
TABLE = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def upgrade() -> None:
    op.create_table(
        "usage_days",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("model_id", Id, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("succeeded", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cancelled", sa.Integer(), server_default="0", nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=True),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=True),
        sa.Column("total_tokens", sa.BigInteger(), nullable=True),
        sa.Column("rate_tokens", sa.BigInteger(), nullable=True),
        sa.Column("rate_ms", sa.BigInteger(), nullable=True),
        sa.Column("latency_values", LongBlob, nullable=False),
        sa.Column("ttft_values", LongBlob, nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_usage_days_model_id_models"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_usage_days_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "model_id", "day", "source", name=op.f("pk_usage_days")
        ),
        **TABLE,
    )
    op.create_table(
        "usage_fold",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("folded_through", Id, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_fold")),
        **TABLE,
    )
    op.create_table(
        "usage_pending",
        sa.Column("result_id", Id, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("result_id", name=op.f("pk_usage_pending")),
        **TABLE,
    )
    op.bulk_insert(
        sa.table("usage_fold", sa.column("id"), sa.column("folded_through")),
        [{"id": 1, "folded_through": 0}],
    )
    # The stored results are folded when the server starts (runtime.py), by the code
    # that folds new ones and for the schema of that version: a million take ~10 s.


def downgrade() -> None:
    op.drop_table("usage_pending")
    op.drop_table("usage_fold")
    op.drop_table("usage_days")
