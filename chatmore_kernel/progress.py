"""A live progress line for long calls: an HTML bar in a notebook (updated in place),
a carriage-returned text line elsewhere."""

from __future__ import annotations

import html
import sys
import time
from typing import Any

from widgets.i18n import format_number, t


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return t("duration.hours", hours=seconds // 3600, minutes=f"{seconds % 3600 // 60:02d}")
    if seconds >= 60:
        return t("duration.minutes", minutes=seconds // 60, seconds=f"{seconds % 60:02d}")
    return t("duration.seconds", seconds=seconds)


class ProgressBar:
    """Done / failed / running, tokens, cost and the time left, of an experiment."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._started = time.monotonic()
        self._first_done: int | None = None
        self._handle: Any = None
        self._text = ""

    def _estimate(self, done: int, total: int) -> str:
        if self._first_done is None:
            self._first_done = done
        elapsed = time.monotonic() - self._started
        gained = done - self._first_done
        if done >= total:
            return t("progress.took", duration=_duration(elapsed))
        if gained <= 0 or elapsed <= 0:
            return t("progress.eta_unknown")
        return t("progress.eta", duration=_duration((total - done) * elapsed / gained))

    def update(self, info: dict[str, Any], note: str = "") -> None:
        p = info["progress"]
        done = p["succeeded"] + p["failed"] + p["cancelled"]
        total = max(p["total"], 1)
        currency = p.get("currency") or ""
        parts = [
            t(
                "progress.line",
                title=self.title,
                done=format_number(done),
                total=format_number(p["total"]),
                succeeded=format_number(p["succeeded"]),
                failed=format_number(p["failed"]),
                running=format_number(p["running"]),
                tokens=format_number(p["prompt_tokens"] + p["completion_tokens"]),
            )
        ]
        if p.get("cost") is not None:
            cost = f"{format_number(p['cost'], 4)} {currency}".strip()
            parts.append(t("progress.cost", cost=cost))
        status = info["status"]
        parts.append(
            self._estimate(done, p["total"]) if status == "running" else t(f"status.{status}")
        )
        if note:
            parts.append(note)
        self._text = " · ".join(parts)
        self._html = (
            f'<div class="chatmore-progress"><progress value="{done}" max="{total}" '
            f'style="width:60%"></progress> <span>{html.escape(self._text)}</span></div>'
        )
        self._show()

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return self._text

    def _show(self) -> None:
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:  # pragma: no cover - IPython is a dependency
            get_ipython = None  # type: ignore[assignment]
        if get_ipython is not None and get_ipython() is not None:
            if self._handle is None:
                self._handle = display(self, display_id=True)
            else:
                self._handle.update(self)
            return
        sys.stderr.write("\r" + self._text)
        sys.stderr.flush()
