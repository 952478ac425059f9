"""Results for analysis: ``GET chatmore/api/results``, one row per turn × window.

A page is columnar and normalised, so that a million rows travel and decode fast::

    {"results": {"result_id": [...], "turn_id": [...], "window_id": [...], "model_id": [...],
                 "status": [...], ..., "created_at": ["2026-01-02 03:04:05.678901", ...]},
     "turns": {"turn_id": [...], "conversation_id": [...], "mode": [...],
               "replaces_turn_id": [...], "prompt": [...]},
     "windows": {"window_id": [...], "window": [...], "params": [...]},
     "models": {"model_id": [...], "model": [...], "currency": [...]},
     "conversations": {"conversation_id": [...], "conversation": [...]},
     "next_after_id": id | null}

``results`` has one entry per row; the other tables describe, once each, the turns,
windows, models and conversations those rows point to (a window's ``params`` are its
overrides over its model's defaults; a result's ``cost`` is in its model's
``currency``; a turn's ``replaces_turn_id`` is the turn a retry or an edited prompt
replaced, null for any other). Times are UTC, written as the database keeps them
(``YYYY-MM-DD HH:MM:SS.ffffff``, which numpy and pandas read in bulk). Without
text (``text=false``) there is no prompt, reply, error message or conversation title.
Pages come in result-id order; ``after_id`` is the previous page's ``next_after_id``.
The page is read, shaped and encoded in the database thread, never on the event loop.
A user reads their own results; an admin may ask for everyone's.
"""

from __future__ import annotations

from typing import Any

from ..jsonutil import dumps_bytes
from ..store import results as result_store
from ..store.db import Database
from ..store.results import columns
from .params import merged
from .result_arrow import page_table

MAX_PAGE = 10_000


def _read_page(conn: Any, which: result_store.ResultFilter, limit: int, with_text: bool) -> dict:
    names, rows = result_store.result_page(conn, which, limit=limit, with_text=with_text)
    results = columns(names, rows)
    span = (which.user_id, which.after_id, rows[-1][0] if rows else which.after_id)
    turn_rows = result_store.turn_details(conn, span, with_text=with_text)
    turn_names = result_store.turn_column_names(with_text)
    window_rows = result_store.window_details(conn, span)
    page: dict[str, Any] = {
        "results": results,
        "turns": columns(turn_names, turn_rows),
        "windows": {
            "window_id": [w[0] for w in window_rows],
            # an unnamed window is called after its model
            "window": [w[1] or w[2] for w in window_rows],
            "params": [merged(w[4] or {}, w[3] or {}) for w in window_rows],
        },
        "models": columns(
            ["model_id", "model", "currency"],
            result_store.model_names(conn, sorted(set(results["model_id"]))),
        ),
    }
    if with_text:
        page["conversations"] = columns(
            ["conversation_id", "conversation"],
            result_store.conversation_titles(conn, sorted(set(page["turns"]["conversation_id"]))),
        )
    # Last, so that a client can read it off the page's tail before decoding the rest.
    page["next_after_id"] = rows[-1][0] if len(rows) == limit else None
    return page


class ResultService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def page_json(
        self, which: result_store.ResultFilter, *, limit: int, with_text: bool
    ) -> bytes:
        """One page, already encoded as JSON."""
        return await self.db.read(
            lambda conn: dumps_bytes(_read_page(conn, which, limit, with_text))
        )

    async def page_arrow(
        self, which: result_store.ResultFilter, *, limit: int, with_text: bool
    ) -> bytes:
        """One page as an Arrow IPC stream (see :mod:`.result_arrow`)."""
        return await self.db.read(page_table, which, limit, with_text)
