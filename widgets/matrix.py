"""The experiment matrix: prompts as rows, windows as columns, one cell per result.

:class:`MatrixWidget` is an anywidget. Its synced traits are small (the windows, the
prompts, the progress); the cells travel as custom messages — a view asks for all of them
when it opens (``{"type": "hello"}``) and then gets only the cells that changed
(``{"type": "cells", "cells": [...]}``) — so that a 1,000 × 8 matrix never goes through a
trait on every update. While the experiment runs, a background thread polls its
:class:`MatrixSource` and forwards what changed. Replies are untrusted: the front end
renders them as sanitised Markdown, like the board.
"""

from __future__ import annotations

import logging
import pathlib
import threading
from typing import Any, Protocol

import anywidget
import traitlets as t

from . import i18n
from ._version import __version__

log = logging.getLogger(__name__)

STATIC = pathlib.Path(__file__).parent / "static"
POLL_SECONDS = 0.5
FINAL = frozenset({"succeeded", "failed", "cancelled"})
# What a cell carries to the front end.
CELL_KEYS = (
    "result_id",
    "case_id",
    "sample",
    "window_id",
    "status",
    "error_code",
    "error_message",
    "reply",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "ttft_ms",
    "cost",
)

_UNBUILT_ESM = """
export default {
  render({ el }) {
    el.textContent = "ChatMore's widget front end is not built: run `npm ci && node "
      + "build.mjs` in widgets/.";
  },
};
"""


def _asset(name: str, fallback: str) -> pathlib.Path | str:
    path = STATIC / name
    return path if path.is_file() else fallback


class MatrixSource(Protocol):
    """Where the matrix reads an experiment from (``chatmore_kernel`` provides one)."""

    def info(self) -> dict[str, Any]:
        """The experiment as ``GET api/experiments/{id}`` shows it."""

    def cases(self) -> list[dict[str, Any]]:
        """``[{"case_id", "position", "prompt"}]`` in order."""

    def cells(self, after_id: int) -> list[dict[str, Any]]:
        """The results with ids above ``after_id``, in id order (CELL_KEYS each)."""


class MatrixWidget(anywidget.AnyWidget):
    """A live table of an experiment's cells; ``close()`` stops following it."""

    _esm = _asset("matrix.js", _UNBUILT_ESM)
    _css = _asset("matrix.css", "")

    title = t.Unicode("").tag(sync=True)
    windows = t.List(t.Dict(), help="[{id, name, model}] in column order").tag(sync=True)
    cases = t.List(t.Dict(), help="[{case_id, position, prompt}] in row order").tag(sync=True)
    samples = t.Int(1).tag(sync=True)
    progress = t.Dict(help="the experiment's status and counts").tag(sync=True)
    height = t.Int(560, help="Height of the table, in pixels.").tag(sync=True)
    _chatmore_version = t.Unicode(__version__).tag(sync=True)
    locale = t.Unicode("", help="The page's language (en, zh), set by the front end.").tag(
        sync=True
    )

    @t.observe("locale")
    def _speak_the_page_language(self, change: dict[str, Any]) -> None:
        if change["new"]:
            i18n.set_locale(change["new"])

    def __init__(self, source: MatrixSource, *, height: int = 560, follow: bool = True) -> None:
        info = source.info()
        super().__init__(
            title=info.get("name") or f"Experiment {info['id']}",
            windows=[
                {"id": w["id"], "name": w["name"], "model": w.get("model_name", "")}
                for w in info["windows"]
            ],
            cases=source.cases(),
            samples=int(info.get("samples", 1)),
            progress=_progress(info),
            height=height,
        )
        self._source = source
        self._cells: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.on_msg(self._on_message)
        self._poll()
        self._thread: threading.Thread | None = None
        if follow and info.get("status") == "running":
            self._thread = threading.Thread(target=self._follow, daemon=True, name="matrix")
            self._thread.start()

    # -- data -----------------------------------------------------------------------------

    @property
    def cells(self) -> list[dict[str, Any]]:
        """The cells known so far, in result-id order."""
        with self._lock:
            return [dict(self._cells[k]) for k in sorted(self._cells)]

    def _poll(self) -> list[dict[str, Any]]:
        """Read what changed: the rows from the first one still running (cells run
        roughly in id order, so that is a short band) and every newer one."""
        with self._lock:
            open_ids = [k for k, c in self._cells.items() if c["status"] not in FINAL]
            after = (min(open_ids) - 1) if open_ids else max(self._cells, default=0)
        changed = []
        for cell in self._source.cells(after):
            shown = {k: cell.get(k) for k in CELL_KEYS}
            with self._lock:
                if self._cells.get(shown["result_id"]) != shown:
                    self._cells[shown["result_id"]] = shown
                    changed.append(shown)
        return changed

    def _follow(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                info = self._source.info()
                changed = self._poll()
                if changed:
                    self.send({"type": "cells", "cells": changed})
                self.progress = _progress(info)
                if info.get("status") != "running":
                    changed = self._poll()  # the last cells finalised before the end
                    if changed:
                        self.send({"type": "cells", "cells": changed})
                    return
            except Exception:  # the kernel's connection may come and go: try again
                log.warning("matrix: could not read the experiment", exc_info=True)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "hello":
            self.send({"type": "cells", "cells": self.cells, "reset": True})

    def close(self) -> None:
        self._stop.set()
        super().close()


def _progress(info: dict[str, Any]) -> dict[str, Any]:
    return {"status": info.get("status"), **(info.get("progress") or {})}
