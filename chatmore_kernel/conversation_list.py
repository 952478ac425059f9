"""Conversations as a DataFrame (``GET chatmore/api/conversations``, every page), and
the changes a list of them offers: rename, tag, add a window."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from .catalog import window_specs
from .frames import frame_from_records
from .http import ApiClient
from .schemas import CONVERSATIONS

PAGE_SIZE = 200  # the server's largest page
ARCHIVED = {False: "no", True: "only", "no": "no", "only": "only", "all": "all"}


def list_conversations(
    api: ApiClient,
    archived: bool | str = False,
    search: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The caller's conversations, newest first: every one, or the ``limit`` newest.
    ``archived``: False (the default, the live ones), True (only archived ones) or "all";
    ``search``: only those whose title holds this text (any case)."""
    if archived not in ARCHIVED:
        raise ValueError("archived must be False, True or 'all'")
    if limit is not None and limit < 1:
        raise ValueError("limit must be at least 1")
    found: list[dict[str, Any]] = []
    cursor = None
    while limit is None or len(found) < limit:
        left = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - len(found))
        page = api.get(
            "api/conversations",
            archived=ARCHIVED[archived],
            limit=left,
            cursor=cursor,
            q=search.strip() if search and search.strip() else None,
        )
        found.extend(page["conversations"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return found


def conversations_frame(conversations: list[dict[str, Any]]) -> pd.DataFrame:
    records = [
        {
            **c,
            "windows": len(c.get("windows") or []),
            "models": [w.get("model_name") for w in c.get("windows") or []],
            "tags": list(c.get("tags") or []),
        }
        for c in conversations
    ]
    return frame_from_records(CONVERSATIONS, records)


def update_conversation(
    api: ApiClient, conversation_id: int, changes: Mapping[str, Any]
) -> dict[str, Any]:
    return api.patch(f"api/conversations/{conversation_id}", dict(changes))


def clean_tags(tags: str | Iterable[str]) -> list[str]:
    """Tags from a list, or from one comma-separated string; blanks dropped."""
    parts = tags.split(",") if isinstance(tags, str) else list(tags)
    if not all(isinstance(t, str) for t in parts):
        raise TypeError("tags are strings")
    return list(dict.fromkeys(t.strip() for t in parts if t.strip()))


def add_window(api: ApiClient, conversation_id: int, window: Mapping[str, Any]) -> dict[str, Any]:
    """Add ``window`` (``{"model": name|id, "name", "params", "system_prompt"}``) to the
    conversation; returns the conversation with its windows."""
    [spec] = window_specs(api, windows=[window])
    return api.post(f"api/conversations/{conversation_id}/windows", spec)
