"""The limits every input meets before ChatMore acts on it, in one place.

A request body is JSON of at most :data:`MAX_JSON_BYTES` and :data:`MAX_JSON_DEPTH`
levels, both checked before it is parsed; the parser (orjson) then refuses what is not
valid Unicode (lone surrogates, bad UTF-8) and numbers that are not finite (``NaN``,
``Infinity``, ``1e400``). Ids are integers the database can hold (a signed 64-bit
column): a larger one names nothing. Every refusal is VALIDATION_FAILED (or "not found"
for an id in a path), raised before anything is read or written.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..errors import validation

MAX_JSON_BYTES = 1024 * 1024
# Deep enough for any body ChatMore takes (metadata included), shallow enough that no
# recursive walk over it (schema checks, encoders) can run out of stack.
MAX_JSON_DEPTH = 32
# The largest value of the BIGINT id columns on SQLite and MySQL alike.
MAX_DB_ID = 2**63 - 1

# Only brackets are kept, as "(" and ")": what nests, whatever its kind.
_LEVELS = bytes.maketrans(b"[{]}", b"(())")
_NOT_A_BRACKET = bytes(set(range(256)) - set(b"[]{}"))


def nesting_exceeds(raw: bytes, limit: int) -> bool:
    """Whether the JSON text ``raw`` nests deeper than ``limit``, read without parsing
    and at C speed (bytes operations only): strings are dropped, then each pass removes
    one level of innermost pairs. Malformed text is left for the parser to refuse."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    # Escapes first (an escaped backslash, then an escaped quote): every quote left
    # opens or closes a string, so every other piece between quotes is outside one.
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(unescaped.split(b'"')[::2])
    levels = outside.translate(_LEVELS, _NOT_A_BRACKET)
    for _level in range(limit):
        if b"()" not in levels:
            break
        levels = levels.replace(b"()", b"")
    else:
        return b"()" in levels
    # What is left never closes: as deep as its longest run of openers.
    return b"(" * (limit + 1) in levels


def parse_json(
    raw: bytes | str, what: str = "the request body", max_bytes: int = MAX_JSON_BYTES
) -> Any:
    """``raw`` as JSON within the limits above (``max_bytes`` for a route that takes
    larger bodies), else VALIDATION_FAILED."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise validation(f"{what} is too large: at most {max_bytes} bytes")
    if nesting_exceeds(data, MAX_JSON_DEPTH):
        raise validation(f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        # orjson's reason names the position, never the content.
        raise validation(f"{what} is not valid JSON: {exc}") from None


def db_id(value: object, field: str) -> int:
    """An id from a JSON body: a whole number from 1 to :data:`MAX_DB_ID`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_DB_ID:
        raise validation(f"{field} must be an id (a positive whole number)", field=field)
    return value


def path_id(raw: str) -> int | None:
    """An id from a URL path (digits, by the route's pattern), or None when no row can
    have it."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_DB_ID else None
