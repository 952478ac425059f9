"""A turn's server-sent events, read in the kernel (DESIGN §8).

:func:`turn_events` opens ``GET chatmore/streams/turn/{id}`` with a fresh stream ticket
and yields ``{"event", "id", "data"}`` dicts until the turn's ``done``. Keep-alive
comments are skipped but still reset the read timeout, so a stalled provider does not end
the stream while the server keeps it alive.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from widgets.i18n import t

from .errors import ChatMoreError
from .http import ApiClient

# The server sends a comment at least every 15 s; twice that without a byte is a dead line.
READ_TIMEOUT_S = 45.0
EVENT_NAMES = frozenset({"chunk", "final", "error", "done"})


def parse_sse(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """SSE events from text lines: ``{"event", "id", "data"}`` with ``data`` decoded."""
    name, event_id, data = "message", None, []
    for line in lines:
        if line == "":
            if data:
                yield {
                    "event": name,
                    "id": int(event_id) if event_id and event_id.isdigit() else None,
                    "data": json.loads("\n".join(data)),
                }
            name, event_id, data = "message", None, []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "id":
            event_id = value
        elif field == "data":
            data.append(value)


def stream_ticket(api: ApiClient, turn_id: int) -> str:
    """A single-use ticket (about a minute) that opens the turn's stream once."""
    answer = api.post("streams/ticket", {"turn_id": turn_id})
    try:
        return str(answer["stream_token"])
    except (KeyError, TypeError):
        raise ChatMoreError("BAD_RESPONSE", t("error.ticket_no_token")) from None


def _read_timeout(deadline: float | None) -> httpx.Timeout:
    read = READ_TIMEOUT_S
    if deadline is not None:
        read = max(0.1, min(read, deadline - time.monotonic() + 0.5))
    return httpx.Timeout(read, connect=10.0)


def _until(lines: Iterable[str], deadline: float | None, turn_id: int) -> Iterator[str]:
    for line in lines:
        if deadline is not None and time.monotonic() > deadline:
            raise ChatMoreError("TIMEOUT", t("error.turn_timeout", turn=turn_id))
        yield line


def turn_events(
    api: ApiClient,
    turn_id: int,
    last_event_id: int | None = None,
    deadline: float | None = None,
) -> Iterator[dict[str, Any]]:
    """The turn's events after ``last_event_id``, until ``done`` (live or replayed).

    ``deadline`` (a ``time.monotonic()`` value) ends the wait with a TIMEOUT error; it is
    checked at every line, keep-alives included.
    """
    params: dict[str, Any] = {"st": stream_ticket(api, turn_id)}
    if last_event_id is not None:
        params["last_event_id"] = last_event_id
    with api.stream_get(f"streams/turn/{turn_id}", params, _read_timeout(deadline)) as response:
        for event in parse_sse(_until(response.iter_lines(), deadline, turn_id)):
            if event["event"] not in EVENT_NAMES:
                continue
            yield event
            if event["event"] == "done":
                return
    raise ChatMoreError("BAD_RESPONSE", t("error.stream_ended", turn=turn_id))


class TurnStream:
    """A turn started in one request: ``POST …/messages`` with ``Accept:
    text/event-stream`` answers with the turn's events. ``turn_id`` is known once the
    answer's headers have come; iterating yields the events until ``done``."""

    def __init__(
        self, api: ApiClient, conversation_id: int, body: dict[str, Any], deadline: float | None
    ) -> None:
        self._api, self._body, self._deadline = api, body, deadline
        self._path = f"api/conversations/{conversation_id}/messages"
        self.turn_id: int | None = None
        self.last_event_id: int | None = None

    def events(self) -> Iterator[dict[str, Any]]:
        headers = {"Accept": "text/event-stream"}
        timeout = _read_timeout(self._deadline)
        with self._api.stream_post(self._path, self._body, timeout, headers) as response:
            try:
                self.turn_id = int(response.headers["X-ChatMore-Turn-Id"])
            except (KeyError, ValueError):
                raise ChatMoreError("BAD_RESPONSE", t("error.turn_no_id")) from None
            lines = _until(response.iter_lines(), self._deadline, self.turn_id)
            for event in parse_sse(lines):
                if event["event"] not in EVENT_NAMES:
                    continue
                if event["id"] is not None:
                    self.last_event_id = event["id"]
                yield event
                if event["event"] == "done":
                    return
        raise ChatMoreError("BAD_RESPONSE", t("error.stream_ended", turn=self.turn_id))
