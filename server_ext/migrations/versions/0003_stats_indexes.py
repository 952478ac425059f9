"""Covering indexes for usage statistics; they replace the index on status alone.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LATENCY = [
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
]
TTFT = ["status", "model_id", "ttft_ms", "created_at", "user_id"]


def upgrade() -> None:
    with op.batch_alter_table("turn_results", schema=None) as batch_op:
        batch_op.create_index("ix_turn_results_stats_latency", LATENCY, unique=False)
        batch_op.create_index("ix_turn_results_stats_ttft", TTFT, unique=False)
        batch_op.drop_index("ix_turn_results_status")


def downgrade() -> None:
    with op.batch_alter_table("turn_results", schema=None) as batch_op:
        batch_op.create_index("ix_turn_results_status", ["status"], unique=False)
        batch_op.drop_index("ix_turn_results_stats_ttft")
        batch_op.drop_index("ix_turn_results_stats_latency")
