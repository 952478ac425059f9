"""Full-text search over prompts and replies: the queries.

The index is the database's own, created by migration 0009 and kept in step as messages
are written: an FTS5 external-content table ``messages_fts`` with triggers on SQLite, a
FULLTEXT index on ``messages.content`` (InnoDB, no stopwords) on MySQL / MariaDB. Both
are asked the same thing: every term as a whole word (or a word prefix), all of them
required. A prompt is stored once per window it went to; a hit names it once, as the
message of the turn's first window.

The store answers message rows and a relevance score (higher is better); the snippets
are cut by the service (services/search.py), the same way on both backends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, column, literal_column, or_, select, table, text
from sqlalchemy.dialects.mysql import match
from sqlalchemy.orm import aliased

from .tables import conversations, messages, models, windows

# The FTS5 table, known only to this module (it is not one of the declared tables).
messages_fts = table("messages_fts", column("rowid"))

# The names of the search index's own objects, left out of schema comparisons: FTS5's
# table and the shadow tables it keeps, and MySQL's FULLTEXT index.
INDEX_OBJECTS = ("messages_fts", "ix_messages_content_fulltext")
# How many of the newest matches are ranked; older ones beyond are not hits.
RANKED_MATCHES = 10_000
MYSQL_FULLTEXT_DDL = "CREATE FULLTEXT INDEX ix_messages_content_fulltext ON messages (content)"


def is_index_object(name: str | None) -> bool:
    return bool(name) and any(str(name).startswith(prefix) for prefix in INDEX_OBJECTS)


@dataclass(frozen=True)
class Term:
    """A word to find: whole, or as the start of longer words (``prefix``)."""

    word: str
    prefix: bool = False


def fts5_expression(terms: list[Term]) -> str:
    """Every term required. Terms are letters and digits only (services/search.py), and
    quoted, so that nothing in them reads as FTS5 syntax."""
    return " AND ".join(f'"{t.word}"' + ("*" if t.prefix else "") for t in terms)


def boolean_mode_expression(terms: list[Term]) -> str:
    """The same in MySQL's boolean mode: ``+word`` required, ``word*`` a prefix."""
    return " ".join(f"+{t.word}" + ("*" if t.prefix else "") for t in terms)


_first_prompt = aliased(messages)

# A prompt is searched once: as the user message of its turn's first window.
_ONCE_PER_TURN = or_(
    messages.c.role == "assistant",
    and_(
        messages.c.role == "user",
        messages.c.id
        == select(_first_prompt.c.id)
        .where(_first_prompt.c.turn_id == messages.c.turn_id, _first_prompt.c.role == "user")
        .order_by(_first_prompt.c.id)
        .limit(1)
        .scalar_subquery(),
    ),
)

HIT_COLUMNS = (
    messages.c.id.label("message_id"),
    messages.c.conversation_id,
    messages.c.window_id,
    messages.c.turn_id,
    messages.c.role,
    messages.c.content,
    messages.c.created_at,
    conversations.c.title.label("conversation_title"),
    conversations.c.user_id,
    windows.c.name.label("window_name"),
    models.c.name.label("model_name"),
)


def search_messages(
    conn: Connection, terms: list[Term], *, user_id: int | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Hits of ``user_id``'s conversations (None: everyone's), best first (ties: newest
    first), ``limit`` from ``offset``. Each: HIT_COLUMNS and ``score``.

    Only the newest :data:`RANKED_MATCHES` matches are ranked: a word in a third of a
    million messages would otherwise cost seconds to rank (bench/search.py)."""
    if conn.dialect.name == "sqlite":
        # bm25() is lower for better hits; the score reads the other way round.
        score = (-literal_column("bm25(messages_fts)")).label("score")
        source = messages_fts.join(messages, messages.c.id == messages_fts.c.rowid)
        found = text("messages_fts MATCH :expression").bindparams(
            expression=fts5_expression(terms)
        )
        newest = messages_fts.c.rowid.desc()  # the index's own order: stops at the limit
    else:
        found = match(messages.c.content, against=boolean_mode_expression(terms)).in_boolean_mode()
        score = found.label("score")
        source = messages
        newest = messages.c.id.desc()
    matches = (
        select(messages.c.id.label("id"), score)
        .select_from(source.join(conversations, conversations.c.id == messages.c.conversation_id))
        .where(found, _ONCE_PER_TURN)
        .order_by(newest)
        .limit(RANKED_MATCHES)
    )
    if user_id is not None:
        matches = matches.where(conversations.c.user_id == user_id)
    ranked = matches.subquery("ranked")
    query = (
        select(*HIT_COLUMNS, ranked.c.score)
        .select_from(
            ranked.join(messages, messages.c.id == ranked.c.id)
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .join(windows, windows.c.id == messages.c.window_id)
            .join(models, models.c.id == windows.c.model_id)
        )
        .order_by(ranked.c.score.desc(), ranked.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [dict(row) for row in conn.execute(query).mappings()]
