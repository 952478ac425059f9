"""What the board needs from the rest of ChatMore: a :class:`BoardBackend`.

The widget knows nothing about HTTP. The notebook API (``chatmore_kernel``) hands it an
object with these five methods, which talk to the ChatMore server with the kernel's
credentials. Only stream tickets ever leave the kernel, and only in custom messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable


class BoardError(Exception):
    """A failure the board shows to the user: a stable ``code`` and a readable ``message``.

    Backends raise it with the server's error codes (``VALIDATION_FAILED``,
    ``WINDOW_BUSY``, ``TURN_NOT_FOUND`` …); the board adds a few of its own (see
    :data:`widgets.protocol.WIDGET_ERROR_CODES`).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@runtime_checkable
class BoardBackend(Protocol):
    """The kernel-side services of one board (one conversation)."""

    def send_turn(self, content: str, window_ids: list[int] | None) -> dict[str, Any]:
        """Start a turn; return ``{"turn_id": int, "window_ids": [int, ...]}``.

        ``window_ids`` None means every window. Raises :class:`BoardError`
        (e.g. ``VALIDATION_FAILED``, ``WINDOW_BUSY``). A retry or an edited prompt is
        sent with a keyword argument ``replaces_turn_id`` (the turn it replaces), which
        a backend that supports them accepts.
        """
        ...

    def stream_ticket(self, turn_id: int) -> str:
        """A fresh single-use stream ticket (valid 60 s) for the browser's EventSource."""
        ...

    def stream_path(self, turn_id: int) -> str:
        """The turn's SSE path relative to the Jupyter base URL: ``chatmore/streams/turn/<id>``."""
        ...

    def cancel(self, turn_id: int, window_ids: list[int] | None) -> None:
        """Cancel the turn's running results (all of them when ``window_ids`` is None)."""
        ...

    def iter_events(self, turn_id: int, last_event_id: int | None) -> Iterator[dict[str, Any]]:
        """Blocking iterator of the turn's SSE events, resuming after ``last_event_id``.

        Each event is ``{"event": "chunk"|"final"|"error"|"done", "id": int, "data": {...}}``;
        the iterator ends after ``done``.
        """
        ...
