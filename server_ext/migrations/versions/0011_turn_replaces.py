"""Turns gain replaces_turn_id: a retry or an edited prompt names the turn it replaces.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaces_turn_id", Id, nullable=True))
        batch_op.create_index("ix_turns_replaces_turn_id", ["replaces_turn_id"])
        batch_op.create_foreign_key(
            "fk_turns_replaces_turn_id_turns",
            "turns",
            ["replaces_turn_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.drop_constraint("fk_turns_replaces_turn_id_turns", type_="foreignkey")
        batch_op.drop_index("ix_turns_replaces_turn_id")
        batch_op.drop_column("replaces_turn_id")
