"""Schema migrations with Alembic, run programmatically.

The server applies pending migrations when it starts (``upgrade``); ``chatmore db
upgrade`` does the same by hand, and ``chatmore db current`` tells where a database is.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.schema import CreateIndex, CreateTable

from .search import MYSQL_FULLTEXT_DDL
from .tables import metadata


def _alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", "server_ext:migrations")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Apply pending migrations; returns (revision before, revision after)."""
    before = current_revision(engine)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)
    return before, current_revision(engine) or ""


def render_mysql_ddl() -> str:
    """The MySQL DDL of the table definitions, as kept in ``schema/mysql.sql``."""
    from sqlalchemy.dialects import mysql

    dialect = mysql.dialect()
    parts = [
        "-- ChatMore schema for MySQL 8 / MariaDB, rendered from server_ext/store/tables.py.\n"
        "-- Regenerate with: chatmore db ddl > schema/mysql.sql\n"
        f"-- Alembic revision: {head_revision()}\n"
    ]
    for table in metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)).strip() + ";\n")
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)).strip() + ";\n")
    # The search index (migration 0009), not one of the declared tables' indexes.
    parts.append(MYSQL_FULLTEXT_DDL + ";\n")
    # SQLAlchemy ends column lines with ", "; keep the file free of trailing blanks.
    return "\n".join("\n".join(line.rstrip() for line in p.splitlines()) + "\n" for p in parts)
