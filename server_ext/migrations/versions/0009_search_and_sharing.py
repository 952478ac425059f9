"""Full-text search over prompts and replies (store/search.py): an FTS5 table kept in
step by triggers on SQLite, a FULLTEXT index on MySQL / MariaDB. Existing messages are
indexed here. Read-only share links (share_links) and prompt templates
(prompt_templates). Per-user monthly budgets (user_quotas).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Only prompts and replies are searched (a message's role never changes).
SQLITE_UP = (
    # External content: the text stays in messages; the index holds only the terms.
    # remove_diacritics 2 folds accents as utf8mb4_unicode_ci does on MySQL.
    "CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages',"
    " content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages"
    " WHEN new.role IN ('user', 'assistant') BEGIN"
    " INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages"
    " WHEN old.role IN ('user', 'assistant') BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, content)"
    " VALUES ('delete', old.id, old.content); END",
    # Checkpoints rewrite a streaming reply's text: the old terms out, the new ones in.
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages"
    " WHEN old.role IN ('user', 'assistant') BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, content)"
    " VALUES ('delete', old.id, old.content);"
    " INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
    "INSERT INTO messages_fts(rowid, content)"
    " SELECT id, content FROM messages WHERE role IN ('user', 'assistant')",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
)

MYSQL_UP = (
    # Without stopwords, so that every word of three letters or more is found, as on
    # SQLite (the setting is bound to the index when it is created).
    "SET SESSION innodb_ft_enable_stopword = OFF",
    "CREATE FULLTEXT INDEX ix_messages_content_fulltext ON messages (content)",
    "SET SESSION innodb_ft_enable_stopword = ON",
)
MYSQL_DOWN = ("DROP INDEX ix_messages_content_fulltext ON messages",)


_MYSQL = ("mysql", "mariadb")
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *_MYSQL)
TABLE = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def _create_share_links() -> None:
    op.create_table(
        "share_links",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=True),
        sa.Column("revoked_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_share_links_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_share_links_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_share_links"),
        sa.UniqueConstraint("token_hash", name="uq_share_links_token_hash"),
        **TABLE,
    )
    op.create_index("ix_share_links_user_id_created_at", "share_links", ["user_id", "created_at"])
    op.create_index("ix_share_links_conversation_id", "share_links", ["conversation_id"])


LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), *_MYSQL)


def _create_prompt_templates() -> None:
    op.create_table(
        "prompt_templates",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("body", LongText, nullable=False),
        sa.Column("shared", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_prompt_templates_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_prompt_templates"),
        sa.UniqueConstraint("user_id", "name", name="uq_prompt_templates_user_id_name"),
        **TABLE,
    )
    op.create_index("ix_prompt_templates_shared", "prompt_templates", ["shared"])


def _create_user_quotas() -> None:
    op.create_table(
        "user_quotas",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("monthly_tokens", sa.BigInteger(), nullable=True),
        sa.Column("monthly_cost", sa.Double(), nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_quotas_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_quotas"),
        **TABLE,
    )


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(SQLITE_UP if sqlite else MYSQL_UP)
    _create_share_links()
    _create_prompt_templates()
    _create_user_quotas()


def downgrade() -> None:
    op.drop_table("user_quotas")
    op.drop_index("ix_prompt_templates_shared", table_name="prompt_templates")
    op.drop_table("prompt_templates")
    op.drop_index("ix_share_links_conversation_id", table_name="share_links")
    op.drop_index("ix_share_links_user_id_created_at", table_name="share_links")
    op.drop_table("share_links")
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(SQLITE_DOWN if sqlite else MYSQL_DOWN)
