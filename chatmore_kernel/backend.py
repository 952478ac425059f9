"""The board's link to the server: :class:`ServerBackend`, a ``widgets.BoardBackend``.

Each method is one API call made with the kernel's credentials; the browser only ever
gets stream tickets (single use, about a minute, bound to one turn). Errors the user must
see become :class:`widgets.BoardError` with the server's code; a broken connection while
reading events is raised as is, so that the board's follower resumes after the last id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from widgets import BoardError
from widgets.i18n import t

from .errors import ChatMoreError
from .http import ApiClient
from .sse import stream_ticket, turn_events

STREAM_PATH = "chatmore/streams/turn/{turn_id}"


def _board_error(exc: ChatMoreError) -> BoardError:
    return BoardError(exc.code, exc.message)


class ServerBackend:
    """The services of one board, for the conversation ``conversation_id``."""

    def __init__(self, api: ApiClient, conversation_id: int) -> None:
        self._api = api
        self.conversation_id = conversation_id

    def __repr__(self) -> str:
        return f"ServerBackend(conversation_id={self.conversation_id}, url={self._api.url!r})"

    def send_turn(
        self, content: str, window_ids: list[int] | None, replaces_turn_id: int | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"content": content}
        if window_ids is not None:
            body["window_ids"] = window_ids
        if replaces_turn_id is not None:
            body["replaces_turn_id"] = replaces_turn_id
        try:
            started = self._api.post(f"api/conversations/{self.conversation_id}/messages", body)
        except ChatMoreError as exc:
            raise _board_error(exc) from None
        return {"turn_id": started["turn_id"], "window_ids": started["window_ids"]}

    def stream_ticket(self, turn_id: int) -> str:
        try:
            return stream_ticket(self._api, turn_id)
        except ChatMoreError as exc:
            raise _board_error(exc) from None

    def stream_path(self, turn_id: int) -> str:
        return STREAM_PATH.format(turn_id=turn_id)

    def cancel(self, turn_id: int, window_ids: list[int] | None) -> None:
        body = {"window_ids": window_ids} if window_ids is not None else {}
        try:
            self._api.post(f"api/turns/{turn_id}/cancel", body)
        except ChatMoreError as exc:
            raise _board_error(exc) from None

    def iter_events(self, turn_id: int, last_event_id: int | None) -> Iterator[dict[str, Any]]:
        try:
            yield from turn_events(self._api, turn_id, last_event_id)
        except ChatMoreError as exc:
            # A refusal (the turn is gone, the session ended) is final; a lost or broken
            # connection is not: the caller resumes after the last event it saw.
            if (exc.status is not None and exc.status < 500) or exc.code == "SESSION_CLOSED":
                raise _board_error(exc) from None
            raise

    def vote(
        self, turn_id: int, winner: int | str, window_ids: list[int], blind: bool
    ) -> dict[str, Any]:
        """Vote on a turn: ``winner`` a window id, "tie" or "all_bad"; the turn's results
        compared in the order of ``window_ids`` (the columns as shown)."""
        from .judging import turn_rows

        try:
            rows = turn_rows(self._api, turn_id)
            result_of = dict(zip(rows["window_id"], rows["result_id"], strict=True))
            if isinstance(winner, int) and winner not in result_of:
                raise BoardError("VALIDATION_FAILED", t("board.error.no_reply", window=winner))
            body = {
                "turn_id": turn_id,
                "winner": int(result_of[winner]) if isinstance(winner, int) else winner,
                "result_ids": [int(result_of[w]) for w in window_ids if w in result_of],
                "blind": blind,
            }
            return self._api.post("api/votes", body)
        except ChatMoreError as exc:
            raise _board_error(exc) from None
