"""Typed DataFrames from the API's JSON, built column by column.

Each frame has a fixed schema (:class:`Column` list): its column order and dtypes do not
depend on the data, so an empty answer still has every column. Kinds:

``id``     int64 (never null)          ``int``   Int64, nullable (counts, tokens, ms)
``float``  float64 (NaN for null)      ``bool``  boolean, nullable
``str``    string, nullable            ``cat``   category (model names, statuses)
``time``   datetime64, UTC, tz-aware   ``obj``   Python objects (lists, dicts)

The converters are written for a million values: numpy does the work, not a Python loop
per value where that can be avoided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

KINDS = ("id", "int", "float", "bool", "str", "cat", "time", "obj")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    categories: tuple[str, ...] | None = None  # fixed categories (statuses), else inferred

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


Schema = tuple[Column, ...]


def frame(schema: Schema, columns: dict[str, Sequence[Any]]) -> pd.DataFrame:
    """A DataFrame of ``schema`` from raw column values (missing columns are all null)."""
    lengths = {len(v) for v in columns.values()}
    n = lengths.pop() if lengths else 0
    data = {c.name: convert(c, columns.get(c.name, [None] * n)) for c in schema}
    return pd.DataFrame(data, index=pd.RangeIndex(n), columns=[c.name for c in schema])


def frame_from_records(schema: Schema, records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """A DataFrame of ``schema`` from dicts (keys outside the schema are ignored)."""
    return frame(schema, {c.name: [r.get(c.name) for r in records] for c in schema})


def convert(column: Column, values: Sequence[Any]) -> Any:
    """The array of one column, typed by its kind."""
    kind = column.kind
    if kind == "id":
        return np.asarray(values, dtype=np.int64) if len(values) else np.empty(0, np.int64)
    if kind == "int":
        return nullable_ints(values)
    if kind == "float":
        return np.asarray(values, dtype=np.float64) if len(values) else np.empty(0)
    if kind == "bool":
        return pd.array(list(values), dtype="boolean")
    if kind == "str":
        return pd.array(list(values), dtype="string")
    if kind == "cat":
        return categorical(values, column.categories)
    if kind == "time":
        if isinstance(getattr(values, "dtype", None), pd.DatetimeTZDtype):
            return values  # already typed (results come as epoch milliseconds)
        return utc_times(values)
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):  # one by one: a list value must stay one object
        out[i] = value
    return out


def _objects(values: Sequence[Any]) -> np.ndarray:
    """Scalars (strings, None) as an object array."""
    out = np.empty(len(values), dtype=object)
    out[:] = values if isinstance(values, list) else list(values)
    return out


def categorical(values: Sequence[Any], categories: tuple[str, ...] | None) -> pd.Categorical:
    """A categorical through hashing once (``pd.Categorical(list)`` is about three times
    slower on a million values); inferred categories are sorted."""
    values = _objects(values)
    if categories is not None:
        fixed = pd.CategoricalDtype(list(categories))
        return pd.Categorical.from_codes(fixed.categories.get_indexer(values), dtype=fixed)
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    return pd.Categorical.from_codes(codes, categories=uniques)


def nullable_ints(values: Sequence[Any]) -> pd.api.extensions.ExtensionArray:
    """Int64 from ints and Nones, through one float array (exact below 2**53)."""
    if not len(values):
        return pd.array([], dtype="Int64")
    floats = np.asarray(values, dtype=np.float64)
    mask = np.isnan(floats)
    if np.abs(floats[~mask]).max(initial=0) >= 2**53:  # beyond exact floats: the slow way
        return pd.array(list(values), dtype="Int64")
    ints = np.where(mask, 0, floats).astype(np.int64)
    return pd.arrays.IntegerArray(ints, mask)


# The server writes times as 2026-01-02T03:04:05.678Z (server_ext/jsonutil.py).
_SERVER_TIME_LEN = 24
_PLACEHOLDER = "1970-01-01T00:00:00.000Z"


def utc_times(values: Sequence[Any]) -> pd.api.extensions.ExtensionArray:
    """Tz-aware UTC datetimes (millisecond unit) from ISO 8601 strings; None is NaT.

    The server's own spelling is parsed by numpy in bulk, about ten times faster than
    :func:`pandas.to_datetime` on a million distinct strings; any other goes there.
    """
    values = list(values)
    n = len(values)
    mask = np.fromiter((v is None for v in values), dtype=bool, count=n)
    try:
        joined = "".join(_PLACEHOLDER if v is None else v for v in values).encode("ascii")
        if len(joined) != n * _SERVER_TIME_LEN:
            raise ValueError("not the server's format")
        chars = np.frombuffer(joined, dtype=np.uint8).reshape(n, _SERVER_TIME_LEN)
        if n and not (chars[:, -1] == ord("Z")).all():
            raise ValueError("not UTC")
        # numpy reads "YYYY-MM-DDTHH:MM:SS.fff" (it refuses zone suffixes): drop the Z.
        stamps = np.ascontiguousarray(chars[:, :-1]).view(f"S{_SERVER_TIME_LEN - 1}")
        parsed = stamps.ravel().astype("datetime64[ms]")
    except (TypeError, ValueError, UnicodeEncodeError):
        series = pd.Series(values, dtype=object)
        return pd.to_datetime(series, utc=True, format="ISO8601").dt.as_unit("ms").array
    parsed[mask] = np.datetime64("NaT")
    return pd.DatetimeIndex(parsed).tz_localize("UTC").array
