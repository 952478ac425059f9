"""``chatmore/streams/*``: stream tickets (and the SSE stream of a turn)."""

from __future__ import annotations

from ..errors import validation
from ..services import schemas as s
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import Query, operation
from .sse import EVENT_STREAM, write_events


class TicketHandler(ApiHandler):
    @operation(
        "A 60 s single-use ticket for the stream of one turn",
        access="user",
        body=s.TICKET_REQUEST,
        answers={200: s.TICKET},
    )
    @authenticated()
    async def post(self) -> None:
        body = self.json_body()
        ticket = await self.runtime.auth.issue_ticket(self.user, body.get("turn_id"))
        self.send({"stream_token": ticket.token, "expires_in": int(ticket.ttl)})


class TurnStreamHandler(ApiHandler):
    streaming = True

    """``GET streams/turn/{id}?st=…&last_event_id=…``: the turn's events as SSE.

    Authenticated by a stream ticket (single use, bound to the turn and its owner). A
    client resumes after the last id it saw, by query or ``Last-Event-ID`` header; it
    disconnecting does not stop the turn.
    """

    @operation(
        "The turn's events as Server-Sent Events (chunk, final, error, done)",
        access="ticket",
        answers={200: EVENT_STREAM},
        query=(
            Query("st", {"type": "string"}, "the stream ticket"),
            Query("last_event_id", {"type": "integer", "minimum": 0}, "resume after it"),
        ),
        not_found="TURN_NOT_FOUND",
    )
    async def get(self, turn: int) -> None:
        after = self._last_event_id()  # checked before the ticket is spent
        user = await self.runtime.auth.redeem_ticket(self.get_query_argument("st", None), turn)
        # DESIGN §8: a comment line at least every 15 s, also while a provider stalls.
        heartbeat = self.runtime.settings.sse_heartbeat
        await write_events(
            self, self.runtime.conversations.events(turn, user.id, after, heartbeat)
        )

    def _last_event_id(self) -> int:
        raw = self.get_query_argument("last_event_id", None) or self.request.headers.get(
            "Last-Event-ID"
        )
        if not raw:
            return 0
        raw = raw.strip()
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
            raise validation("last_event_id must be a whole number, not negative")
        return int(raw)

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.clear_header("Cache-Control")
