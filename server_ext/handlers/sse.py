"""Writing a turn's events as ``text/event-stream`` (DESIGN §8), for the stream route and
for a turn started in one request."""

from __future__ import annotations

from collections.abc import AsyncIterator

from tornado.iostream import StreamClosedError
from tornado.web import RequestHandler

from ..metrics import SSE_STREAMS
from ..streaming.events import HEARTBEAT, Event

EVENT_STREAM = "text/event-stream"


def wants_event_stream(handler: RequestHandler) -> bool:
    return EVENT_STREAM in handler.request.headers.get("Accept", "")


async def write_events(handler: RequestHandler, events: AsyncIterator[Event | None]) -> None:
    """Send the events as they come, a keep-alive comment for each ``None``; a client
    that goes away ends the writing, never the turn."""
    handler.set_header("Content-Type", f"{EVENT_STREAM}; charset=utf-8")
    handler.set_header("Cache-Control", "no-cache")
    handler.set_header("X-Accel-Buffering", "no")
    handler.write(": stream\n\n")
    SSE_STREAMS.inc()
    try:
        await handler.flush()
        async for item in events:
            handler.write(HEARTBEAT if item is None else item.sse)
            await handler.flush()
    except StreamClosedError:
        pass
    finally:
        SSE_STREAMS.dec()
        await events.aclose()  # type: ignore[attr-defined]
    if not handler._finished:
        handler.finish()
