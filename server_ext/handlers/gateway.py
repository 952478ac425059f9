"""``chatmore/v1/``: the recording gateway, in OpenAI's own wire format (DESIGN §12).

Authenticated by personal API keys only; errors are OpenAI's
``{"error": {"message", "type", "param", "code"}}`` (``services/gateway_wire.py``).
A streamed answer is written and flushed block by block as the provider sends it.
"""

from __future__ import annotations

from typing import Any

from tornado.iostream import StreamClosedError

from ..errors import ChatMoreError
from ..jsonutil import dumps
from ..services import schemas as s
from ..services.api_keys import KeyCaller
from ..services.gateway_wire import CONVERSATION_HEADER, error_body, openai_error
from .base import ApiHandler
from .operations import operation

MAX_GATEWAY_BODY = 16 * 1024 * 1024


class GatewayHandler(ApiHandler):
    """Base of the gateway's routes: key authentication and OpenAI-shaped errors."""

    # Requests carry whole conversations (and sometimes images as data URLs).
    max_json_body = MAX_GATEWAY_BODY

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ChatMoreError):
            status, body = openai_error(exc)
            retry_after = exc.details.get("retry_after") if exc.details else None
            if retry_after is not None:
                self.set_header("Retry-After", str(retry_after))
        elif status_code == 404:
            status, body = (
                404,
                error_body("Unknown request URL.", "invalid_request_error", "unknown_url"),
            )
        elif status_code < 500:
            status, body = status_code, error_body(self._reason, "invalid_request_error", None)
        else:
            status, body = 500, error_body("The server had an error.", "server_error", None)
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(dumps(body))

    async def caller(self) -> KeyCaller:
        return await self.runtime.api_keys.authenticate(self.request.headers.get("Authorization"))


class ModelsHandler(GatewayHandler):
    @operation(
        "The caller's enabled models, in OpenAI's list shape",
        access="api_key",
        answers={200: s.OPEN_OBJECT},
        errors=s.OPENAI_ERROR,
    )
    async def get(self) -> None:
        await self.caller()
        self.send(await self.runtime.gateway.list_models())


class ChatCompletionsHandler(GatewayHandler):
    streaming = True

    @operation(
        "OpenAI's Chat Completions, streamed or not, recorded as a turn",
        access="api_key",
        body=s.OPEN_OBJECT,
        answers={200: s.OPEN_OBJECT},
        errors=s.OPENAI_ERROR,
        description="The body and the answer are OpenAI's; streamed with stream=true.",
    )
    async def post(self) -> None:
        caller = await self.caller()
        call = await self.runtime.gateway.open(
            caller, self.json_body(), self.request.headers.get(CONVERSATION_HEADER)
        )
        self.set_header("X-ChatMore-Turn-Id", str(call.ids["turn_id"]))
        self.set_header("X-ChatMore-Conversation-Id", str(call.ids["conversation_id"]))
        if not call.streamed:
            self.set_status(200)
            self.finish(await call.answer())
            return
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        self.request.connection.stream.set_nodelay(True)  # type: ignore[attr-defined]
        blocks = call.stream()
        try:
            async for block in blocks:
                self.write(block)
                await self.flush()
        except StreamClosedError:
            call.client_gone = True
        finally:
            await blocks.aclose()
        if not call.client_gone:
            self.finish()


class NotFoundHandler(GatewayHandler):
    """Unknown paths under ``chatmore/v1/`` answer in OpenAI's error format."""

    catch_all = True  # answers only "not found": nothing to describe

    def prepare(self) -> None:
        raise ChatMoreError("NOT_FOUND", "Unknown request URL.")
