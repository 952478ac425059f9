"""``chatmore/api/conversations`` and ``chatmore/api/turns``: conversations, their
windows, the turns sent to them, and their history."""

from __future__ import annotations

from .auth_decorators import authenticated
from .base import ApiHandler
from .sse import wants_event_stream, write_events

PAGE = 50
HISTORY_PAGE = 100


class ConversationsHandler(ApiHandler):
    @authenticated()
    async def get(self) -> None:
        page = await self.runtime.conversations.list(
            self.user,
            archived=self.get_query_argument("archived", "no"),
            limit=self.query_int("limit", PAGE, lo=1, hi=200),
            cursor=self.get_query_argument("cursor", None),
        )
        self.send(page)

    @authenticated()
    async def post(self) -> None:
        created = await self.runtime.conversations.create(self.user, self.json_body())
        self.send(created, status=201)


class ConversationHandler(ApiHandler):
    @authenticated()
    async def get(self, conversation_id: str) -> None:
        self.send(await self.runtime.conversations.get(self.user, int(conversation_id)))

    @authenticated()
    async def patch(self, conversation_id: str) -> None:
        changed = await self.runtime.conversations.update(
            self.user, int(conversation_id), self.json_body()
        )
        self.send(changed)


class MessagesHandler(ApiHandler):
    @authenticated()
    async def get(self, conversation_id: str) -> None:
        window = self.get_query_argument("window_id", None)
        history = await self.runtime.conversations.history(
            self.user,
            int(conversation_id),
            window_id=self.query_int("window_id", 0, lo=1) if window else None,
            before=self.query_int("before", 0, lo=1) or None,
            limit=self.query_int("limit", HISTORY_PAGE, lo=1, hi=500),
        )
        self.send(history)

    @authenticated()
    async def post(self, conversation_id: str) -> None:
        """Start a turn: 202 with its ids, or — asked with ``Accept: text/event-stream`` —
        the turn's events themselves (DESIGN §8), its ids in ``X-ChatMore-Turn-Id`` and
        ``X-ChatMore-Window-Ids``: one request instead of three."""
        started = await self.runtime.conversations.send(
            self.user, int(conversation_id), self.json_body()
        )
        if not wants_event_stream(self):
            self.send(started, status=202)
            return
        turn_id = started["turn_id"]
        self.streaming = True
        self.set_header("X-ChatMore-Turn-Id", str(turn_id))
        self.set_header("X-ChatMore-Window-Ids", ",".join(map(str, started["window_ids"])))
        heartbeat = self.runtime.settings.sse_heartbeat
        await write_events(
            self, self.runtime.conversations.events(turn_id, self.user.id, 0, heartbeat)
        )


class TurnHandler(ApiHandler):
    @authenticated()
    async def get(self, turn_id: str) -> None:
        self.send(await self.runtime.conversations.turn(self.user, int(turn_id)))


class TurnCancelHandler(ApiHandler):
    @authenticated()
    async def post(self, turn_id: str) -> None:
        self.send(
            await self.runtime.conversations.cancel(self.user, int(turn_id), self.json_body())
        )
