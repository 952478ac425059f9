"""Votes per turn and scores per result (DESIGN §13).

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MYSQL = ("mysql", "mariadb")
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *_MYSQL)
TABLE = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def upgrade() -> None:
    op.create_table(
        "votes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("turn_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("winner_result_id", Id, nullable=True),
        sa.Column("result_ids", sa.JSON(), nullable=False),
        sa.Column("blind", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["turn_id"], ["turns.id"], name="fk_votes_turn_id_turns", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_votes_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["winner_result_id"],
            ["turn_results.id"],
            name="fk_votes_winner_result_id_turn_results",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_votes"),
        sa.UniqueConstraint("turn_id", "user_id", name="uq_votes_turn_id_user_id"),
        **TABLE,
    )
    op.create_index("ix_votes_user_id_created_at", "votes", ["user_id", "created_at"])
    op.create_table(
        "scores",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("result_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("scorer", sa.String(100), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("judge_result_id", Id, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["turn_results.id"],
            name="fk_scores_result_id_turn_results",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_scores_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["judge_result_id"],
            ["turn_results.id"],
            name="fk_scores_judge_result_id_turn_results",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_scores"),
        sa.UniqueConstraint("result_id", "scorer", name="uq_scores_result_id_scorer"),
        **TABLE,
    )
    op.create_index("ix_scores_user_id_scorer", "scores", ["user_id", "scorer"])


def downgrade() -> None:
    op.drop_index("ix_scores_user_id_scorer", table_name="scores")
    op.drop_table("scores")
    op.drop_index("ix_votes_user_id_created_at", table_name="votes")
    op.drop_table("votes")
