"""Model prices and each result's cost (also summed in usage_days); experiments, their
cases and turns, and the server process running each experiment (DESIGN §10, §13).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MYSQL = ("mysql", "mariadb")
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *_MYSQL)
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), *_MYSQL)
TABLE = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def upgrade() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("input_price", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("output_price", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("price_currency", sa.String(3), nullable=True))
    op.create_table(
        "experiments",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("name", sa.String(300), server_default="", nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("template", LongText, nullable=True),
        sa.Column("source_conversation_id", Id, nullable=True),
        sa.Column("runner", sa.String(64), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("started_at", Timestamp, nullable=True),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_experiments_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_conversation_id"],
            ["conversations.id"],
            name="fk_experiments_source_conversation_id_conversations",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_experiments_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.UniqueConstraint("conversation_id", name="uq_experiments_conversation_id"),
        **TABLE,
    )
    op.create_index("ix_experiments_user_id_id", "experiments", ["user_id", "id"], unique=False)
    op.create_table(
        "experiment_cases",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("experiment_id", Id, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("prompt", LongText, nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_experiment_cases_experiment_id_experiments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_experiment_cases"),
        sa.UniqueConstraint(
            "experiment_id", "position", name="uq_experiment_cases_experiment_id_position"
        ),
        **TABLE,
    )
    op.create_table(
        "experiment_turns",
        sa.Column("turn_id", Id, nullable=False),
        sa.Column("experiment_id", Id, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("sample", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["experiment_cases.id"],
            name="fk_experiment_turns_case_id_experiment_cases",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_experiment_turns_experiment_id_experiments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["turn_id"], ["turns.id"], name="fk_experiment_turns_turn_id_turns", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("turn_id", name="pk_experiment_turns"),
        sa.UniqueConstraint("case_id", "sample", name="uq_experiment_turns_case_id_sample"),
        **TABLE,
    )
    op.create_index(
        "ix_experiment_turns_experiment_id_case_id",
        "experiment_turns",
        ["experiment_id", "case_id"],
        unique=False,
    )
    with op.batch_alter_table("turn_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cost", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("experiment_id", Id, nullable=True))
        batch_op.create_foreign_key(
            "fk_turn_results_experiment_id_experiments",
            "experiments",
            ["experiment_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            "ix_turn_results_experiment_id_id", ["experiment_id", "id"], unique=False
        )
    # No result had a cost before: the days folded so far have none (NULL).
    with op.batch_alter_table("usage_days", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cost", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage_days", schema=None) as batch_op:
        batch_op.drop_column("cost")
    with op.batch_alter_table("turn_results", schema=None) as batch_op:
        batch_op.drop_index("ix_turn_results_experiment_id_id")
        batch_op.drop_constraint("fk_turn_results_experiment_id_experiments", type_="foreignkey")
        batch_op.drop_column("experiment_id")
        batch_op.drop_column("cost")
    op.drop_index("ix_experiment_turns_experiment_id_case_id", table_name="experiment_turns")
    op.drop_table("experiment_turns")
    op.drop_table("experiment_cases")
    op.drop_index("ix_experiments_user_id_id", table_name="experiments")
    op.drop_table("experiments")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_column("price_currency")
        batch_op.drop_column("output_price")
        batch_op.drop_column("input_price")
