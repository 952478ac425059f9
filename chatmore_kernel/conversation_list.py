"""Conversations as a DataFrame: ``GET chatmore/api/conversations``, every page."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .frames import frame_from_records
from .http import ApiClient
from .schemas import CONVERSATIONS

PAGE_SIZE = 200  # the server's largest page
ARCHIVED = {False: "no", True: "only", "no": "no", "only": "only", "all": "all"}


def list_conversations(api: ApiClient, archived: bool | str = False) -> list[dict[str, Any]]:
    """Every conversation of the caller, newest first. ``archived``: False (the default,
    the live ones), True (only archived ones) or "all"."""
    if archived not in ARCHIVED:
        raise ValueError("archived must be False, True or 'all'")
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.get(
            "api/conversations", archived=ARCHIVED[archived], limit=PAGE_SIZE, cursor=cursor
        )
        found.extend(page["conversations"])
        cursor = page.get("next_cursor")
        if not cursor:
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
