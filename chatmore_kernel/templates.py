"""Prompt templates: ``GET/POST chatmore/api/templates`` and filling one in."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .frames import frame_from_records
from .http import ApiClient
from .schemas import TEMPLATES


def list_templates(api: ApiClient) -> list[dict[str, Any]]:
    return api.get("api/templates")["templates"]


def templates_frame(templates: list[dict[str, Any]]) -> pd.DataFrame:
    return frame_from_records(TEMPLATES, templates)


def find_template(api: ApiClient, template: int | str) -> dict[str, Any]:
    """A template by id or name (yours first, then a shared one)."""
    known = list_templates(api)
    if isinstance(template, int) and not isinstance(template, bool):
        found = [t for t in known if t["id"] == template]
    else:
        found = sorted((t for t in known if t["name"] == template), key=lambda t: not t["mine"])
    if not found:
        raise KeyError(f"no prompt template {template!r}")
    return found[0]


def fill_template(api: ApiClient, template: int | str, values: dict[str, str]) -> str:
    chosen = find_template(api, template)
    return api.post(f"api/templates/{chosen['id']}/render", {"variables": values})["text"]
