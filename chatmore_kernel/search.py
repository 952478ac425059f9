"""Full-text search as a DataFrame: ``GET chatmore/api/search``, page after page."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .frames import frame_from_records
from .http import ApiClient
from .schemas import SEARCH_HITS

PAGE_SIZE = 100  # the server's largest page


def search_hits(api: ApiClient, q: str, *, limit: int, everyone: bool) -> list[dict[str, Any]]:
    """The best ``limit`` hits, best first."""
    if not isinstance(q, str):
        raise TypeError("search() takes the words to find as a string")
    if limit < 1:
        raise ValueError("limit must be at least 1")
    found: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None and len(found) < limit:
        page = api.get(
            "api/search",
            q=q,
            limit=min(PAGE_SIZE, limit - len(found)),
            offset=offset,
            scope="all" if everyone else None,
        )
        found.extend(page["hits"])
        offset = page.get("next_offset")
    return found[:limit]


def hits_frame(hits: list[dict[str, Any]]) -> pd.DataFrame:
    records = [
        {
            **hit,
            "conversation": hit.get("conversation_title"),
            "window": hit.get("window_name"),
            "model": hit.get("model_name"),
        }
        for hit in hits
    ]
    return frame_from_records(SEARCH_HITS, records)
