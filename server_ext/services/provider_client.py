"""OpenAI Chat Completions over the server's one aiohttp session: streaming, whole
answers and the one-token probe behind ``POST api/models/{id}/test``.

Why aiohttp, not httpx: reading paced streams (about one chunk a network read, as models
send them) cost 157 µs of CPU per chunk with httpx at 64 streams against aiohttp's 64 µs
on a 2-core machine (``bench/upstream_clients.py --tokens 100 --tps 25``); httpx's
reading was ~26 % of the server's profile.

What it promises its callers (the turn runner, the model service):

- ``stream()`` yields :class:`Delta` items, then exactly one :class:`StreamEnd`, or raises
  :class:`ProviderError` with a code of ``errors.py`` and the text streamed so far.
  Callers wrap it in ``contextlib.aclosing()``; closing or cancelling it closes the
  upstream response at once.
- Limits, each named in its timeout message: connecting (``connect_timeout``), the first
  content token of an attempt (``first_token_timeout``), silence between two reads once
  content flows (``idle_timeout``) and the whole call (the model's ``timeout_s``).
- Retries happen only before any text: connection failures, 429 and 5xx, with backoff
  that honours Retry-After (a longer one than MAX_RETRY_WAIT_S is not waited for: the
  call fails at once), and never past the total limit.
- ``stream_options.include_usage`` is asked for; a provider that refuses it gets the same
  request without it, and is remembered (per base URL and model) not to get it again.
- Every call goes through the URL policy (``security/url_policy.py``) at connect time; no
  redirect is followed (``upstream_http.py`` holds the session's settings).
- One timer per attempt bounds its waits (:class:`ReadWatchdog`), not one per read.
- The API key goes in the Authorization header and nowhere else. Messages never carry
  the provider's raw error body; one log line per call on ``chatmore.provider`` names
  the model, the outcome and the timings, never prompts, replies or keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import yarl

from ..errors import ERROR_CODES, ChatMoreError
from ..security.url_policy import AddressRefused, upstream_url
from . import provider_errors
from .provider_errors import Refusal
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

log = logging.getLogger("chatmore.provider")

# The request parameters sent upstream; anything else in params (timeout_ms …) is ours.
UPSTREAM_PARAMS = ("temperature", "top_p", "max_tokens")
# Longest wait a Retry-After may impose between two attempts.
MAX_RETRY_WAIT_S = 10.0
BACKOFF_BASE_S = 0.5
# Bytes of an error answer read to find its code; bytes of a whole (non-streamed) answer.
MAX_ERROR_BODY = 64 * 1024
MAX_ANSWER_BODY = 16 * 1024 * 1024
# Characters an API key may have to travel in a header.
HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")


# -- the contract -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderTarget:
    base_url: str  # e.g. "https://api.openai.com/v1"; the client appends "/chat/completions"
    api_key: str | None = field(repr=False)
    model: str  # upstream model name
    timeout_s: float  # total time allowed (from the model's timeout_ms)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class StreamEnd:
    text: str  # the whole reply
    finish_reason: str | None
    usage: Usage | None  # None when the provider sent none
    ttft_ms: int | None  # request start → first content delta
    latency_ms: int  # request start → end
    decode_ms: int | None  # first → last content delta (None with fewer than 2 deltas)


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    latency_ms: int
    error: dict[str, str] | None  # {"code", "message"} when not ok


class ProviderError(ChatMoreError):
    """A call that did not end in a reply. ``message`` is safe to show a user."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        http_status: int | None = None,
        partial_text: str = "",
        ttft_ms: int | None = None,
        latency_ms: int | None = None,
    ) -> None:
        super().__init__(code, message)
        self.http_status = http_status
        self.partial_text = partial_text
        self.ttft_ms = ttft_ms
        self.latency_ms = latency_ms


# -- one call's bookkeeping -------------------------------------------------------------


class _Retryable(Exception):
    """A failure before any text that another attempt may cure."""

    def __init__(self, error: ProviderError, wait_s: float | None = None) -> None:
        self.error = error
        self.wait_s = wait_s


class _StreamOptionsRefused(Exception):
    pass


class _BadEvent(Exception):
    """An event no provider should send; the message says what was wrong."""

    def __init__(self, message: str, code: str = "PROVIDER_BAD_RESPONSE") -> None:
        super().__init__(message)
        self.code = code


class _Call:
    """Clock, limits and text of one call, across its attempts."""

    def __init__(self, target: ProviderTarget, kind: str) -> None:
        self.loop = asyncio.get_running_loop()
        self.target = target
        self.kind = kind
        self.start = self.loop.time()
        self.total_deadline = self.start + target.timeout_s
        self.parts: list[str] = []
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.retries = 0

    def ms(self, since: float, until: float | None = None) -> int:
        return round(((until if until is not None else self.loop.time()) - since) * 1000)

    @property
    def ttft_ms(self) -> int | None:
        return None if self.first_at is None else self.ms(self.start, self.first_at)

    def add(self, texts: list[str]) -> None:
        """Content that arrived in one network read (one timestamp for all of it)."""
        now = self.loop.time()
        if self.first_at is None:
            self.first_at = now
        self.last_at = now
        self.parts.extend(texts)

    def error(self, code: str, message: str, http_status: int | None = None) -> ProviderError:
        # The last guard: a message that holds the key (in any case) is never shown.
        shown = provider_errors.redact(message, self.target.api_key, ERROR_CODES[code].meaning)
        return ProviderError(
            code,
            shown,
            http_status=http_status,
            partial_text="".join(self.parts),
            ttft_ms=self.ttft_ms,
            latency_ms=self.ms(self.start),
        )

    def end(self, *, streamed: bool) -> StreamEnd:
        decode = None
        if len(self.parts) >= 2 and self.first_at is not None and self.last_at is not None:
            decode = self.ms(self.first_at, self.last_at)
        return StreamEnd(
            text="".join(self.parts),
            finish_reason=self.finish_reason,
            usage=self.usage,
            ttft_ms=self.ttft_ms if streamed else None,
            latency_ms=self.ms(self.start),
            decode_ms=decode if streamed else None,
        )


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _usage(value: object) -> Usage | None:
    if not isinstance(value, dict):
        return None
    return Usage(
        prompt_tokens=_int_or_none(value.get("prompt_tokens")),
        completion_tokens=_int_or_none(value.get("completion_tokens")),
        total_tokens=_int_or_none(value.get("total_tokens")),
    )


def _why(exc: aiohttp.ClientConnectorError, host: str | None) -> str:
    """Why connecting failed, in our socket's words (nothing a provider wrote)."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"the host name {host} does not resolve"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return str(exc.certificate_error)
    return str(exc.os_error) or type(exc.os_error).__name__


async def read_error_body(response: aiohttp.ClientResponse, watchdog: ReadWatchdog) -> bytes:
    """The first MAX_ERROR_BODY bytes of an error answer, within the watchdog's deadline;
    what came if it breaks."""
    data = bytearray()
    with contextlib.suppress(DeadlinePassed, *BROKEN):
        while len(data) < MAX_ERROR_BODY:
            chunk = await watchdog.wait(response.content.readany())
            if not chunk:
                break
            data += chunk
    return bytes(data[:MAX_ERROR_BODY])


def connect_failure(
    exc: BaseException, host: str | None, connect_timeout: float
) -> Refusal | None:
    """What a request that got no answer means; None when it was not the network's doing
    (a limit of ours passing, a cancel)."""
    if isinstance(exc, AddressRefused):
        return Refusal(
            "PROVIDER_URL_REFUSED", f"the provider host {host} resolves to {exc.reason}"
        )
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return Refusal(
            "PROVIDER_TIMEOUT", provider_errors.timeout_message("connect", connect_timeout)
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return Refusal(
            "PROVIDER_UNREACHABLE",
            f"could not connect to {host}: {_why(exc, host)}",
            retryable=True,
        )
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return Refusal("PROVIDER_URL_REFUSED", "the provider URL cannot be called")
    if isinstance(exc, BROKEN):
        return Refusal(
            "PROVIDER_UNREACHABLE",
            f"the connection to {host} broke before an answer",
            retryable=True,
        )
    return None


# -- the client -------------------------------------------------------------------------


class ProviderClient:
    """Calls OpenAI-compatible providers over the server's upstream session."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        first_token_timeout: float,
        idle_timeout: float,
        allow_private: bool,
        max_retries: int = 2,
        http: UpstreamHTTP | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.first_token_timeout = first_token_timeout
        self.idle_timeout = idle_timeout
        self.max_retries = max_retries
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

    # -- public calls --------------------------------------------------------------------

    async def stream(
        self, target: ProviderTarget, messages: list[dict], params: dict
    ) -> AsyncIterator[Delta | StreamEnd]:
        """Stream a reply: Delta items, then one StreamEnd; raises ProviderError."""
        call = _Call(target, "stream")
        with self._logged(call):
            async for item in self._with_retries(call, messages, params, self.max_retries):
                if isinstance(item, StreamEnd):
                    yield item
                else:
                    for text in item:
                        yield Delta(text)

    async def complete(
        self, target: ProviderTarget, messages: list[dict], params: dict
    ) -> StreamEnd:
        """A whole reply in one answer (no streaming)."""
        return await self._complete(target, messages, params, "complete", self.max_retries)

    async def probe(self, target: ProviderTarget) -> ProbeResult:
        """A one-token request (max_tokens=1), not retried: does this model answer?"""
        started = time.monotonic()
        messages = [{"role": "user", "content": "ping"}]
        try:
            end = await self._complete(target, messages, {"max_tokens": 1}, "probe", 0)
        except ProviderError as exc:
            latency = exc.latency_ms
            if latency is None:
                latency = round((time.monotonic() - started) * 1000)
            return ProbeResult(False, latency, {"code": exc.code, "message": exc.message})
        return ProbeResult(True, end.latency_ms, None)

    async def _complete(
        self,
        target: ProviderTarget,
        messages: list[dict],
        params: dict,
        kind: str,
        max_retries: int,
    ) -> StreamEnd:
        call = _Call(target, kind)
        with self._logged(call):
            end: StreamEnd | None = None
            async for item in self._with_retries(call, messages, params, max_retries):
                if isinstance(item, StreamEnd):
                    end = item
            assert end is not None
            return end

    @contextlib.contextmanager
    def _logged(self, call: _Call) -> Iterator[None]:
        """Log the call's one line with how it ended; a call abandoned midway (the
        consumer stopped, the task was cancelled) ends as "cancelled"."""
        outcome = "cancelled"
        try:
            yield
            outcome = "ok"
        except ProviderError as exc:
            outcome = exc.code
            raise
        except Exception:
            outcome = "INTERNAL_ERROR"
            raise
        finally:
            self._log(call, outcome)

    # -- attempts ------------------------------------------------------------------------

    async def _with_retries(
        self, call: _Call, messages: list[dict], params: dict, max_retries: int
    ) -> AsyncIterator[list[str] | StreamEnd]:
        """The attempts of a call; each one's reader is iterated here directly (one
        generator fewer for every read to pass through)."""
        url = self._endpoint(call)
        headers = self._headers(call)
        target = call.target
        memory_key = (target.base_url.rstrip("/"), target.model)
        streamed = call.kind == "stream"
        ask_usage = streamed and memory_key not in self._no_stream_options
        while True:
            body = self._body(target, messages, params, streamed, ask_usage)
            # Until content flows, the first-token limit holds (a whole answer: the total).
            watchdog = ReadWatchdog(
                call.loop,
                since=call.loop.time(),
                span=self.first_token_timeout if streamed else math.inf,
                limit="first-token",
                total_at=call.total_deadline,
            )
            response: aiohttp.ClientResponse | None = None
            try:
                try:
                    response = await self._open(call, url, headers, body, ask_usage, watchdog)
                    if streamed:
                        async for item in self._read_stream(call, response, watchdog):
                            yield item
                    else:
                        yield await self._read_answer(call, response, watchdog)
                    return
                finally:
                    watchdog.close()
                    if response is not None:
                        finish(response)
            except DeadlinePassed as passed:
                raise self._timeout(call, passed.limit) from None
            except _StreamOptionsRefused:
                self._no_stream_options.add(memory_key)
                ask_usage = False
            except _Retryable as failure:
                wait = self._retry_wait(call, failure, max_retries)
                call.retries += 1
                await asyncio.sleep(wait)

    @staticmethod
    def _retry_wait(call: _Call, failure: _Retryable, max_retries: int) -> float:
        """How long to wait before the next attempt; the failure's error if none."""
        if call.parts or call.retries >= max_retries:
            raise failure.error from None
        wait = failure.wait_s
        if wait is None:
            wait = BACKOFF_BASE_S * 2**call.retries * (1 + random.random() / 4)
        # A provider that asks for a longer pause than we would wait is not retried early
        # (it would refuse again): the user hears at once.
        if wait > MAX_RETRY_WAIT_S or call.loop.time() + wait >= call.total_deadline:
            raise failure.error from None
        return wait

    def _endpoint(self, call: _Call) -> yarl.URL:
        # The URL policy's reading, so that what was saved is what can be requested.
        try:
            return upstream_url(call.target.base_url)
        except ChatMoreError as exc:
            raise call.error("PROVIDER_URL_REFUSED", exc.message) from None

    def _headers(self, call: _Call) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = call.target.api_key
        if key:
            if not HEADER_SAFE.match(key):
                raise call.error("PROVIDER_AUTH_FAILED", provider_errors.KEY_NOT_HEADER_SAFE)
            headers["Authorization"] = f"Bearer {key}"
        if call.kind == "stream":
            headers["Accept"] = "text/event-stream"
        return headers

    @staticmethod
    def _body(
        target: ProviderTarget,
        messages: list[dict],
        params: dict,
        streamed: bool,
        ask_usage: bool,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": target.model, "messages": messages}
        for name in UPSTREAM_PARAMS:
            if params.get(name) is not None:
                body[name] = params[name]
        if streamed:
            body["stream"] = True
            if ask_usage:
                body["stream_options"] = {"include_usage": True}
        return body

    def _timeout(self, call: _Call, limit: str) -> ProviderError:
        seconds = {
            "first-token": self.first_token_timeout,
            "idle": self.idle_timeout,
            "total": call.target.timeout_s,
            "connect": self.connect_timeout,
        }[limit]
        return call.error("PROVIDER_TIMEOUT", provider_errors.timeout_message(limit, seconds))

    async def _open(
        self,
        call: _Call,
        url: yarl.URL,
        headers: dict[str, str],
        body: dict[str, Any],
        asked_usage: bool,
        watchdog: ReadWatchdog,
    ) -> aiohttp.ClientResponse:
        """Send one attempt and return its answer once its status is a success."""
        response = await self._send(call, url, headers, body, watchdog)
        if not 200 <= response.status < 300:
            try:
                await self._refuse_status(call, response, watchdog, asked_usage)
            finally:
                finish(response)
        return response

    async def _send(
        self,
        call: _Call,
        url: yarl.URL,
        headers: dict[str, str],
        body: dict[str, Any],
        watchdog: ReadWatchdog,
    ) -> aiohttp.ClientResponse:
        host = url.host
        request = self.http.session().request(
            "POST", url, data=json_body(body), headers=headers, allow_redirects=False
        )
        try:
            return await watchdog.wait(request)
        except Exception as exc:
            failure = connect_failure(exc, host, self.connect_timeout)
            if failure is None:
                raise
            error = call.error(failure.code, failure.message)
            raise (_Retryable(error) if failure.retryable else error) from None

    async def _refuse_status(
        self,
        call: _Call,
        response: aiohttp.ClientResponse,
        watchdog: ReadWatchdog,
        asked_usage: bool,
    ) -> None:
        status = response.status
        body = b""
        if not 300 <= status < 400:  # a redirect's body says nothing we would use
            body = await read_error_body(response, watchdog)
        if status == 400 and asked_usage and b"stream_options" in body:
            raise _StreamOptionsRefused()
        refused = provider_errors.refusal(status, body, response.headers)
        error = call.error(refused.code, refused.message, status)
        raise (_Retryable(error, refused.retry_after_s) if refused.retryable else error)

    async def _read_stream(
        self, call: _Call, response: aiohttp.ClientResponse, watchdog: ReadWatchdog
    ) -> AsyncIterator[list[str] | StreamEnd]:
        """The content of each network read as one list (few hops through the generators
        above it, whatever the chunk rate), then the StreamEnd. Each read costs the
        watchdog two flags and, once content flows, the time (the idle limit's start)."""
        content_type = response.headers.get("Content-Type", "")
        if not content_type.startswith("text/event-stream"):
            raise await self._not_a_stream(call, response, content_type, watchdog)
        loop = call.loop
        parser = SSEParser()
        content = response.content
        done = False
        while not done:
            if call.parts:  # counted from here, as the consumer asks for more
                watchdog.since = loop.time()
            if not watchdog.armed:  # it lapsed while the consumer had the stream
                watchdog.arm()
            watchdog.reading = True
            try:
                chunk = await content.readany()
            except asyncio.CancelledError:
                limit = watchdog.timed_out()
                if limit is None:
                    raise
                raise DeadlinePassed(limit) from None
            except BROKEN:
                error = call.error(
                    "PROVIDER_BAD_RESPONSE", "the provider closed the connection mid-reply"
                )
                raise (error if call.parts else _Retryable(error)) from None
            finally:
                watchdog.reading = False
            try:
                events = parser.feed(chunk) if chunk else parser.close()
            except SSEFormatError as exc:
                raise call.error(
                    "PROVIDER_BAD_RESPONSE", f"the provider's stream is broken: {exc}"
                ) from None
            texts: list[str] = []
            problem: _BadEvent | None = None
            try:
                for name, data in events:
                    if data == b"[DONE]":
                        done = True
                        break
                    text = self._take_event(call, name, data)
                    if text:
                        texts.append(text)
            except _BadEvent as exc:
                problem = exc
            if texts:
                if not call.parts:  # the first token: silences are now bounded by `idle`
                    watchdog.span, watchdog.limit = self.idle_timeout, "idle"
                call.add(texts)
                yield texts
            if problem is not None:
                raise call.error(problem.code, str(problem))
            if not chunk:
                break
        if not done:
            raise call.error("PROVIDER_BAD_RESPONSE", "the provider's stream ended before [DONE]")
        end = call.end(streamed=True)
        watchdog.close()
        await drain(content)
        yield end

    @staticmethod
    def _take_event(call: _Call, name: bytes, data: bytes) -> str | None:
        """Apply one event to the call; return its content text, if any."""
        try:
            event = event_json(data)
        except ValueError:  # UnicodeDecodeError included
            raise _BadEvent("the provider sent an event that is not valid JSON") from None
        if type(event) is not dict:
            raise _BadEvent("the provider sent an unexpected event")
        if name == b"error" or event.get("error"):
            code, message = provider_errors.reported_error(event.get("error"), "mid-reply")
            raise _BadEvent(message, code)
        usage = event.get("usage")
        if usage is not None:
            call.usage = _usage(usage)
        choices = event.get("choices")
        if not choices:
            return None
        try:
            choice = choices[0]
            if choice.get("finish_reason"):
                call.finish_reason = provider_errors.finish_reason(choice["finish_reason"])
            text = (choice.get("delta") or {}).get("content")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise _BadEvent("the provider sent an unexpected event") from None
        return text if isinstance(text, str) else None

    async def _not_a_stream(
        self,
        call: _Call,
        response: aiohttp.ClientResponse,
        content_type: str,
        watchdog: ReadWatchdog,
    ) -> ProviderError:
        body = await read_error_body(response, watchdog)
        return call.error(*provider_errors.not_a_stream(content_type, body))

    async def _read_answer(
        self, call: _Call, response: aiohttp.ClientResponse, watchdog: ReadWatchdog
    ) -> StreamEnd:
        data = bytearray()
        while True:
            try:
                chunk = await watchdog.wait(response.content.readany())
            except BROKEN:
                raise call.error(
                    "PROVIDER_BAD_RESPONSE", "the provider closed the connection mid-answer"
                ) from None
            if not chunk:
                break
            data += chunk
            if len(data) > MAX_ANSWER_BODY:
                raise call.error("PROVIDER_BAD_RESPONSE", "the provider's answer is too large")
            # Once the answer flows, a silence may last `idle` (within the total).
            watchdog.since, watchdog.span = call.loop.time(), self.idle_timeout
            watchdog.limit = "idle"
        return self._parse_answer(call, bytes(data))

    @staticmethod
    def _parse_answer(call: _Call, data: bytes) -> StreamEnd:
        try:
            answer = json.loads(data)
        except ValueError:
            raise call.error(
                "PROVIDER_BAD_RESPONSE", "the provider's answer is not valid JSON"
            ) from None
        if not isinstance(answer, dict):
            raise call.error("PROVIDER_BAD_RESPONSE", "the provider's answer is not an object")
        if answer.get("error"):
            raise call.error(*provider_errors.reported_error(answer["error"], "in its answer"))
        choices = answer.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else None
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            raise call.error("PROVIDER_BAD_RESPONSE", "the provider's answer has no message")
        content = message.get("content")
        if isinstance(content, str) and content:
            call.add([content])
        if choice.get("finish_reason"):
            call.finish_reason = provider_errors.finish_reason(choice["finish_reason"])
        call.usage = _usage(answer.get("usage"))
        return call.end(streamed=False)

    # -- logging -------------------------------------------------------------------------

    @staticmethod
    def _log(call: _Call, outcome: str) -> None:
        log.info(
            "provider call kind=%s model=%s host=%s outcome=%s ttft_ms=%s latency_ms=%d "
            "retries=%d",
            call.kind,
            call.target.model,
            urlsplit(call.target.base_url).hostname,
            outcome,
            call.ttft_ms if call.ttft_ms is not None else "-",
            call.ms(call.start),
            call.retries,
        )
