"""Server processes with leases, the runner and source of each result, and redeemed
stream tickets (DESIGN §8 "Ownership and several processes", §11).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MYSQL = ("mysql", "mariadb")
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *_MYSQL)
TABLE = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def upgrade() -> None:
    with op.batch_alter_table("turn_results", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(16), nullable=False, server_default="board")
        )
        batch_op.add_column(sa.Column("runner", sa.String(64), nullable=True))
    op.create_table(
        "server_processes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("heartbeat_at", Timestamp, nullable=False),
        sa.Column("lease_until", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_server_processes"),
        **TABLE,
    )
    op.create_index(
        "ix_server_processes_lease_until", "server_processes", ["lease_until"], unique=False
    )
    op.create_table(
        "used_tickets",
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("jti", name="pk_used_tickets"),
        **TABLE,
    )
    op.create_index("ix_used_tickets_expires_at", "used_tickets", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_used_tickets_expires_at", table_name="used_tickets")
    op.drop_table("used_tickets")
    op.drop_index("ix_server_processes_lease_until", table_name="server_processes")
    op.drop_table("server_processes")
    with op.batch_alter_table("turn_results", schema=None) as batch_op:
        batch_op.drop_column("runner")
        batch_op.drop_column("source")
