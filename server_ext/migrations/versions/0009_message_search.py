"""Full-text search over prompts and replies (store/search.py): an FTS5 table kept in
step by triggers on SQLite, a FULLTEXT index on MySQL / MariaDB. Existing messages are
indexed here.

Revision ID: 0009
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0004"
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


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(SQLITE_UP if sqlite else MYSQL_UP)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(SQLITE_DOWN if sqlite else MYSQL_DOWN)
