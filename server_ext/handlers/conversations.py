"""``chatmore/api/conversations`` and ``chatmore/api/turns``: conversations, their
windows, the turns sent to them, and their history."""

from __future__ import annotations

from ..services import schemas as s
from ..services.conversations import MAX_TITLE_CHARS
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import Query, operation, query_id
from .sse import EVENT_STREAM, wants_event_stream, write_events

PAGE = 50
HISTORY_PAGE = 100


class ConversationsHandler(ApiHandler):
    @operation(
        "The caller's conversations, newest first",
        access="user",
        answers={200: s.CONVERSATION_PAGE},
        query=(
            Query("archived", {"enum": ["no", "only", "all"]}, "default no"),
            Query(
                "q", {"type": "string", "maxLength": MAX_TITLE_CHARS}, "titles holding this text"
            ),
            Query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
            Query("cursor", {"type": "string"}, "the previous page's next_cursor"),
        ),
    )
    @authenticated()
    async def get(self) -> None:
        page = await self.runtime.conversations.list(
            self.user,
            archived=self.get_query_argument("archived", "no"),
            limit=self.query_int("limit", PAGE),
            cursor=self.get_query_argument("cursor", None),
            q=self.get_query_argument("q", None),
        )
        self.send(page)

    @operation(
        "Start a conversation with 1 to 16 windows",
        access="user",
        body=s.CONVERSATION_CREATE,
        answers={201: s.CONVERSATION},
    )
    @authenticated()
    async def post(self) -> None:
        created = await self.runtime.conversations.create(self.user, self.json_body())
        self.send(created, status=201)


class ConversationHandler(ApiHandler):
    @operation(
        "A conversation with its windows",
        access="user",
        answers={200: s.CONVERSATION},
        not_found="CONVERSATION_NOT_FOUND",
    )
    @authenticated()
    async def get(self, conversation_id: int) -> None:
        self.send(await self.runtime.conversations.get(self.user, conversation_id))

    @operation(
        "Rename, tag or archive a conversation",
        access="user",
        body=s.CONVERSATION_UPDATE,
        answers={200: s.CONVERSATION},
        not_found="CONVERSATION_NOT_FOUND",
    )
    @authenticated()
    async def patch(self, conversation_id: int) -> None:
        changed = await self.runtime.conversations.update(
            self.user, conversation_id, self.json_body()
        )
        self.send(changed)


class WindowsHandler(ApiHandler):
    @operation(
        "Add a window (a column) to a conversation; it joins from the next turn",
        access="user",
        body=s.WINDOW_SPEC,
        answers={201: s.CONVERSATION},
        not_found="CONVERSATION_NOT_FOUND",
    )
    @authenticated()
    async def post(self, conversation_id: int) -> None:
        changed = await self.runtime.conversations.add_window(
            self.user, conversation_id, self.json_body()
        )
        self.send(changed, status=201)


class MessagesHandler(ApiHandler):
    @operation(
        "Each window's chain of messages, newest page first",
        access="user",
        answers={200: s.HISTORY},
        query=(
            query_id("window_id", "only this window"),
            query_id("before", "the previous page's next_before"),
            Query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
        ),
        not_found="CONVERSATION_NOT_FOUND",
    )
    @authenticated()
    async def get(self, conversation_id: int) -> None:
        window = self.get_query_argument("window_id", None)
        history = await self.runtime.conversations.history(
            self.user,
            conversation_id,
            window_id=self.query_int("window_id", 0) if window else None,
            before=self.query_int("before", 0) or None,
            limit=self.query_int("limit", HISTORY_PAGE),
        )
        self.send(history)

    @operation(
        "Send a prompt: to every window, or to window_ids (a fork); with "
        "replaces_turn_id, a retry or an edited prompt in place of that last turn",
        access="user",
        body=s.MESSAGE,
        answers={202: s.TURN_STARTED, 200: EVENT_STREAM},
        not_found="CONVERSATION_NOT_FOUND",
    )
    @authenticated()
    async def post(self, conversation_id: int) -> None:
        """Start a turn: 202 with its ids, or — asked with ``Accept: text/event-stream`` —
        the turn's events themselves (DESIGN §8), its ids in ``X-ChatMore-Turn-Id`` and
        ``X-ChatMore-Window-Ids``: one request instead of three."""
        started = await self.runtime.conversations.send(
            self.user, conversation_id, self.json_body()
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
    @operation(
        "A turn and each window's result",
        access="user",
        answers={200: s.TURN},
        not_found="TURN_NOT_FOUND",
    )
    @authenticated()
    async def get(self, turn_id: int) -> None:
        self.send(await self.runtime.conversations.turn(self.user, turn_id))


class TurnCancelHandler(ApiHandler):
    @operation(
        "Stop some or all of a turn's windows",
        access="user",
        body=s.CANCEL,
        answers={200: s.CANCELLED},
        not_found="TURN_NOT_FOUND",
    )
    @authenticated()
    async def post(self, turn_id: int) -> None:
        self.send(await self.runtime.conversations.cancel(self.user, turn_id, self.json_body()))
