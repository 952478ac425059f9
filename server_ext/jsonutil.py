"""JSON as ChatMore sends it: UTC times as ISO 8601 with a ``Z``, compact, UTF-8.

Encoding goes through orjson: answers such as a page of ten thousand results, and every
SSE event, are encoded many times a second, and orjson does it several times faster than
the standard library (with the same output for these values).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import orjson

_SURROGATE = re.compile("[\ud800-\udfff]")

# Our own spelling of times (milliseconds and a Z), and integer keys allowed.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def iso(value: dt.datetime | None) -> str | None:
    """A naive-UTC (store) or aware time as ``2026-01-02T03:04:05.678Z``."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        # Text stored before input was checked (services/validation.py) may hold lone
        # surrogates, which UTF-8 cannot carry: shown as U+FFFD rather than failing the
        # whole answer, and every later one, with a 500.
        return orjson.dumps(_scrubbed(value), default=_default, option=_OPTIONS)


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_scrubbed(k): _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return dumps_bytes(value).decode("utf-8")
