"""Usage statistics per model (and per day and/or source): ``GET chatmore/api/stats/usage``.

The figures are computed by the server over every stored result (see
``server_ext/services/stats.py`` for what each one means); this module only shapes them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .frames import frame_from_records
from .http import ApiClient
from .schemas import usage_schema

GROUPS = ("model", "day", "source", "day,source")


def usage_frame(api: ApiClient, params: dict[str, Any], by: str) -> pd.DataFrame:
    if by not in GROUPS:
        raise ValueError(f"by must be one of {GROUPS}, not {by!r}")
    answer = api.get("api/stats/usage", **params, group_by=by)
    schema = usage_schema(by_day="day" in by.split(","), by_source="source" in by.split(","))
    return frame_from_records(schema, answer["usage"])
