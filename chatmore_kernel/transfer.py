"""A conversation to a file (Markdown or JSON) and a JSON export back as a conversation."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .http import ApiClient

FORMATS = {".md": "md", ".markdown": "md", ".json": "json"}


def export_conversation(
    api: ApiClient, conversation_id: int, path: str | os.PathLike[str], format: str | None
) -> Path:
    """Write the export to ``path``; the format is ``format``, else the file's suffix."""
    target = Path(path)
    chosen = format or FORMATS.get(target.suffix.lower())
    if chosen not in ("md", "json"):
        raise ValueError("give format='md' or 'json', or a path ending in .md or .json")
    answer = api.request(
        "GET", f"api/conversations/{conversation_id}/export", params={"format": chosen}
    )
    target.write_bytes(answer.content)
    return target


def import_conversation(api: ApiClient, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Send a JSON export to the server; the new conversation, with ``imported`` counts."""
    raw = Path(path).read_bytes()
    answer = api.request(
        "POST",
        "api/conversations/import",
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    return json.loads(answer.content)
