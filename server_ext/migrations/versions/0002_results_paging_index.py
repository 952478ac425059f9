"""An index for reading a user's results page by page in id order (api/results).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("turn_results", schema=None) as batch_op:
        batch_op.create_index("ix_turn_results_user_id_id", ["user_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("turn_results", schema=None) as batch_op:
        batch_op.drop_index("ix_turn_results_user_id_id")
