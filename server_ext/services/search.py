"""Full-text search over the caller's prompts and replies: ``GET chatmore/api/search``.

A query is words: each must appear in the message, as a whole word, or as the start of
a longer one when it ends in ``*`` (``stream*`` finds "streaming"). Words are letters
and digits; anything else separates them, and words shorter than
:data:`MIN_WORD` letters are left out (MySQL's FULLTEXT index does not hold them, and
results are the same on both databases). Case and accents do not matter.

Hits come best first (the database's relevance: BM25 on SQLite, InnoDB's on MySQL), ties
newest first, each with the conversation, window and turn it belongs to and a snippet::

    {"query": "...", "terms": ["stream*", ...],
     "hits": [{"message_id", "kind": "prompt"|"reply", "conversation_id",
               "conversation_title", "window_id", "window_name", "model_name",
               "turn_id", "created_at", "score", "snippet"}],
     "next_offset": 20 | null}

A snippet is HTML: the text around the first match, escaped, with every match inside
``<mark>…</mark>`` — the only markup it ever holds, so a page may insert it as is.
A user searches their own conversations; an admin may ask for everyone's (``scope=all``).
"""

from __future__ import annotations

import html
import re
from typing import Any

from ..errors import ChatMoreError, validation
from ..store import search as search_store
from ..store.db import Database
from ..store.search import Term

MIN_WORD = 3
MAX_QUERY_CHARS = 500
MAX_TERMS = 16
MAX_OFFSET = 10_000
SNIPPET_CHARS = 200
SNIPPET_LEAD = 60

_WORD = re.compile(r"[^\W_]+(\*?)")


def parse_query(raw: object) -> list[Term]:
    """The words of a query, or VALIDATION_FAILED when none is searchable."""
    if not isinstance(raw, str) or not raw.strip():
        raise validation("q is required: the words to search for", field="q")
    if len(raw) > MAX_QUERY_CHARS:
        raise validation(f"q is too long: at most {MAX_QUERY_CHARS} characters", field="q")
    terms: dict[Term, None] = {}
    for found in _WORD.finditer(raw):
        word = found.group(0).rstrip("*").lower()
        if len(word) >= MIN_WORD:
            terms[Term(word, prefix=bool(found.group(1)))] = None
    if not terms:
        raise validation(f"q has no word of {MIN_WORD} letters or more to search for", field="q")
    if len(terms) > MAX_TERMS:
        raise validation(f"q has too many words: at most {MAX_TERMS}", field="q")
    return list(terms)


def _pattern(terms: list[Term]) -> re.Pattern[str]:
    """Where the terms occur in a text, as whole words or word starts."""
    parts = [re.escape(t.word) + (r"[^\W_]*" if t.prefix else r"(?![^\W_])") for t in terms]
    return re.compile(r"(?<![^\W_])(?:" + "|".join(parts) + ")", re.IGNORECASE)


def snippet(text: str, pattern: re.Pattern[str]) -> str:
    """About :data:`SNIPPET_CHARS` characters around the first match, HTML-escaped, with
    every match marked. A text whose match the pattern cannot place (accents folded by
    the index) shows its start."""
    first = pattern.search(text)
    start = 0
    if first is not None and first.start() > SNIPPET_LEAD:
        start = first.start() - SNIPPET_LEAD
        space = text.find(" ", start, first.start())  # start on a word
        start = space + 1 if space != -1 else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", max(start, (first.end() if first else start)), end)
        end = space if space != -1 else end
    window = " ".join(text[start:end].split())  # one line
    out, at = [], 0
    for found in pattern.finditer(window):
        out.append(html.escape(window[at : found.start()]))
        out.append(f"<mark>{html.escape(found.group(0))}</mark>")
        at = found.end()
    out.append(html.escape(window[at:]))
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(text) else "")


def _hit(row: dict[str, Any], pattern: re.Pattern[str]) -> dict[str, Any]:
    return {
        "message_id": row["message_id"],
        "kind": "prompt" if row["role"] == "user" else "reply",
        "conversation_id": row["conversation_id"],
        "conversation_title": row["conversation_title"],
        "window_id": row["window_id"],
        "window_name": row["window_name"] or row["model_name"],
        "model_name": row["model_name"],
        "turn_id": row["turn_id"],
        "created_at": row["created_at"],
        "score": round(float(row["score"] or 0.0), 6),
        "snippet": snippet(row["content"], pattern),
    }


class SearchService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def search(
        self, user: Any, q: object, *, scope: str, limit: int, offset: int
    ) -> dict[str, Any]:
        terms = parse_query(q)
        if scope not in ("mine", "all"):
            raise validation("scope must be mine or all", field="scope")
        if scope == "all" and not user.is_admin:
            raise ChatMoreError("FORBIDDEN", "only admins search everyone's conversations")
        if offset > MAX_OFFSET:
            raise validation(f"offset must be at most {MAX_OFFSET}", field="offset")
        rows = await self.db.read(
            search_store.search_messages,
            terms,
            user_id=None if scope == "all" else user.id,
            limit=limit + 1,
            offset=offset,
        )
        pattern = _pattern(terms)
        hits = [_hit(row, pattern) for row in rows[:limit]]
        return {
            "query": q,
            "terms": [t.word + ("*" if t.prefix else "") for t in terms],
            "hits": hits,
            "next_offset": offset + limit if len(rows) > limit else None,
        }
