"""Reading a turn's SSE stream as a browser's EventSource would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class SseEvent:
    name: str
    id: int
    data: dict[str, Any]


def parse_lines(lines: Iterator[str]) -> Iterator[SseEvent | str]:
    """Events, and the text of comment lines (keep-alives) as plain strings."""
    name, event_id, data = "message", None, []
    for line in lines:
        if line == "":
            if data:
                yield SseEvent(name, int(event_id or 0), json.loads("\n".join(data)))
            name, event_id, data = "message", None, []
        elif line.startswith(":"):
            yield line[1:].strip()
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "id":
                event_id = value
            elif field == "data":
                data.append(value)


def ticket(client, turn_id: int) -> str:
    answer = client.post("streams/ticket", json={"turn_id": turn_id})
    assert answer.status_code == 200, answer.text
    return answer.json()["stream_token"]


def open_stream(
    server_api_url: str,
    turn_id: int,
    st: str,
    last_event_id: int | None = None,
    timeout: float = 60,
):
    params: dict[str, Any] = {"st": st}
    if last_event_id is not None:
        params["last_event_id"] = last_event_id
    return httpx.stream(
        "GET", f"{server_api_url}streams/turn/{turn_id}", params=params, timeout=timeout
    )


def read_events(
    client,
    turn_id: int,
    last_event_id: int | None = None,
    stop_after: int | None = None,
    keepalives: list[str] | None = None,
) -> list[SseEvent]:
    """Events until ``done`` (or ``stop_after`` of them), with a fresh ticket."""
    events: list[SseEvent] = []
    with open_stream(client.server.api_url, turn_id, ticket(client, turn_id), last_event_id) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        for item in parse_lines(r.iter_lines()):
            if isinstance(item, str):
                if keepalives is not None:
                    keepalives.append(item)
                continue
            events.append(item)
            if item.name == "done" or (stop_after and len(events) >= stop_after):
                break
    return events
