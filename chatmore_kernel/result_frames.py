"""Results and turns as DataFrames, read page by page from ``GET chatmore/api/results``.

Pages are keyset-paged by result id (``after_id``) and come in Apache Arrow's IPC
stream format (``Accept: application/vnd.apache.arrow.stream``), already joined, the
next ``after_id`` in the schema's metadata: a background thread fetches the next page
while this one waits, at most :data:`PREFETCH` pages in memory, and the tables are
converted once, at the end (:mod:`.arrow_frames`).

The JSON pages (columns, with the turns, windows, models and conversations their rows
point to sent once per page) stay for other clients; :func:`frame_from_pages` builds
the same DataFrame from them, with the cyclic garbage collector paused (see
:func:`_no_cyclic_gc`).

(Reading several id ranges at once was measured and left out: the server's SQLite
driver gives up the GIL on every row, so concurrent reads in one server process slow
each other down several times over.)
"""

from __future__ import annotations

import contextlib
import gc
import queue
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa

from widgets.i18n import t

from .arrow_frames import ARROW_STREAM, frame_from_tables, read_page
from .errors import ChatMoreError
from .frames import frame
from .http import ApiClient
from .schemas import RESULTS, RESULTS_NO_TEXT, TURNS

PAGE_SIZE = 100_000  # the server's largest Arrow page (JSON pages: 10,000)
PREFETCH = 2
_TAIL = re.compile(rb'"next_after_id"\s*:\s*(null|\d+)\s*}\s*$')
_END = object()


def _next_after_id(body: bytes) -> tuple[int | None, dict[str, Any] | None]:
    """The page's ``next_after_id``, from its tail when it has the server's shape (else
    by parsing the page, which is then returned too)."""
    found = _TAIL.search(body[-64:])
    if found:
        raw = found.group(1)
        return (None if raw == b"null" else int(raw)), None
    page = _decode(body)
    return page.get("next_after_id"), page


def _decode(body: bytes) -> dict[str, Any]:
    try:
        page = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ChatMoreError("BAD_RESPONSE", t("error.results_not_json")) from None
    if not isinstance(page, dict) or not isinstance(page.get("results"), dict):
        raise ChatMoreError("BAD_RESPONSE", t("error.results_no_table"))
    return page


def fetch_arrow_page(api: ApiClient, query: dict[str, Any]) -> tuple[int | None, pa.Table]:
    """One page as an Arrow table, with the next page's ``after_id``."""
    answer = api.request("GET", "api/results", params=query, headers={"Accept": ARROW_STREAM})
    if not answer.headers.get("Content-Type", "").startswith(ARROW_STREAM):
        raise ChatMoreError("BAD_RESPONSE", t("error.results_not_arrow"))
    return read_page(answer.content)


def iter_pages(api: ApiClient, params: dict[str, Any]) -> Iterator[pa.Table]:
    """Every page of results for ``params`` as Arrow tables, in id order, fetched one page
    ahead (reading a page's table is zero-copy: the fetching thread does it)."""
    pages: queue.Queue[Any] = queue.Queue(maxsize=PREFETCH)
    stop = threading.Event()

    def fetch() -> None:
        after: int | None = 0
        try:
            while after is not None and not stop.is_set():
                query = {**params, "after_id": after, "limit": PAGE_SIZE}
                after, page = fetch_arrow_page(api, query)
                pages.put(page)
        except BaseException as exc:  # handed to the reading thread, which raises it
            pages.put(exc)
        pages.put(_END)

    fetcher = threading.Thread(target=fetch, name="chatmore-results", daemon=True)
    fetcher.start()
    try:
        while (item := pages.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while fetcher.is_alive():  # unblock a fetcher waiting on a full queue
            with contextlib.suppress(queue.Empty):
                pages.get(timeout=0.05)
        fetcher.join()


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Decoding a million rows makes millions of lists and dicts, none of them cyclic; the
    cyclic collector would scan them all again and again (about half the time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def results_frame(api: ApiClient, params: dict[str, Any], text: bool) -> pd.DataFrame:
    """All results matching ``params`` as one DataFrame (see ``schemas.RESULTS``)."""
    with _no_cyclic_gc():
        return _results_frame(api, params, text)


# A page's tables and the key rows point to them by (server_ext/services/results.py).
SIDE_TABLES = {
    "turns": "turn_id",
    "windows": "window_id",
    "models": "model_id",
    "conversations": "conversation_id",
}
TIME_COLUMNS = ("created_at", "started_at", "finished_at")
ID_COLUMNS = ("result_id", "turn_id", "window_id", "model_id", "user_id")
NUMBER_COLUMNS = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "ttft_ms",
    "latency_ms",
    "decode_ms",
    "cost",
    "experiment_id",
)


def _results_frame(api: ApiClient, params: dict[str, Any], text: bool) -> pd.DataFrame:
    pages = iter_pages(api, {**params, "text": "true" if text else "false"})
    return frame_from_tables(pages, RESULTS if text else RESULTS_NO_TEXT)


def frame_from_pages(pages: Iterable[dict[str, Any]], text: bool) -> pd.DataFrame:
    """The DataFrame of decoded result pages (see ``schemas.RESULTS``). Each page's
    columns become numpy arrays as it arrives, while the next page is on its way."""
    chunks: dict[str, list[np.ndarray]] = {}
    tables: dict[str, dict[str, list[Any]]] = {t: {} for t in SIDE_TABLES}
    for page in pages:
        for name, values in page["results"].items():
            chunks.setdefault(name, []).append(_array(name, values))
        for table, collected in tables.items():
            for name, values in (page.get(table) or {}).items():
                collected.setdefault(name, []).extend(values)
    rows = {name: np.concatenate(parts) for name, parts in chunks.items()}
    return frame(RESULTS if text else RESULTS_NO_TEXT, _joined(rows, tables))


def _array(name: str, values: list[Any]) -> np.ndarray:
    """One page's column as a numpy array: times parsed, numbers as floats (None is
    NaN: the nullable integer columns are made from these at the end), the rest objects."""
    if name in TIME_COLUMNS:
        # "YYYY-MM-DD HH:MM:SS.ffffff" in UTC, None for none: numpy reads them in bulk.
        return np.array(values, dtype="datetime64[ms]")
    if name in ID_COLUMNS:
        return np.asarray(values, dtype=np.int64)
    if name in NUMBER_COLUMNS:
        return np.asarray(values, dtype=np.float64)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _joined(rows: dict[str, Any], tables: dict[str, dict[str, list[Any]]]) -> dict[str, Any]:
    """The result rows with what they point to looked up, column by column."""
    if not len(rows.get("result_id", ())):
        return {}
    found: dict[str, Any] = dict(rows)
    for table, key in SIDE_TABLES.items():  # conversations last: keyed through turns
        side = tables[table]
        if not side.get(key):
            continue
        # A turn whose results span two pages is described on both: keep one.
        details = pd.DataFrame(side).drop_duplicates(key).set_index(key)
        looked_up = details.reindex(found[key])
        for name in details.columns:
            found[name] = looked_up[name].to_numpy(dtype=object)
    for name in TIME_COLUMNS:
        found[name] = pd.DatetimeIndex(found[name]).tz_localize("UTC").array
    found["tokens_per_second"] = _tokens_per_second(found["completion_tokens"], found["decode_ms"])
    return found


def _tokens_per_second(completion: np.ndarray, decode_ms: np.ndarray) -> np.ndarray:
    """As the server computes it: completion tokens over the time after the first token,
    none for a single-chunk reply (no decode time)."""
    tokens = np.asarray(completion, dtype=np.float64)
    seconds = np.asarray(decode_ms, dtype=np.float64) / 1000
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((seconds > 0) & (tokens > 0), np.round(tokens / seconds, 2), np.nan)


def turns_frame(results: pd.DataFrame) -> pd.DataFrame:
    """One row per turn, derived from its results (one per window it went to)."""
    empty = frame(TURNS, {})
    if results.empty:
        return empty
    by_turn = results.groupby("turn_id", sort=True, observed=True)
    finished = by_turn["finished_at"].max()
    # A turn is finished when every one of its results is.
    finished[by_turn["finished_at"].count() < by_turn.size()] = pd.NaT
    status = results["status"].astype("string")
    turns = pd.DataFrame(
        {
            "conversation_id": by_turn["conversation_id"].first(),
            "replaces_turn_id": by_turn["replaces_turn_id"].first(),
            "prompt": by_turn["prompt"].first(),
            "mode": by_turn["mode"].first(),
            # every result of a turn has the turn's source (the server writes them so)
            "source": by_turn["source"].first(),
            "windows": by_turn.size(),
            **{
                name: (status == name).groupby(results["turn_id"]).sum()
                for name in ("succeeded", "failed", "cancelled")
            },
            "created_at": by_turn["created_at"].min(),
            "finished_at": finished,
        }
    ).reset_index()
    return turns[list(empty.columns)].astype(empty.dtypes.to_dict())
