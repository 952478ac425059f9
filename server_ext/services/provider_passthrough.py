"""Raw OpenAI Chat Completions calls for the gateway: the request body goes upstream as
the client wrote it, and the provider's events come back as they were sent.

The turn runner's client (``provider_client.py``) reduces a stream to text deltas; the
gateway must hand tool-call and ``reasoning_content`` deltas, ids and every other field
to its client unchanged, so this module keeps each event's bytes and reads from them
only what a recording needs (content, tool calls, finish reason, usage).

- :meth:`PassthroughClient.open` connects and checks the answer's status (raising
  :class:`ProviderError` with a code of ``errors.py`` when it is not a success), then
  :meth:`Upstream.events` yields lists of raw event payloads, one list per network read.
- Limits as for board turns: connect, first event, silence between events, and the
  model's total time. No retry once the client may have seen a byte; before that only a
  provider refusing ``stream_options`` gets the same request again without it.
- Every call goes through the URL policy; no redirect is followed; the provider's raw
  error body is never passed on (only a short code from it). An answer means the same
  code and message as for a board turn (``provider_errors.py`` reads both).
- Calls go over the server's one aiohttp session (``upstream_http.py``), shared with the
  board turns' client; one timer per phase bounds the waits, not one per read.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import yarl

from ..errors import ERROR_CODES, ChatMoreError
from ..security.url_policy import upstream_url
from . import provider_errors
from .provider_client import (
    HEADER_SAFE,
    MAX_ANSWER_BODY,
    ProviderError,
    ProviderTarget,
    connect_failure,
    read_error_body,
)
from .sse_parser import SSEFormatError, SSEParser, event_json
from .upstream_http import (
    BROKEN,
    DeadlinePassed,
    ReadWatchdog,
    UpstreamHTTP,
    drain,
    finish,
    json_body,
)

DONE = b"[DONE]"


@dataclass
class Recording:
    """What one call's events said, gathered as they pass."""

    text: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    first_at: float | None = None  # loop time of the first content-bearing event
    last_at: float | None = None

    def content(self) -> str:
        return "".join(self.text)

    def tool_call_list(self) -> list[dict[str, Any]] | None:
        return [self.tool_calls[i] for i in sorted(self.tool_calls)] or None

    def take_delta(self, delta: dict[str, Any], now: float) -> None:
        content = delta.get("content")
        seen = False
        if isinstance(content, str) and content:
            self.text.append(content)
            seen = True
        if delta.get("reasoning_content"):
            seen = True
        calls = delta.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                if isinstance(call, dict):
                    self._merge_tool_call(call)
                    seen = True
        if seen:
            if self.first_at is None:
                self.first_at = now
            self.last_at = now

    def _merge_tool_call(self, part: dict[str, Any]) -> None:
        index = part.get("index", len(self.tool_calls))
        index = index if isinstance(index, int) else len(self.tool_calls)
        call = self.tool_calls.setdefault(
            index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if part.get("id"):
            call["id"] = part["id"]
        if part.get("type"):
            call["type"] = part["type"]
        function = part.get("function")
        if isinstance(function, dict):
            if isinstance(function.get("name"), str):
                call["function"]["name"] += function["name"]
            if isinstance(function.get("arguments"), str):
                call["function"]["arguments"] += function["arguments"]

    def take_message(self, answer: dict[str, Any]) -> None:
        """A whole (non-streamed) ``chat.completion``."""
        choices = answer.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else {}
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict):
            if isinstance(message.get("content"), str):
                self.text.append(message["content"])
            calls = message.get("tool_calls")
            if isinstance(calls, list):
                self.tool_calls = {i: c for i, c in enumerate(calls) if isinstance(c, dict)}
        if isinstance(choice, dict) and choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
        if isinstance(answer.get("usage"), dict):
            self.usage = answer["usage"]


class Upstream:
    """One open upstream answer (status already a success)."""

    def __init__(
        self,
        client: PassthroughClient,
        response: aiohttp.ClientResponse,
        target: ProviderTarget,
        started: float,
        streamed: bool,
    ) -> None:
        self.client = client
        self.response = response
        self.target = target
        self.started = started
        self.streamed = streamed
        self.loop = asyncio.get_running_loop()
        self.total_at = started + target.timeout_s
        self.recording = Recording()

    def error(self, code: str, message: str) -> ProviderError:
        rec = self.recording
        ttft = None if rec.first_at is None else round((rec.first_at - self.started) * 1000)
        return _error(
            self.target,
            code,
            message,
            partial_text=rec.content(),
            ttft_ms=ttft,
            latency_ms=round((self.loop.time() - self.started) * 1000),
        )

    def _timeout(self, limit: str) -> ProviderError:
        seconds = {
            "first-token": self.client.first_token_timeout,
            "idle": self.client.idle_timeout,
            "total": self.target.timeout_s,
        }[limit]
        return self.error("PROVIDER_TIMEOUT", provider_errors.timeout_message(limit, seconds))

    async def events(self) -> AsyncIterator[list[bytes]]:
        """The raw data of each event (without ``data: `` and the blank line), a list per
        network read; ends after ``[DONE]``, which it does not yield."""
        loop = self.loop
        # Each read may take the first-token limit until content flows, then the idle
        # one, counted from the moment it starts; all within the total.
        watchdog = ReadWatchdog(
            loop,
            since=loop.time(),
            span=self.client.first_token_timeout,
            limit="first-token",
            total_at=self.total_at,
        )
        parser = SSEParser()
        content = self.response.content
        rec = self.recording
        done = False
        try:
            while not done:
                watchdog.since = loop.time()
                if not watchdog.armed:  # first read, or it lapsed while the consumer had it
                    try:
                        watchdog.arm()
                    except DeadlinePassed as passed:
                        raise self._timeout(passed.limit) from None
                watchdog.reading = True
                try:
                    chunk = await content.readany()
                except asyncio.CancelledError:
                    limit = watchdog.timed_out()
                    if limit is None:
                        raise
                    raise self._timeout(limit) from None
                except BROKEN:
                    raise self.error(
                        "PROVIDER_BAD_RESPONSE", "the provider closed the connection mid-reply"
                    ) from None
                finally:
                    watchdog.reading = False
                try:
                    events = parser.feed(chunk) if chunk else parser.close()
                except SSEFormatError as exc:
                    raise self.error(
                        "PROVIDER_BAD_RESPONSE", f"the provider's stream is broken: {exc}"
                    ) from None
                now = loop.time()
                out: list[bytes] = []
                problem: tuple[str, str] | None = None
                for name, data in events:
                    if data == DONE:
                        done = True
                        break
                    problem = _take_event(rec, name, data, now)
                    if problem:
                        break
                    out.append(data)
                if out:
                    if rec.first_at is not None and watchdog.limit != "idle":
                        watchdog.span, watchdog.limit = self.client.idle_timeout, "idle"
                    yield out
                if problem:
                    raise self.error(*problem)
                if not chunk:
                    break
        finally:
            watchdog.close()
        if not done:
            raise self.error("PROVIDER_BAD_RESPONSE", "the provider's stream ended before [DONE]")
        await drain(content)

    async def answer(self) -> bytes:
        """The whole (non-streamed) answer's bytes, recorded."""
        watchdog = ReadWatchdog(
            self.loop, since=self.started, span=math.inf, limit="total", total_at=self.total_at
        )
        data = bytearray()
        try:
            while chunk := await watchdog.wait(self.response.content.readany()):
                data += chunk
                if len(data) > MAX_ANSWER_BODY:
                    raise self.error("PROVIDER_BAD_RESPONSE", "the provider's answer is too large")
        except DeadlinePassed as passed:
            raise self._timeout(passed.limit) from None
        except BROKEN:
            raise self.error(
                "PROVIDER_BAD_RESPONSE", "the provider closed the connection mid-answer"
            ) from None
        finally:
            watchdog.close()
        try:
            answer = json.loads(bytes(data))
        except ValueError:
            raise self.error(
                "PROVIDER_BAD_RESPONSE", "the provider's answer is not valid JSON"
            ) from None
        if isinstance(answer, dict) and answer.get("error"):
            raise self.error(*provider_errors.reported_error(answer["error"], "in its answer"))
        if not isinstance(answer, dict) or not answer.get("choices"):
            raise self.error("PROVIDER_BAD_RESPONSE", "the provider's answer has no message")
        self.recording.take_message(answer)
        return bytes(data)

    async def aclose(self) -> None:
        finish(self.response)


def _error(target: ProviderTarget, code: str, message: str, **details: Any) -> ProviderError:
    # The last guard, as for board turns: a message that holds the key is never shown.
    shown = provider_errors.redact(message, target.api_key, ERROR_CODES[code].meaning)
    return ProviderError(code, shown, **details)


def _take_event(rec: Recording, name: bytes, data: bytes, now: float) -> tuple[str, str] | None:
    """Record one event; the code and message that make it unacceptable, if it is."""
    try:
        event = event_json(data)
    except ValueError:
        return "PROVIDER_BAD_RESPONSE", "the provider sent an event that is not valid JSON"
    if type(event) is not dict:
        return "PROVIDER_BAD_RESPONSE", "the provider sent an unexpected event"
    if name == b"error" or event.get("error"):
        return provider_errors.reported_error(event.get("error"), "mid-reply")
    usage = event.get("usage")
    if isinstance(usage, dict):
        rec.usage = usage
    choices = event.get("choices")
    if choices:
        choice = choices[0] if isinstance(choices, list) else None
        if not isinstance(choice, dict):
            return "PROVIDER_BAD_RESPONSE", "the provider sent an unexpected event"
        if choice.get("finish_reason"):
            rec.finish_reason = str(choice["finish_reason"])
        delta = choice.get("delta")
        if isinstance(delta, dict):
            rec.take_delta(delta, now)
    return None


class PassthroughClient:
    """Opens raw upstream calls over the server's upstream session."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        first_token_timeout: float,
        idle_timeout: float,
        allow_private: bool,
        http: UpstreamHTTP | None = None,
    ) -> None:
        self.first_token_timeout = first_token_timeout
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        # The server's shared session when given (closed by whoever built it), else one
        # of its own.
        self._owns_http = http is None
        self.http = http or UpstreamHTTP(
            connect_timeout=connect_timeout, allow_private=allow_private
        )
        # (base_url, model) of providers that refused stream_options.
        self._no_stream_options: set[tuple[str, str]] = set()

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    def asks_usage(self, target: ProviderTarget) -> bool:
        return (target.base_url.rstrip("/"), target.model) not in self._no_stream_options

    async def open(self, target: ProviderTarget, body: dict[str, Any]) -> Upstream:
        """Send ``body`` (its ``model`` replaced by the upstream name) and wait for the
        answer's status. A streamed call asks for usage, which :meth:`Upstream.events`
        passes on like any other event."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        streamed = bool(body.get("stream"))
        try:
            url = upstream_url(target.base_url)
        except ChatMoreError as exc:
            raise _error(target, "PROVIDER_URL_REFUSED", exc.message) from None
        headers = {"Content-Type": "application/json"}
        if target.api_key:
            if not HEADER_SAFE.match(target.api_key):
                raise _error(target, "PROVIDER_AUTH_FAILED", provider_errors.KEY_NOT_HEADER_SAFE)
            headers["Authorization"] = f"Bearer {target.api_key}"
        upstream_body = {**body, "model": target.model}
        memory = (target.base_url.rstrip("/"), target.model)
        ask_usage = streamed and memory not in self._no_stream_options
        if streamed:
            headers["Accept"] = "text/event-stream"
            options = dict(upstream_body.get("stream_options") or {})
            if ask_usage:
                options["include_usage"] = True
            if options:
                upstream_body["stream_options"] = options
            else:
                upstream_body.pop("stream_options", None)
        # Answering (status and error body) may take the first-token limit, or the total
        # if that is shorter; either is reported as the first-token limit.
        watchdog = ReadWatchdog(
            loop,
            since=started,
            span=min(self.first_token_timeout, target.timeout_s),
            limit="first-token",
        )
        try:
            for _ in range(2):
                response = await self._send(target, url, headers, upstream_body, watchdog)
                if 200 <= response.status < 300:
                    upstream = Upstream(self, response, target, started, streamed)
                    content_type = response.headers.get("Content-Type", "")
                    if streamed and not content_type.startswith("text/event-stream"):
                        try:
                            body_bytes = await read_error_body(response, watchdog)
                        finally:
                            await upstream.aclose()
                        raise upstream.error(
                            *provider_errors.not_a_stream(content_type, body_bytes)
                        )
                    return upstream
                body_bytes = b""
                try:
                    if not 300 <= response.status < 400:  # a redirect's body is not read
                        body_bytes = await read_error_body(response, watchdog)
                finally:
                    finish(response)
                if (
                    response.status == 400
                    and ask_usage
                    and b"stream_options" in body_bytes
                    and "stream_options" in upstream_body
                ):
                    self._no_stream_options.add(memory)
                    ask_usage = False
                    upstream_body.pop("stream_options", None)
                    continue
                refused = provider_errors.refusal(response.status, body_bytes, response.headers)
                raise _error(
                    target,
                    refused.code,
                    refused.message,
                    http_status=response.status,
                    latency_ms=round((loop.time() - started) * 1000),
                )
        finally:
            watchdog.close()
        raise _error(target, "PROVIDER_HTTP_ERROR", "the provider refused the request")

    async def _send(
        self,
        target: ProviderTarget,
        url: yarl.URL,
        headers: dict[str, str],
        body: dict[str, Any],
        watchdog: ReadWatchdog,
    ) -> aiohttp.ClientResponse:
        request = self.http.session().request(
            "POST", url, data=json_body(body), headers=headers, allow_redirects=False
        )
        try:
            return await watchdog.wait(request)
        except DeadlinePassed:
            message = provider_errors.timeout_message("first-token", watchdog.span)
            raise _error(target, "PROVIDER_TIMEOUT", message) from None
        except Exception as exc:
            failure = connect_failure(exc, url.host, self.connect_timeout)
            if failure is None:
                raise
            raise _error(target, failure.code, failure.message) from None
