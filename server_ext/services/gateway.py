"""The recording gateway (DESIGN §12): OpenAI's Chat Completions in front of ChatMore's
models, each call stored as a turn.

A call is authenticated by a personal API key (``api_keys.py``) and lands in a
conversation of its caller: one per key and UTC day, or the one the client names with
``X-ChatMore-Conversation`` (a title groups calls; digits name an existing conversation,
which must be the caller's). The conversation has a window per model called. The call's
rows are written when it starts, while the upstream call opens, checkpointed about once
a second while it streams and finalised once, with ``source = 'gateway'``, the request
as sent, the reply and its tool calls, usage, TTFT, latency, finish reason and error.
Nothing is written per token. The provider's events reach the client unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from ..errors import ChatMoreError
from ..store import gateway as gateway_store
from ..store import models as model_store
from ..store import turns as turn_store
from ..store.db import Database, utcnow
from .api_keys import KeyCaller
from .circuits import CircuitBreakers
from .gateway_wire import GatewayRequest, conversation_choice, error_event, parse_request
from .models import ModelService
from .provider_client import ProviderError
from .provider_passthrough import PassthroughClient, Upstream
from .quotas import QuotaService
from .rate_limits import RateLimiter

log = logging.getLogger("chatmore.gateway")

DONE = b"data: [DONE]\n\n"
CHECKPOINT_SECONDS = 1.0
SHUTDOWN_GRACE_SECONDS = 10.0
# How long a model looked up by name is trusted from memory (a change made through this
# server or another takes at most this long to reach the gateway).
MODEL_CACHE_SECONDS = 2.0


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class GatewayCall:
    """One call in flight: its upstream answer, its rows, how it ends."""

    def __init__(
        self,
        service: GatewayService,
        caller: KeyCaller,
        request: GatewayRequest,
        model: dict[str, Any],
        upstream: Upstream,
        ids: dict[str, int],
        started_at: dt.datetime,
    ) -> None:
        self.service = service
        self.caller = caller
        self.request = request
        self.model = model
        self.upstream = upstream
        self.ids = ids
        self.started_at = started_at
        self.client_gone = False
        self.finished = False
        self.probe = False  # the probe call of the model's open circuit
        self.dirty = False

    @property
    def streamed(self) -> bool:
        return self.request.stream

    async def stream(self) -> AsyncIterator[bytes]:
        """The SSE bytes for the client, ``[DONE]`` last; an upstream failure mid-stream
        is an OpenAI error event. The call is finalised when this ends or is closed."""
        error: ChatMoreError | None = None
        keep_usage = self.request.include_usage
        try:
            async for batch in self.upstream.events():
                block = b"".join(
                    b"data: " + data + b"\n\n"
                    for data in batch
                    if keep_usage or not _usage_only(data)
                )
                self.dirty = True
                if block:
                    yield block
            yield DONE
        except ProviderError as exc:
            error = exc
            yield error_event(exc)
        except (asyncio.CancelledError, GeneratorExit):
            error = ChatMoreError("CANCELLED", "the client went away mid-reply")
            raise
        except Exception:
            log.exception("gateway call %s: unexpected failure", self.ids["turn_id"])
            error = ChatMoreError("INTERNAL_ERROR", "an unexpected error ended this reply")
            yield error_event(error)
        finally:
            if self.client_gone and error is None:
                error = ChatMoreError("CANCELLED", "the client went away mid-reply")
            # Stored after the answer ends, so that the client does not wait for the write.
            self.service.in_background(self._finish(error))

    async def answer(self) -> bytes:
        """The whole answer's bytes (non-streamed), the call finalised."""
        try:
            data = await self.upstream.answer()
        except ProviderError as exc:
            self.service.in_background(self._finish(exc))
            raise
        except BaseException:
            self.service.in_background(
                self._finish(ChatMoreError("CANCELLED", "the client went away mid-answer"))
            )
            raise
        self.service.in_background(self._finish(None))
        return data

    def checkpoint_item(self) -> dict[str, Any]:
        return {
            "rid": self.ids["result_id"],
            "mid": self.ids["message_id"],
            "status": "streaming",
            "started_at": self.started_at,
            "event_log": {"chunks": [], "end": None},
            "content": self.upstream.recording.content(),
        }

    async def _finish(self, error: ChatMoreError | None) -> None:
        if self.finished:
            return
        self.finished = True
        self.service.running.pop(self.ids["turn_id"], None)
        with contextlib.suppress(Exception):
            await self.upstream.aclose()
        rec = self.upstream.recording
        loop_now = self.upstream.loop.time()
        started = self.upstream.started
        latency = round((loop_now - started) * 1000)
        ttft = None
        if self.streamed and rec.first_at is not None:
            ttft = round((rec.first_at - started) * 1000)
        decode = None
        if rec.first_at is not None and rec.last_at is not None and rec.last_at > rec.first_at:
            decode = round((rec.last_at - rec.first_at) * 1000)
        text = rec.content()
        usage = rec.usage or {}
        values: dict[str, Any] = {
            "finished_at": utcnow(),
            "ttft_ms": ttft,
            "latency_ms": latency,
            "decode_ms": decode,
            "finish_reason": rec.finish_reason,
            "prompt_tokens": _int(usage.get("prompt_tokens")),
            "completion_tokens": _int(usage.get("completion_tokens")),
            "total_tokens": _int(usage.get("total_tokens")),
            "tool_calls": rec.tool_call_list(),
            "event_log": {"chunks": [[1, len(text), latency]] if text else [], "end": 2},
        }
        if error is None:
            values["status"] = "succeeded"
        else:
            values["status"] = "cancelled" if error.code == "CANCELLED" else "failed"
            values["error_code"] = error.code
            values["error_message"] = error.message[:500]
        await self.service.record_end(self, text, values)
        await self.service.report(self.model, error, self.probe)


def _usage_only(data: bytes) -> bool:
    """Whether an event is the usage chunk (no choices, a usage object), which ChatMore
    asks for to record tokens and passes on only to clients that asked for it too.
    Quotes inside JSON strings are escaped, so these bytes only match the structure."""
    if b"[]" not in data and b"[ ]" not in data:
        return False
    compact = data.replace(b" ", b"")
    return b'"choices":[]' in compact and b'"usage":{' in compact


class GatewayService:
    def __init__(
        self,
        db: Database,
        models: ModelService,
        client: PassthroughClient,
        limits: RateLimiter | None = None,
        circuits: CircuitBreakers | None = None,
        runner: str | None = None,
        quotas: QuotaService | None = None,
    ) -> None:
        self.db = db
        self.quotas = quotas  # a used-up monthly budget refuses a call before it starts
        # This process's id (server_processes): it alone writes the calls it runs.
        self.runner = runner
        self.models = models
        self.client = client
        self.limits = limits
        self.circuits = circuits
        self.running: dict[int, GatewayCall] = {}
        self._models: dict[str, tuple[dict[str, Any] | None, float]] = {}
        self._checkpointer: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._checkpointer = asyncio.create_task(self._checkpoint_loop(), name="gateway-ckpt")

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` (a call's final write) without holding its caller; kept until done
        (and awaited on shutdown)."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def stop(self) -> None:
        """Finish storing the calls that ended, then stop checkpointing (calls still
        streaming are marked INTERRUPTED by the next start, like board turns)."""
        if self._background:
            await asyncio.wait(list(self._background), timeout=SHUTDOWN_GRACE_SECONDS)
        if self._checkpointer:
            self._checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpointer
        await self.client.aclose()

    # -- models -------------------------------------------------------------------------

    async def list_models(self) -> dict[str, Any]:
        rows = await self.db.read(_enabled_models)
        return {
            "object": "list",
            "data": [
                {
                    "id": row["name"],
                    "object": "model",
                    "created": int(row["created_at"].replace(tzinfo=dt.UTC).timestamp()),
                    "owned_by": row["provider_name"] or "chatmore",
                }
                for row in rows
            ],
        }

    async def _model(self, name: str) -> dict[str, Any]:
        now = time.monotonic()
        cached = self._models.get(name)
        if cached is not None and cached[1] > now:
            row = cached[0]
        else:
            row = await self.db.read(gateway_store.find_enabled_model, name)
            if len(self._models) > 1000:
                self._models.clear()
            self._models[name] = (row, now + MODEL_CACHE_SECONDS)
        if row is None:
            raise ChatMoreError(
                "MODEL_NOT_FOUND",
                f"the model {name!r} does not exist or you do not have access to it",
                field="model",
            )
        return row

    # -- a call -------------------------------------------------------------------------

    async def open(
        self, caller: KeyCaller, body: dict[str, Any], conversation_header: str | None
    ) -> GatewayCall:
        """Validate, write the call's rows while the upstream call opens, and return the
        call once the provider has answered with a success status. A refused call leaves
        no row; a call the provider refuses is recorded as failed, then raised."""
        request = parse_request(body)
        conversation_id, title = conversation_choice(conversation_header)
        if self.quotas is not None:
            await self.quotas.check(caller.user)
        model = await self._model(request.model)
        target = self.models.target(model)
        probe = await self.circuits.allow(model["id"], model["name"]) if self.circuits else False
        started_at = utcnow()
        day = started_at.date().isoformat()
        thread = f"title:{title}" if title else f"key:{caller.key_id}:{day}"
        store_kwargs = {
            "user_id": caller.user.id,
            "key_id": caller.key_id,
            "model": model,
            "thread": None if conversation_id else thread,
            "title": title or f"Gateway · {caller.key_name} · {day}",
            "conversation_id": conversation_id,
            "content": request.prompt,
            "request": body,
            "at": started_at,
            "runner": self.runner,
        }
        defaults = model["default_params"] or {}
        rows = asyncio.ensure_future(self.db.write(self._admit_and_start, store_kwargs))
        upstream_body = request.upstream_body(defaults)
        opening: asyncio.Future | None = None
        # Far from every rate limit, the upstream call opens while the rows are written;
        # near one, it waits for the admission.
        if self.limits is None or self.limits.roomy(caller.user.id, caller.key_id):
            opening = asyncio.ensure_future(self.client.open(target, upstream_body))
        try:
            ids = await rows
        except BaseException as exc:
            if opening is not None:
                await _drop(opening)
            if isinstance(exc, gateway_store.ConversationMissing):
                raise ChatMoreError(
                    "CONVERSATION_NOT_FOUND",
                    "no conversation of yours has that id",
                    field="X-ChatMore-Conversation",
                ) from None
            raise
        if opening is None:
            opening = asyncio.ensure_future(self.client.open(target, upstream_body))
        try:
            upstream = await opening
        except ProviderError as exc:
            await self._record_refusal(ids, exc)
            await self.report(model, exc, probe)
            raise
        except BaseException as exc:
            await self._record_refusal(
                ids, ChatMoreError("INTERNAL_ERROR", "the call could not be made")
            )
            if isinstance(exc, Exception):
                log.exception("gateway call %s: could not open", ids["turn_id"])
            raise
        call = GatewayCall(self, caller, request, model, upstream, ids, started_at)
        call.probe = probe
        self.running[ids["turn_id"]] = call
        return call

    def _admit_and_start(self, conn: Any, kwargs: dict[str, Any]) -> dict[str, int]:
        """One transaction: the rate limits' admission, then the call's rows."""
        if self.limits is not None:
            self.limits.admit(
                conn,
                user_id=kwargs["user_id"],
                key_id=kwargs["key_id"],
                streams=1,
                at=kwargs["at"],
            )
        return gateway_store.start_call(conn, **kwargs)

    async def report(
        self, model: dict[str, Any], error: BaseException | None, probe: bool
    ) -> None:
        """Tell the model's circuit breaker how a call ended."""
        if self.circuits is None:
            return
        try:
            await self.circuits.report(model["id"], model["name"], error, probe=probe)
        except Exception:
            log.exception("circuit of model %s: could not record an outcome", model["id"])

    async def _record_refusal(self, ids: dict[str, int], exc: ChatMoreError) -> None:
        values: dict[str, Any] = {
            "status": "failed",
            "error_code": exc.code,
            "error_message": exc.message[:500],
            "finished_at": utcnow(),
            "latency_ms": getattr(exc, "latency_ms", None),
            "event_log": {"chunks": [], "end": 1},
        }
        await asyncio.shield(self._write_end(ids, "", values))

    async def record_end(self, call: GatewayCall, text: str, values: dict[str, Any]) -> None:
        await self._write_end(call.ids, text, values)
        log.info(
            "gateway call turn=%s user=%s key=%s model=%s status=%s code=%s ttft_ms=%s "
            "latency_ms=%s completion_tokens=%s",
            call.ids["turn_id"],
            call.caller.user.id,
            call.caller.key_id,
            call.model["id"],
            values["status"],
            values.get("error_code"),
            values["ttft_ms"],
            values["latency_ms"],
            values["completion_tokens"],
        )

    async def _write_end(self, ids: dict[str, int], text: str, values: dict[str, Any]) -> None:
        try:
            await self.db.write(
                gateway_store.finish_call,
                turn_id=ids["turn_id"],
                result_id=ids["result_id"],
                message_id=ids["message_id"],
                runner=self.runner,
                content=text,
                values=values,
            )
        except Exception:
            log.exception("gateway call %s: could not store its outcome", ids["turn_id"])

    # -- checkpoints --------------------------------------------------------------------

    async def checkpoint_now(self) -> None:
        items = []
        for call in list(self.running.values()):
            if call.dirty and not call.finished:
                call.dirty = False
                items.append(call.checkpoint_item())
        if items:
            await self.db.write(turn_store.checkpoint, items)

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                await self.checkpoint_now()
            except Exception:
                log.exception("gateway checkpoint failed; the next one will retry")


async def _drop(opening: asyncio.Future) -> None:
    """Cancel an upstream call whose rows could not be written; close it if it opened."""
    opening.cancel()
    with contextlib.suppress(BaseException):
        upstream = await opening
        await upstream.aclose()


def _enabled_models(conn: Any) -> list[dict[str, Any]]:
    return model_store.list_models(conn, enabled_only=True)
