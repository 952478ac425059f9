"""Query-string values shared by the listing endpoints: times and ids."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from ..errors import validation


def parse_time(args: Mapping[str, str], name: str) -> dt.datetime | None:
    """An ISO 8601 date or date-time as naive UTC (UTC unless it carries an offset; ``Z``
    accepted; a date means its midnight). Empty means absent."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise validation(
            f"{name!r} is not an ISO 8601 date or date-time: {raw[:40]!r}", field=name
        ) from None
    return value


def parse_id(args: Mapping[str, str], name: str) -> int | None:
    """A positive integer id; empty means absent."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        raise validation(f"{name} must be a positive integer, not {raw[:40]!r}", field=name)
    return int(raw)


def parse_range(args: Mapping[str, str]) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``from`` (inclusive) and ``to`` (exclusive); ``to`` may not be before ``from``."""
    start, end = parse_time(args, "from"), parse_time(args, "to")
    if start is not None and end is not None and end < start:
        raise validation("'to' is before 'from'", field="to")
    return start, end
