"""Result pages in Apache Arrow's IPC stream format into the results DataFrame.

The server sends each page as one flat, already joined table (see
``server_ext/services/result_arrow.py`` for its columns); what rows repeat comes
dictionary-encoded. Here every column becomes the dtype its :class:`~.frames.Column`
kind names, from Arrow's buffers and numpy, without a Python object per value except
for the string columns' own values: the frame equals the one built from JSON pages
(``result_frames.frame_from_pages``), column for column and dtype for dtype.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from widgets.i18n import t

from .errors import ChatMoreError
from .frames import Column, Schema, convert, frame

ARROW_STREAM = "application/vnd.apache.arrow.stream"
NEXT_AFTER_ID = b"next_after_id"


def read_page(body: bytes) -> tuple[int | None, pa.Table]:
    """A page's ``next_after_id`` (from the schema's metadata) and its table."""
    try:
        reader = pa.ipc.open_stream(body)
        table = reader.read_all()
    except (pa.ArrowInvalid, OSError):
        raise ChatMoreError("BAD_RESPONSE", t("error.arrow_not_stream")) from None
    raw = (table.schema.metadata or {}).get(NEXT_AFTER_ID)
    if raw is None:
        raise ChatMoreError("BAD_RESPONSE", t("error.arrow_no_cursor"))
    return (int(raw) if raw else None), table


def frame_from_tables(tables: Iterable[pa.Table], schema: Schema) -> pd.DataFrame:
    """The DataFrame of ``schema`` from a query's pages, in order."""
    parts = [t.replace_schema_metadata(None) for t in tables if t.num_rows]
    if not parts:
        return frame(schema, {})
    table = pa.concat_tables(parts, promote_options="permissive").combine_chunks()
    data: dict[str, Any] = {}
    for column in schema:
        if column.name == "tokens_per_second":
            data[column.name] = _tokens_per_second(table)
        elif column.name in table.column_names:
            data[column.name] = _convert(column, table.column(column.name))
        else:  # a column this server does not send yet
            data[column.name] = convert(column, [None] * table.num_rows)
    index = pd.RangeIndex(table.num_rows)
    return pd.DataFrame(data, index=index, columns=[c.name for c in schema])


def _decoded(values: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(values.type):
        return values.cast(values.type.value_type)
    return values


def _convert(column: Column, values: pa.ChunkedArray) -> Any:
    kind = column.kind
    if kind == "id":
        return values.to_numpy().astype(np.int64, copy=False)
    if kind == "int":
        mask = values.is_null().to_numpy(zero_copy_only=False)
        ints = pc.fill_null(values, 0).to_numpy().astype(np.int64, copy=False)
        return pd.arrays.IntegerArray(ints, mask)
    if kind == "float":  # nulls become NaN, as in the JSON frames
        return values.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    if kind == "time":
        micros = pc.fill_null(values.cast(pa.int64()), 0).to_numpy()
        stamps = (micros // 1000).astype("datetime64[ms]")  # floored, as numpy parses text
        stamps[values.is_null().to_numpy(zero_copy_only=False)] = np.datetime64("NaT")
        return pd.DatetimeIndex(stamps).tz_localize("UTC").array
    if kind == "str":
        return pd.array(_decoded(values).to_numpy(zero_copy_only=False), dtype="string")
    if kind == "cat":
        return _categorical(_decoded(values), column.categories)
    if kind == "obj":  # JSON text, one parse per distinct value
        encoded = _decoded(values).dictionary_encode().combine_chunks()
        objects = np.empty(len(encoded.dictionary) + 1, dtype=object)
        objects[:-1] = [orjson.loads(text) for text in encoded.dictionary.to_pylist()]
        codes = pc.fill_null(encoded.indices, -1).to_numpy()
        return objects[codes]  # -1: the trailing None
    raise ValueError(f"no Arrow conversion for kind {kind!r}")


def _categorical(values: pa.ChunkedArray, categories: tuple[str, ...] | None) -> pd.Categorical:
    """As ``frames.categorical``: fixed categories, or the values present, sorted."""
    encoded = values.dictionary_encode().combine_chunks()
    found = encoded.dictionary.to_pylist()
    codes = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64)
    if categories is not None:
        dtype = pd.CategoricalDtype(list(categories))
    else:
        dtype = pd.CategoricalDtype(sorted(found))
    remap = np.append(dtype.categories.get_indexer(found), -1)  # code -1 stays -1
    return pd.Categorical.from_codes(remap[codes], dtype=dtype)


def _tokens_per_second(table: pa.Table) -> np.ndarray:
    """As the server computes it (and ``result_frames``): completion tokens over the time
    after the first token, none for a single-chunk reply."""
    tokens = table.column("completion_tokens").to_numpy(zero_copy_only=False).astype(np.float64)
    decode = table.column("decode_ms").to_numpy(zero_copy_only=False).astype(np.float64)
    seconds = decode / 1000
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((seconds > 0) & (tokens > 0), np.round(tokens / seconds, 2), np.nan)
