"""The demo provider's HTTP side: plain tornado handlers, mounted anywhere by :func:`routes`.

``POST v1/chat/completions`` streams (or answers whole) like OpenAI, with the pace, style
and faults the model name asks for (``model_spec.py``). ``GET v1/models`` lists the
presets. With recording on, ``GET``/``DELETE _demo/requests`` read and clear what was
received. Nothing here depends on Jupyter, so the same handlers serve inside the Jupyter
server and as a process of their own (``server.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

from tornado import web
from tornado.iostream import StreamClosedError

from .model_spec import ModelSpec, ModelSpecError, parse_model
from .presets import PRESETS
from .recorder import FirstSeen, Recorder
from .replies import (
    compose_reply,
    count_prompt_tokens,
    extend_to,
    judge_reply,
    last_user_text,
    tokenize,
)
from .tools import ToolCall, planned_call, tool_result_reply
from .wire import DONE, ChunkFormatter, completion, error_body, sse, usage_object

COMPLETIONS_PATH = "/v1/chat/completions"
# Frames buffered between flushes when streaming as fast as possible.
FLUSH_EVERY = 64
# A stalled stream gives up on its own after this long, so a forgotten client does not
# hold a handler forever.
STALL_LIMIT_S = 600.0
# Faults that strike after stall_after tokens of a stream.
MID_STREAM_FAULTS = frozenset(
    {"stall", "malformed", "early_close", "inband_error", "leak_key_inband"}
)
# What a model with the reasoning option thinks aloud (as reasoning_content deltas).
REASONING = "Let me think about this step by step before I answer the question. "
# Pause between the writes of one frame in the "split" fault.
SPLIT_PAUSE_S = 0.001


@dataclass
class DemoState:
    """What the handlers of one mounted provider share."""

    recorder: Recorder | None = None
    seen: FirstSeen = field(default_factory=FirstSeen)


class OpenAIError(web.HTTPError):
    """An error answered in OpenAI's shape: ``{"error": {message, type, param, code}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status)
        self.body = error_body(message, type_, param, code)
        self.headers = headers or {}


def invalid_request(
    message: str, param: str | None = None, code: str | None = None
) -> OpenAIError:
    return OpenAIError(400, message, "invalid_request_error", param=param, code=code)


class DemoHandler(web.RequestHandler):
    """Base: shared state, recording, OpenAI-shaped errors, no XSRF check."""

    # Whether requests to this handler are recorded (when recording is on).
    recorded = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Jupyter's start-up audit looks for this marker (set by its allow_unauthenticated
        # decorator); the demo provider is a keyless public endpoint unless a model asks
        # for a key. Set directly so that these handlers need nothing from Jupyter (and by
        # setattr: an attribute assignment in a class would mangle the name).
        for method in cls.SUPPORTED_METHODS:
            fn = cls.__dict__.get(method.lower())
            if fn is not None:
                setattr(fn, "__allow_unauthenticated", True)

    def initialize(self, state: DemoState) -> None:
        self.state = state
        self.entry: dict[str, Any] | None = None

    def check_xsrf_cookie(self) -> None:
        """Jupyter's app sets ``xsrf_cookies``; an API for programs has no cookie to check."""

    def prepare(self) -> None:
        if self.state.recorder is not None and self.recorded:
            self.entry = self.state.recorder.add(self.request)

    def on_finish(self) -> None:
        if self.entry is not None:
            self.entry["status"] = self.get_status()
            if self.entry["outcome"] is None:
                self.entry["outcome"] = "completed"

    def send_json(self, obj: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(obj, ensure_ascii=False))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, OpenAIError):
            for name, value in exc.headers.items():
                self.set_header(name, value)
            body = exc.body
        elif status_code == 404:
            body = error_body("Unknown request URL.", "invalid_request_error", None, "unknown_url")
        elif status_code < 500:
            body = error_body(self._reason, "invalid_request_error")
        else:
            body = error_body("The demo provider had an internal error.", "server_error")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, OpenAIError):
            return  # an answer, not a fault
        super().log_exception(typ, value, tb)


class NotFoundHandler(DemoHandler):
    def prepare(self) -> None:
        raise web.HTTPError(404)


class ModelsHandler(DemoHandler):
    """``GET v1/models``: the presets (any other name works too)."""

    def get(self) -> None:
        data = [
            {"id": name, "object": "model", "created": 1735689600, "owned_by": "chatmore-demo"}
            for name in PRESETS
        ]
        self.send_json({"object": "list", "data": data})


class RequestsHandler(DemoHandler):
    """``GET``/``DELETE _demo/requests``: what the provider received (recording only)."""

    recorded = False

    def _recorder(self) -> Recorder:
        if self.state.recorder is None:
            raise OpenAIError(
                404, "Recording is off (start the provider with --record).", "not_found"
            )
        return self.state.recorder

    def get(self) -> None:
        self.send_json({"requests": self._recorder().entries()})

    def delete(self) -> None:
        self._recorder().clear()
        self.set_status(204)
        self.finish()


class RedirectedHandler(DemoHandler):
    """Where the ``redirect`` fault points. A client that follows redirects lands here,
    which shows in the recorded requests."""

    def get(self) -> None:
        self.send_json(completion("redirected", "You followed a redirect.", "stop", None))

    post = get


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    stream: bool
    include_usage: bool
    max_tokens: int | None
    temperature: float
    top_p: float


def _number_param(body: dict[str, Any], name: str, default: float, lo: float, hi: float):
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise invalid_request(f"'{name}' must be a number between {lo:g} and {hi:g}.", name)
    return float(value)


def parse_chat_request(body: dict[str, Any]) -> ChatRequest:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise invalid_request("You must provide a model parameter.", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid_request(
            "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
        )
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in {
            "system",
            "developer",
            "user",
            "assistant",
            "tool",
            "function",
        }:
            raise invalid_request(f"Invalid value for 'messages[{i}].role'.", f"messages[{i}]")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise invalid_request("'stream' must be a boolean.", "stream")
    options = body.get("stream_options")
    if options is not None and not stream:
        raise invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        )
    if options is not None and not isinstance(options, dict):
        raise invalid_request("'stream_options' must be an object.", "stream_options")
    max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
    ):
        raise invalid_request("'max_tokens' must be a positive integer.", "max_tokens")
    if body.get("n", 1) != 1:
        raise invalid_request("The demo provider answers with one choice only (n=1).", "n")
    return ChatRequest(
        model=model,
        messages=messages,
        stream=stream,
        include_usage=bool(options and options.get("include_usage")),
        max_tokens=max_tokens,
        temperature=_number_param(body, "temperature", 1.0, 0, 2),
        top_p=_number_param(body, "top_p", 1.0, 0, 1),
    )


class ChatCompletionsHandler(DemoHandler):
    """``POST v1/chat/completions``."""

    def initialize(self, state: DemoState) -> None:
        super().initialize(state)
        self._gone = asyncio.Event()

    def on_connection_close(self) -> None:
        self._gone.set()
        self._mark("client_disconnected")

    async def post(self) -> None:
        try:
            body = json.loads(self.request.body or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise invalid_request("We could not parse the JSON body of your request.") from None
        if not isinstance(body, dict):
            raise invalid_request("The request body must be a JSON object.")
        request = parse_chat_request(body)
        try:
            spec = parse_model(request.model, self.request.headers.get("X-Demo-Fault"))
        except ModelSpecError as exc:
            raise invalid_request(str(exc), "model", "model_not_found") from None
        self._refuse_by_fault(spec, request, body)
        if spec.fault == "redirect":
            # The mount point as the client reached it (a Jupyter base URL included).
            root = self.request.path.removesuffix(COMPLETIONS_PATH)
            where = f"{self.request.protocol}://{self.request.host}{root}"
            self.redirect(f"{where}/_demo/redirected", status=302)
            return
        tokens, finish_reason = self._reply_tokens(spec, request)
        if spec.fault == "leak_key_finish":
            finish_reason = self._presented_key().lower()
        prompt_tokens = count_prompt_tokens(request.messages)
        tool_call = planned_call(body)
        try:
            if tool_call is not None:
                await self._call_tool(spec, request, tool_call, prompt_tokens)
            elif request.stream:
                await self._stream(spec, request, tokens, finish_reason, prompt_tokens)
            else:
                await self._answer(spec, request, tokens, finish_reason, prompt_tokens)
        except StreamClosedError:
            self.on_connection_close()

    # -- faults that answer instead of the model ----------------------------------------

    def _refuse_by_fault(self, spec: ModelSpec, request: ChatRequest, body: dict) -> None:
        fault = spec.fault
        if spec.checks_key and (
            spec.key is None or self.request.headers.get("Authorization") != f"Bearer {spec.key}"
        ):
            raise OpenAIError(
                401,
                "Incorrect API key provided.",
                "invalid_request_error",
                code="invalid_api_key",
            )
        if fault == "leak_key":
            key = self._presented_key()
            raise OpenAIError(
                400, f"Incorrect API key provided: {key}.", key.lower(), code=key.lower()
            )
        if fault == "rate_limit" or (fault == "rate_limit_once" and self._first_time(request)):
            wait = spec.retry_after
            raise OpenAIError(
                429,
                "Rate limit reached for requests. Please try again later.",
                "requests",
                code="rate_limit_exceeded",
                headers={
                    "Retry-After": str(math.ceil(wait)),
                    "retry-after-ms": str(int(wait * 1000)),
                },
            )
        if fault == "server_error" or (fault == "server_error_once" and self._first_time(request)):
            raise OpenAIError(
                500, "The server had an error while processing your request.", "server_error"
            )
        if fault == "context_length":
            raise invalid_request(
                "This model's maximum context length is 8192 tokens. However, your messages "
                "resulted in 9120 tokens. Please reduce the length of the messages.",
                "messages",
                code="context_length_exceeded",
            )
        if fault == "quota":
            raise OpenAIError(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                code="insufficient_quota",
            )
        if fault == "model_not_found":
            raise OpenAIError(
                404,
                f"The model `{spec.base_name}` does not exist or you do not have access to it.",
                "invalid_request_error",
                code="model_not_found",
            )
        if fault == "refuse_stream_options" and "stream_options" in body:
            raise invalid_request(
                "Unrecognized request argument supplied: stream_options", "stream_options"
            )

    def _presented_key(self) -> str:
        """The API key of the request, for the faults of a provider that echoes it."""
        return self.request.headers.get("Authorization", "").removeprefix("Bearer ").strip()

    def _first_time(self, request: ChatRequest) -> bool:
        material = json.dumps([request.model, request.messages], sort_keys=True)
        return self.state.seen.first_time(hashlib.sha256(material.encode()).hexdigest())

    def _reply_tokens(self, spec: ModelSpec, request: ChatRequest) -> tuple[list[str], str]:
        tool_reply = tool_result_reply(request.messages)
        if tool_reply is not None:
            text = tool_reply
        elif spec.echo:
            text = last_user_text(request.messages)
        elif spec.judge:
            text = judge_reply(last_user_text(request.messages))
        else:
            text = compose_reply(
                request.messages,
                base_name=spec.base_name,
                style=spec.preset.style,
                temperature=request.temperature,
                top_p=request.top_p,
            )
        tokens = tokenize(text)
        if spec.tokens is not None:
            tokens = extend_to(tokens, spec.tokens, text)
        if request.max_tokens is not None and len(tokens) > request.max_tokens:
            return tokens[: request.max_tokens], "length"
        return tokens, "stop"

    # -- answers ------------------------------------------------------------------------

    async def _pause(self, seconds: float) -> bool:
        """Wait, waking early if the client leaves. True while the client is there."""
        if seconds > 0 and not self._gone.is_set():
            try:
                async with asyncio.timeout(seconds):
                    await self._gone.wait()
            except TimeoutError:
                pass
        return not self._gone.is_set()

    async def _send(self, text: str, spec: ModelSpec, *, flush: bool) -> None:
        if spec.fault != "split":
            self.write(text)
            if flush:
                await self.flush()
            return
        # Each frame goes out in four writes, flushed and spaced apart so that they reach
        # the client as separate reads: cut inside "data:", mid-JSON and between the two
        # line ends that close the frame.
        cuts = [0, 3, len(text) // 2, len(text) - 1, len(text)]
        for start, end in itertools.pairwise(cuts):
            if start < end:
                self.write(text[start:end])
                await self.flush()
                await asyncio.sleep(SPLIT_PAUSE_S)

    async def _stream(
        self,
        spec: ModelSpec,
        request: ChatRequest,
        tokens: list[str],
        finish_reason: str,
        prompt_tokens: int,
    ) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.request.connection.stream.set_nodelay(True)  # type: ignore[attr-defined]
        fmt = ChunkFormatter(request.model, include_usage=request.include_usage)
        fault = spec.fault
        await self._send(fmt.role(), spec, flush=True)
        if not await self._pause(spec.ttft_ms / 1000):
            return
        if spec.reasoning:
            thoughts = "".join(fmt.reasoning(t) for t in tokenize(REASONING)[: spec.reasoning])
            await self._send(thoughts, spec, flush=True)
        loop = asyncio.get_running_loop()
        interval = 1 / spec.tps if spec.tps else 0.0
        start = loop.time()
        strike_at = min(spec.stall_after, len(tokens))
        strike = fault if fault in MID_STREAM_FAULTS else None
        for i, token in enumerate(tokens):
            if i == strike_at and strike and not await self._strike(strike, fmt, spec):
                return
            await self._send(
                fmt.content(token), spec, flush=bool(interval) or i % FLUSH_EVERY == 0
            )
            if interval and not await self._pause(start + (i + 1) * interval - loop.time()):
                return
        # A reply shorter than stall_after meets its fault at the end.
        if strike_at == len(tokens) and strike and not await self._strike(strike, fmt, spec):
            return
        tail = fmt.finish(finish_reason)
        if request.include_usage and fault != "no_usage":
            tail += fmt.usage(prompt_tokens, len(tokens))
        if fault != "no_done":
            tail += DONE
        self._mark("completed")  # before the last write: a client may hang up on [DONE]
        await self._send(tail, spec, flush=True)
        self.finish()

    async def _strike(self, fault: str, fmt: ChunkFormatter, spec: ModelSpec) -> bool:
        """A mid-stream fault. False when the stream ends here."""
        if fault == "malformed":
            await self._send(
                'data: {"id": "' + fmt.id + '", "choices": [{"delta": {"co\n\n', spec, flush=True
            )
            return True
        if fault == "inband_error":
            error = error_body(
                "The model is overloaded. Please try again later.",
                "server_error",
                None,
                "overloaded",
            )
            await self._send(sse(error), spec, flush=True)
            self.finish()
            return False
        if fault == "leak_key_inband":
            key = self._presented_key()
            error = error_body(f"Key {key} is over quota.", key.lower(), None, key.lower())
            await self._send(sse(error), spec, flush=True)
            self.finish()
            return False
        if fault == "early_close":
            await self.flush()
            self._abort("closed_early")
            return False
        # stall: nothing more is sent, and the connection stays open until the client goes.
        await self.flush()
        await self._pause(STALL_LIMIT_S)
        self._abort("stalled")
        return False

    async def _call_tool(
        self, spec: ModelSpec, request: ChatRequest, call: ToolCall, prompt_tokens: int
    ) -> None:
        """Answer with a call of a tool (``tools.py``), streamed or whole."""
        completion_tokens = len(call.pieces()) + 1
        usage = usage_object(prompt_tokens, completion_tokens)
        if not request.stream:
            if not await self._pause(spec.ttft_ms / 1000):
                return
            answer = completion(request.model, None, "tool_calls", usage, [call.message_part()])
            self.send_json(answer)
            return
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        fmt = ChunkFormatter(request.model, include_usage=request.include_usage)
        if not await self._pause(spec.ttft_ms / 1000):
            return
        frames = [fmt.tool_call_start(0, call.id, call.name)]
        frames += [fmt.tool_call_arguments(0, piece) for piece in call.pieces()]
        frames.append(fmt.finish("tool_calls"))
        if request.include_usage:
            frames.append(fmt.usage(prompt_tokens, completion_tokens))
        frames.append(DONE)
        self._mark("completed")
        await self._send("".join(frames), spec, flush=True)
        self.finish()

    def _mark(self, outcome: str) -> None:
        if self.entry is not None and self.entry["outcome"] is None:
            self.entry["outcome"] = outcome

    def _abort(self, outcome: str) -> None:
        """Drop the connection without ending the HTTP response."""
        self._mark(outcome)
        if self.entry is not None:
            self.entry["status"] = self.get_status()
        self.detach().close()

    async def _answer(
        self,
        spec: ModelSpec,
        request: ChatRequest,
        tokens: list[str],
        finish_reason: str,
        prompt_tokens: int,
    ) -> None:
        fault = spec.fault
        generation = spec.ttft_ms / 1000 + (len(tokens) / spec.tps if spec.tps else 0)
        if fault == "stall":
            await self._pause(STALL_LIMIT_S)
            self._abort("stalled")
            return
        if not await self._pause(generation):
            return
        if fault == "early_close":
            self._abort("closed_early")
            return
        self.set_header("Content-Type", "application/json")
        if fault == "malformed":
            self.finish('{"id": "chatcmpl-broken", "choices": [{"message": {"content": "')
            return
        if fault == "inband_error":
            self.finish(
                json.dumps(
                    error_body("The model is overloaded.", "server_error", None, "overloaded")
                )
            )
            return
        usage = None if fault == "no_usage" else usage_object(prompt_tokens, len(tokens))
        text = json.dumps(completion(request.model, "".join(tokens), finish_reason, usage))
        await self._send(text, spec, flush=True)
        self.finish()


def routes(
    prefix: str = "", *, record: bool = False, record_limit: int = 500
) -> list[tuple[str, type[web.RequestHandler], dict[str, Any]]]:
    """The provider's routes under ``prefix`` (e.g. ``/chatmore/demo``, no trailing slash):
    ``{prefix}/v1/models``, ``{prefix}/v1/chat/completions`` and, for tests,
    ``{prefix}/_demo/requests``. Each call makes a provider with state of its own."""
    prefix = prefix.rstrip("/")
    state = DemoState(recorder=Recorder(record_limit) if record else None)
    kwargs = {"state": state}
    return [
        (f"{prefix}/v1/models", ModelsHandler, kwargs),
        (f"{prefix}{COMPLETIONS_PATH}", ChatCompletionsHandler, kwargs),
        (f"{prefix}/_demo/requests", RequestsHandler, kwargs),
        (f"{prefix}/_demo/redirected", RedirectedHandler, kwargs),
    ]
