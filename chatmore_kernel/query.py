"""Query-string values of the listing calls: times as ISO 8601 UTC, ids."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

TimeLike = str | dt.datetime | dt.date | pd.Timestamp | None


def iso_time(value: TimeLike, name: str) -> str | None:
    """``since``/``until`` as the server reads them. A naive datetime is taken as UTC (the
    server stores UTC); strings go through as they are, for the server to check."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):  # pd.Timestamp included
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{name} must be a datetime, a date or an ISO 8601 string")


def id_param(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer id, not {value!r}")
    return value
