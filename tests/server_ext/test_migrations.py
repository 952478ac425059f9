"""Migrations create exactly the schema of DESIGN §4, on SQLite and MariaDB."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from server_ext.store import migrate
from server_ext.store.search import is_index_object
from server_ext.store.tables import metadata

REPO = Path(__file__).resolve().parents[2]

# DESIGN §4, key columns of each table (the tables may have more).
DESIGN_COLUMNS = {
    "users": "id email display_name password_hash role failed_attempts locked_until "
    "is_active last_login_at created_at updated_at",
    "refresh_tokens": "jti user_id family_id issued_at expires_at revoked_at replaced_by "
    "user_agent ip",
    "models": "id name provider_name base_url upstream_model api_key_enc default_params "
    "enabled notes created_at updated_at",
    "conversations": "id user_id title tags metadata system_prompt archived_at "
    "last_message_at created_at updated_at",
    "windows": "id conversation_id model_id name params system_prompt sort_order created_at",
    "turns": "id conversation_id user_id mode input_text status created_at finished_at",
    "turn_results": "id turn_id window_id model_id status error_code error_message "
    "finish_reason prompt_tokens completion_tokens total_tokens ttft_ms latency_ms "
    "started_at finished_at",
    "messages": "id conversation_id window_id turn_id role content created_at",
}

# The queries the API makes, and the index each one needs (leading columns).
QUERY_INDEXES = {
    "a user's conversations, newest first": ("conversations", ["user_id", "last_message_at"]),
    "a window's messages in order": ("messages", ["window_id", "id"]),
    "results by model and time": ("turn_results", ["model_id", "created_at"]),
    "a user's results by time": ("turn_results", ["user_id", "created_at"]),
    "a conversation's turns": ("turns", ["conversation_id", "id"]),
    "a conversation's windows in order": ("windows", ["conversation_id", "sort_order"]),
    "a refresh token family": ("refresh_tokens", ["family_id"]),
}


def test_first_upgrade_creates_every_table_column_and_index(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        before, after = migrate.upgrade(engine)
        assert (before, after) == (None, migrate.head_revision())
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        assert set(DESIGN_COLUMNS) <= tables
        for table, columns in DESIGN_COLUMNS.items():
            present = {c["name"] for c in inspector.get_columns(table)}
            missing = set(columns.split()) - present
            assert not missing, f"{table} lacks {missing}"
        for query, (table, leading) in QUERY_INDEXES.items():
            indexes = [ix["column_names"] for ix in inspector.get_indexes(table)]
            uniques = [u["column_names"] for u in inspector.get_unique_constraints(table)]
            pk = inspector.get_pk_constraint(table)["constrained_columns"]
            candidates = [*indexes, *uniques, pk]
            assert any(c[: len(leading)] == leading for c in candidates), (
                f"no index for {query}: {table}{leading} not in {candidates}"
            )
        assert inspector.get_unique_constraints("turn_results")  # one result per window
        emails = [u["column_names"] for u in inspector.get_unique_constraints("users")]
        emails += [i["column_names"] for i in inspector.get_indexes("users") if i["unique"]]
        assert ["email"] in emails
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_table_definitions(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            # The search index is the migrations' own, engine-specific (store/search.py).
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, _type, _parent: not is_index_object(name),
                },
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_upgrade_again_keeps_rows(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (email, display_name, password_hash, role,"
                    " failed_attempts, is_active, created_at, updated_at) VALUES"
                    " ('keep@example.com', 'k', 'x', 'user', 0, 1,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
        assert migrate.upgrade(engine)[0] == migrate.head_revision()
        with engine.connect() as conn:
            emails = conn.execute(text("SELECT email FROM users")).scalars().all()
        assert emails == ["keep@example.com"]
    finally:
        engine.dispose()


def test_mysql_ddl_file_matches_the_tables() -> None:
    on_disk = (REPO / "schema" / "mysql.sql").read_text()
    assert on_disk == migrate.render_mysql_ddl(), (
        "schema/mysql.sql is stale: run `chatmore db ddl > schema/mysql.sql`"
    )


def test_each_upgrade_step_keeps_rows(database_url: str) -> None:
    """From the first revision to the last, rows written in between survive."""
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine, "0001")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (email, display_name, password_hash, role,"
                    " failed_attempts, is_active, created_at, updated_at) VALUES"
                    " ('early@example.com', 'e', 'x', 'user', 0, 1,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
        before, after = migrate.upgrade(engine)
        assert (before, after) == ("0001", migrate.head_revision())
        with engine.connect() as conn:
            emails = conn.execute(text("SELECT email FROM users")).scalars().all()
        assert emails == ["early@example.com"]
        indexes = [ix["column_names"] for ix in inspect(engine).get_indexes("turn_results")]
        assert ["user_id", "id"] in indexes
    finally:
        engine.dispose()


def test_search_index_is_created_and_holds_existing_messages(database_url: str) -> None:
    """Migration 0009 builds the search index, with the messages written before it."""
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine, "0004")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, display_name, password_hash, role,"
                    " failed_attempts, is_active, created_at, updated_at) VALUES"
                    " (1, 'old@example.com', 'o', 'x', 'user', 0, 1,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO models (id, name, base_url, upstream_model, default_params,"
                    " enabled, created_at, updated_at) VALUES (1, 'm', 'http://x/v1', 'm',"
                    " '{}', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO conversations (id, user_id, title, tags, metadata,"
                    " last_message_at, created_at, updated_at) VALUES (1, 1, 't', '[]', '{}',"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO windows (id, conversation_id, model_id, name, params,"
                    " sort_order, created_at) VALUES (1, 1, 1, '', '{}', 0,"
                    " '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO messages (conversation_id, window_id, role, content,"
                    " created_at) VALUES (1, 1, 'assistant', 'an old quokka reply',"
                    " '2026-01-01 00:00:00')"
                )
            )
        migrate.upgrade(engine)
        from server_ext.store.search import Term, search_messages

        with engine.connect() as conn:
            hits = search_messages(conn, [Term("quokka")], user_id=1, limit=5, offset=0)
        assert [h["content"] for h in hits] == ["an old quokka reply"]
    finally:
        engine.dispose()
