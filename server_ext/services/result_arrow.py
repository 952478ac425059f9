"""Results as Apache Arrow: ``GET chatmore/api/results`` with
``Accept: application/vnd.apache.arrow.stream``.

The same rows, filters, order and paging as the JSON page (:mod:`.results`), but one
flat table, already joined, in Arrow's IPC stream format: a schema, then one record
batch. Columns, in the order of the notebook's DataFrame (``chatmore_kernel/schemas.py``,
without ``tokens_per_second``, which the client derives)::

    result_id, conversation_id, [conversation], turn_id, replaces_turn_id, window_id,
    window, model_id, model, params, mode, source, [prompt], [reply], status, error_code,
    [error_message], finish_reason, prompt_tokens, completion_tokens, total_tokens,
    ttft_ms, latency_ms, decode_ms, cost, currency, experiment_id, created_at,
    started_at, finished_at, user_id

(bracketed: only with text). Ids are int64, never null but for ``experiment_id`` and
``replaces_turn_id`` (the turn a retry or an edited prompt replaced); counts and
milliseconds nullable int64; ``cost`` float64 (null without prices) in its model's
``currency``; times ``timestamp[us, UTC]``; ``params`` the window's params merged over
its model's defaults, as JSON text; every other column a string. What many rows repeat
(conversation, window, model, params, mode, source, prompt, status, error_code,
finish_reason) is dictionary-encoded: the dictionaries of the columns that come from a
turn, window, model or conversation are those tables' rows, so that each is sent once
per page and indexed by the rows, as in the JSON page. The schema's metadata carries
``next_after_id`` (empty on the last page), so a client can ask for the next page before
decoding this one.

Arrays are built from the database's plain tuples column by column in Arrow's C++ code
(times parsed there too), in the database thread, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..store import results as result_store
from .params import merged

ARROW_STREAM = "application/vnd.apache.arrow.stream"
MAX_ARROW_PAGE = 100_000
NEXT_AFTER_ID = b"next_after_id"

UTC_MICROSECONDS = pa.timestamp("us", tz="UTC")
# The driver's columns (store/results.py ROW_COLUMNS, TEXT_ROW_COLUMNS) as Arrow types:
# the rows become one struct array in a single pass of Arrow's C++ converter.
_TYPES = {
    "status": pa.string(),
    "error_code": pa.string(),
    "finish_reason": pa.string(),
    "created_at": pa.string(),
    "started_at": pa.string(),
    "finished_at": pa.string(),
    "source": pa.string(),
    "cost": pa.float64(),
    "error_message": pa.string(),
    "reply": pa.string(),
}
_TIME_COLUMNS = ("created_at", "started_at", "finished_at")
_CODED_COLUMNS = ("status", "error_code", "finish_reason", "source")
_NO_TEXT = (
    "result_id", "conversation_id", "turn_id", "replaces_turn_id", "window_id", "window",
    "model_id", "model", "params", "mode", "source", "status", "error_code", "finish_reason",
    "prompt_tokens", "completion_tokens", "total_tokens", "ttft_ms", "latency_ms",
    "decode_ms", "cost", "currency", "experiment_id", "created_at", "started_at",
    "finished_at", "user_id",
)  # fmt: skip
_TEXT = ("conversation", "prompt", "reply", "error_message")


def column_names(with_text: bool) -> list[str]:
    """The page's columns, in order (see the module docstring)."""
    if not with_text:
        return list(_NO_TEXT)
    names = list(_NO_TEXT)
    names.insert(names.index("turn_id"), "conversation")
    names.insert(names.index("status"), "prompt")
    names.insert(names.index("status"), "reply")
    names.insert(names.index("finish_reason"), "error_message")
    return names


def _span(ids: pa.Array) -> tuple[int, int]:
    """The smallest and largest id (0, -1 for none: an empty range)."""
    bounds = pc.min_max(ids).as_py()
    return (bounds["min"], bounds["max"]) if bounds["min"] is not None else (0, -1)


def _pointed(rows: list[Any], ids: pa.Array) -> list[Any]:
    """The ``rows`` (keyed by their first value) whose key is among ``ids``."""
    wanted = set(pc.unique(ids).to_pylist())
    return [row for row in rows if row[0] in wanted]


def _looked_up(keys: pa.Array, table_keys: Sequence[int]) -> pa.Array:
    """For each row's key, its position among ``table_keys`` (a side table's ids)."""
    return pc.index_in(keys, value_set=pa.array(table_keys, pa.int64())).cast(pa.int32())


def _coded(indices: pa.Array, values: Sequence[Any]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(indices, pa.array(values, pa.string()))


def _params(window_rows: Sequence[Any]) -> list[str]:
    """Each window's params over its model's defaults, as JSON text; stored texts repeat
    (most windows override nothing), so each distinct pair is parsed once."""
    seen: dict[tuple[str, str], str] = {}
    out = []
    for row in window_rows:
        pair = (row[3] or "{}", row[4] or "{}")
        text = seen.get(pair)
        if text is None:
            text = seen[pair] = orjson.dumps(
                merged(orjson.loads(pair[1]), orjson.loads(pair[0]))
            ).decode()
        out.append(text)
    return out


def page_table(conn: Any, which: result_store.ResultFilter, limit: int, with_text: bool) -> bytes:
    """One page of results as an Arrow IPC stream (see the module docstring)."""
    names, rows = result_store.result_tuples(conn, which, limit=limit, with_text=with_text)
    struct = pa.array(rows, pa.struct([(n, _TYPES.get(n, pa.int64())) for n in names]))
    found = dict(zip(names, struct.flatten(), strict=True))
    # Only the turns and windows the rows point to: an id range also holds others (other
    # users' windows; the user's turns outside the filters), which the page must not carry.
    turn_rows = _pointed(
        result_store.turns_between(
            conn, *_span(found["turn_id"]), which.user_id, with_text=with_text
        ),
        found["turn_id"],
    )
    window_rows = _pointed(
        result_store.windows_between(conn, *_span(found["window_id"])), found["window_id"]
    )
    model_rows = result_store.model_names(conn, pc.unique(found["model_id"]).to_pylist())
    of_model = _looked_up(found["model_id"], [m[0] for m in model_rows])

    of_turn = _looked_up(found["turn_id"], [t[0] for t in turn_rows])
    of_window = _looked_up(found["window_id"], [w[0] for w in window_rows])
    turn = {
        name: [t[i] for t in turn_rows]
        for i, name in enumerate(result_store.turn_column_names(with_text))
    }
    out: dict[str, pa.Array] = {
        "conversation_id": pa.array(turn["conversation_id"], pa.int64()).take(of_turn),
        "replaces_turn_id": pa.array(turn["replaces_turn_id"], pa.int64()).take(of_turn),
        # an unnamed window is called after its model
        "window": _coded(of_window, [w[1] or w[2] for w in window_rows]),
        "model": _coded(of_model, [m[1] for m in model_rows]),
        # a model without prices has no currency: null rows, not a null in the dictionary
        "currency": pa.array([m[2] for m in model_rows], pa.string())
        .take(of_model)
        .dictionary_encode(),
        "params": _coded(of_window, _params(window_rows)),
        "mode": _coded(of_turn, turn["mode"]),
    }
    if with_text:
        titles = result_store.conversation_titles(
            conn, pc.unique(out["conversation_id"]).to_pylist()
        )
        out["conversation"] = _coded(
            _looked_up(out["conversation_id"], [c[0] for c in titles]), [c[1] for c in titles]
        )
        out["prompt"] = _coded(of_turn, turn["prompt"])
    for name in _CODED_COLUMNS:
        found[name] = found[name].dictionary_encode()
    for name in _TIME_COLUMNS:
        # YYYY-MM-DD HH:MM:SS.ffffff, naive UTC as stored: the same instants, labelled UTC
        found[name] = found[name].cast(pa.timestamp("us")).cast(UTC_MICROSECONDS)
    found.update(out)

    next_after_id = rows[-1][0] if len(rows) == limit else None
    metadata = {NEXT_AFTER_ID: b"" if next_after_id is None else str(next_after_id).encode()}
    ordered = column_names(with_text)
    batch = pa.RecordBatch.from_arrays([found[n] for n in ordered], names=ordered)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema.with_metadata(metadata)) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()
