"""OpenAI Chat Completions over one shared httpx.AsyncClient: streaming, whole answers
and the one-token probe behind ``POST api/models/{id}/test``.

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
  redirect is followed.
- The API key goes in the Authorization header and nowhere else. Messages never carry
  the provider's raw error body; one log line per call on ``chatmore.provider`` names
  the model, the outcome and the timings, never prompts, replies or keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from .. import __version__
from ..errors import ERROR_CODES, ChatMoreError
from ..security.url_policy import (
    AddressPolicy,
    AddressRefused,
    GuardedTransport,
    request_url,
)
from . import provider_errors
from .sse_parser import SSEFormatError, SSEParser

log = logging.getLogger("chatmore.provider")

# The request parameters sent upstream; anything else in params (timeout_ms …) is ours.
UPSTREAM_PARAMS = ("temperature", "top_p", "max_tokens")
# Connection pools, and the connections each may hold (POOLS x CONNECTIONS_PER_POOL calls
# can be in flight at once; the per-model limit usually binds first).
POOLS = 16
CONNECTIONS_PER_POOL = 128
KEEPALIVE_PER_POOL = 16
SPILL_AT = 32  # calls in flight that make a pool busy

# Longest wait a Retry-After may impose between two attempts.
MAX_RETRY_WAIT_S = 10.0
BACKOFF_BASE_S = 0.5
# Bytes of an error answer read to find its code; bytes of a whole (non-streamed) answer.
MAX_ERROR_BODY = 64 * 1024
MAX_ANSWER_BODY = 16 * 1024 * 1024
# How long to wait for the end of a body after [DONE], to keep its connection.
DRAIN_S = 0.1
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
        self.http: httpx.AsyncClient | None = None  # the pool this call's attempts use

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


@dataclass(frozen=True)
class _Deadline:
    at: float  # loop time
    limit: str  # which limit it is: connect, first-token, idle, total
    seconds: float


def _seconds(value: float) -> str:
    return f"{value:g} s"


TIMEOUT_MESSAGES = {
    "first-token": "the provider sent no reply token within {s} (first-token limit)",
    "idle": "the provider went silent for {s} in the middle of the reply (idle limit)",
    "total": "the reply did not finish within the model's {s} time limit (total limit)",
    "connect": "could not connect to the provider within {s} (connect limit)",
}


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


def _retry_after_s(headers: httpx.Headers) -> float | None:
    """OpenAI's ``retry-after-ms``, else ``Retry-After`` in seconds or as an HTTP date."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# -- the client -------------------------------------------------------------------------


class ProviderClient:
    """Calls OpenAI-compatible providers over one shared connection pool."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        first_token_timeout: float,
        idle_timeout: float,
        allow_private: bool,
        max_retries: int = 2,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.first_token_timeout = first_token_timeout
        self.idle_timeout = idle_timeout
        self.max_retries = max_retries
        self.policy = AddressPolicy(allow_private=allow_private)
        limits = httpx.Limits(
            max_connections=CONNECTIONS_PER_POOL, max_keepalive_connections=KEEPALIVE_PER_POOL
        )
        # Several pools: httpcore matches each waiting request against every connection
        # of its pool whenever one frees up, which with hundreds of streams in one pool
        # costs more than the streams themselves. Calls fill the first pool (so that
        # calls one after the other reuse its kept-alive connections) and spill into the
        # next only when it is busy.
        tls = httpx.create_ssl_context(trust_env=False)
        self._pools = [
            httpx.AsyncClient(
                transport=GuardedTransport(self.policy, limits, tls),
                # Our own deadlines bound reads and waits; httpx bounds only the connect.
                timeout=httpx.Timeout(None, connect=connect_timeout),
                follow_redirects=False,
                trust_env=False,
                headers={"User-Agent": f"chatmore/{__version__}"},
            )
            for _ in range(POOLS)
        ]
        self._in_flight = [0] * POOLS
        # (base_url, model) of providers that refused stream_options.
        self._no_stream_options: set[tuple[str, str]] = set()

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()

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
        url = self._endpoint(call)
        headers = self._headers(call)
        pool = next((i for i, n in enumerate(self._in_flight) if n < SPILL_AT), None)
        if pool is None:
            pool = self._in_flight.index(min(self._in_flight))
        self._in_flight[pool] += 1
        call.http = self._pools[pool]
        try:
            async for item in self._attempts(call, url, headers, messages, params, max_retries):
                yield item
        finally:
            self._in_flight[pool] -= 1

    async def _attempts(
        self,
        call: _Call,
        url: str,
        headers: dict[str, str],
        messages: list[dict],
        params: dict,
        max_retries: int,
    ) -> AsyncIterator[list[str] | StreamEnd]:
        target = call.target
        memory_key = (target.base_url.rstrip("/"), target.model)
        streamed = call.kind == "stream"
        ask_usage = streamed and memory_key not in self._no_stream_options
        while True:
            body = self._body(target, messages, params, streamed, ask_usage)
            try:
                async for item in self._attempt(call, url, headers, body, ask_usage):
                    yield item
                return
            except _StreamOptionsRefused:
                self._no_stream_options.add(memory_key)
                ask_usage = False
            except _Retryable as failure:
                if call.parts or call.retries >= max_retries:
                    raise failure.error from None
                wait = failure.wait_s
                if wait is None:
                    wait = BACKOFF_BASE_S * 2**call.retries * (1 + random.random() / 4)
                # A provider that asks for a longer pause than we would wait is not retried
                # early (it would refuse again): the user hears at once.
                if wait > MAX_RETRY_WAIT_S or call.loop.time() + wait >= call.total_deadline:
                    raise failure.error from None
                call.retries += 1
                await asyncio.sleep(wait)

    def _endpoint(self, call: _Call) -> str:
        # The URL policy's reading, so that what was saved is what can be requested.
        try:
            return str(request_url(call.target.base_url))
        except ChatMoreError as exc:
            raise call.error("PROVIDER_URL_REFUSED", exc.message) from None

    def _headers(self, call: _Call) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = call.target.api_key
        if key:
            if not HEADER_SAFE.match(key):
                raise call.error(
                    "PROVIDER_AUTH_FAILED",
                    "the API key has characters an HTTP header cannot carry (spaces or "
                    "line breaks?)",
                )
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

    def _first_deadline(self, call: _Call, started: float, *, streamed: bool) -> _Deadline:
        total = _Deadline(call.total_deadline, "total", call.target.timeout_s)
        if not streamed:
            return total
        first = _Deadline(
            started + self.first_token_timeout, "first-token", self.first_token_timeout
        )
        return first if first.at < total.at else total

    def _timeout(self, call: _Call, deadline: _Deadline) -> ProviderError:
        message = TIMEOUT_MESSAGES[deadline.limit].format(s=_seconds(deadline.seconds))
        return call.error("PROVIDER_TIMEOUT", message)

    async def _attempt(
        self,
        call: _Call,
        url: str,
        headers: dict[str, str],
        body: dict[str, Any],
        asked_usage: bool,
    ) -> AsyncIterator[list[str] | StreamEnd]:
        streamed = call.kind == "stream"
        started = call.loop.time()
        deadline = self._first_deadline(call, started, streamed=streamed)
        assert call.http is not None
        request = call.http.build_request("POST", url, json=body, headers=headers)
        response = await self._send(call, request, deadline)
        try:
            if not 200 <= response.status_code < 300:
                await self._refuse_status(call, response, deadline, asked_usage)
            if streamed:
                async for item in self._read_stream(call, response, deadline):
                    yield item
            else:
                yield await self._read_answer(call, response)
        finally:
            await response.aclose()

    async def _send(
        self, call: _Call, request: httpx.Request, deadline: _Deadline
    ) -> httpx.Response:
        host = request.url.host
        try:
            async with asyncio.timeout_at(deadline.at):
                assert call.http is not None
                return await call.http.send(request, stream=True)
        except TimeoutError:
            raise self._timeout(call, deadline) from None
        except AddressRefused as exc:
            raise call.error(
                "PROVIDER_URL_REFUSED", f"the provider host {host} resolves to {exc.reason}"
            ) from None
        except httpx.ConnectTimeout:
            raise self._timeout(call, _Deadline(0, "connect", self.connect_timeout)) from None
        except httpx.ConnectError as exc:
            raise _Retryable(
                call.error("PROVIDER_UNREACHABLE", f"could not connect to {host}: {exc}")
            ) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError):
            raise call.error("PROVIDER_URL_REFUSED", "the provider URL cannot be called") from None
        except httpx.TransportError:
            raise _Retryable(
                call.error(
                    "PROVIDER_UNREACHABLE", f"the connection to {host} broke before an answer"
                )
            ) from None

    async def _read_limited(
        self, call: _Call, response: httpx.Response, limit: int, deadline: _Deadline
    ) -> bytes:
        """Up to ``limit`` bytes of the body, within the deadline; b"" if it breaks."""
        data = bytearray()
        try:
            async with asyncio.timeout_at(deadline.at):
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) >= limit:
                        break
        except (TimeoutError, httpx.TransportError, httpx.DecodingError):
            pass
        return bytes(data[:limit])

    async def _refuse_status(
        self, call: _Call, response: httpx.Response, deadline: _Deadline, asked_usage: bool
    ) -> None:
        status = response.status_code
        if 300 <= status < 400:
            raise call.error(
                "PROVIDER_HTTP_ERROR",
                f"the provider answered HTTP {status}, a redirect, which ChatMore does not "
                "follow; check the base URL",
                status,
            )
        body = await self._read_limited(call, response, MAX_ERROR_BODY, deadline)
        if status == 400 and asked_usage and b"stream_options" in body:
            raise _StreamOptionsRefused()
        upstream = provider_errors.code_in_body(body)
        detail = f" ({upstream})" if upstream else ""
        if status in (401, 403):
            raise call.error(
                "PROVIDER_AUTH_FAILED",
                f"the provider refused the API key (HTTP {status}){detail}",
                status,
            )
        code = provider_errors.chatmore_code(
            upstream, "PROVIDER_RATE_LIMITED" if status == 429 else "PROVIDER_HTTP_ERROR"
        )
        if code == "PROVIDER_RATE_LIMITED":
            raise _Retryable(
                call.error(code, f"the provider is rate limiting (HTTP {status}){detail}", status),
                _retry_after_s(response.headers),
            )
        error = call.error(code, f"the provider answered HTTP {status}{detail}", status)
        if status >= 500 and code == "PROVIDER_HTTP_ERROR":
            raise _Retryable(error, _retry_after_s(response.headers))
        raise error

    async def _read_stream(
        self, call: _Call, response: httpx.Response, first_deadline: _Deadline
    ) -> AsyncIterator[list[str] | StreamEnd]:
        """The content of each network read as one list (few hops through the generators
        above it, whatever the chunk rate), then the StreamEnd."""
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith("text/event-stream"):
            raise await self._not_a_stream(call, response, content_type, first_deadline)
        loop = call.loop
        parser = SSEParser()
        reads = response.aiter_bytes()
        idle = self.idle_timeout
        total = _Deadline(call.total_deadline, "total", call.target.timeout_s)
        deadline = first_deadline
        done = False
        while not done:
            try:
                async with asyncio.timeout_at(deadline.at):
                    chunk = await anext(reads, None)
            except TimeoutError:
                raise self._timeout(call, deadline) from None
            except (httpx.TransportError, httpx.DecodingError):
                error = call.error(
                    "PROVIDER_BAD_RESPONSE", "the provider closed the connection mid-reply"
                )
                raise (error if call.parts else _Retryable(error)) from None
            try:
                events = parser.feed(chunk) if chunk is not None else parser.close()
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
                call.add(texts)
                yield texts
            if problem is not None:
                raise call.error(problem.code, str(problem))
            if chunk is None:
                break
            # Before the first token, that limit holds; after it, silence may last `idle`.
            if call.parts:
                idle_deadline = _Deadline(loop.time() + idle, "idle", idle)
                deadline = idle_deadline if idle_deadline.at < total.at else total
        if not done:
            raise call.error("PROVIDER_BAD_RESPONSE", "the provider's stream ended before [DONE]")
        end = call.end(streamed=True)
        await self._drain(reads)
        yield end

    @staticmethod
    async def _drain(reads: AsyncIterator[bytes]) -> None:
        """Read what follows [DONE] (normally only the end of the body) so that the
        connection goes back to the pool instead of being closed; give up quickly."""
        with contextlib.suppress(TimeoutError, httpx.HTTPError):
            async with asyncio.timeout(DRAIN_S):
                async for _ in reads:
                    pass

    @staticmethod
    def _take_event(call: _Call, name: bytes, data: bytes) -> str | None:
        """Apply one event to the call; return its content text, if any."""
        try:
            # Decoding first spares json the encoding sniffing it does for bytes.
            event = json.loads(data.decode())
        except ValueError:  # UnicodeDecodeError included
            raise _BadEvent("the provider sent an event that is not valid JSON") from None
        if type(event) is not dict:
            raise _BadEvent("the provider sent an unexpected event")
        if name == b"error" or event.get("error"):
            upstream = provider_errors.known_upstream_code(event.get("error"))
            detail = f" ({upstream})" if upstream else ""
            raise _BadEvent(
                f"the provider reported an error mid-reply{detail}",
                provider_errors.chatmore_code(upstream, "PROVIDER_BAD_RESPONSE"),
            )
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
        self, call: _Call, response: httpx.Response, content_type: str, deadline: _Deadline
    ) -> ProviderError:
        body = await self._read_limited(call, response, MAX_ERROR_BODY, deadline)
        upstream = provider_errors.code_in_body(body)
        if upstream:
            return call.error(
                provider_errors.chatmore_code(upstream, "PROVIDER_BAD_RESPONSE"),
                f"the provider answered with an error ({upstream})",
            )
        shown = content_type.split(";")[0].strip() or "no content type"
        return call.error(
            "PROVIDER_BAD_RESPONSE", f"the provider answered {shown}, not an event stream"
        )

    async def _read_answer(self, call: _Call, response: httpx.Response) -> StreamEnd:
        total = _Deadline(call.total_deadline, "total", call.target.timeout_s)
        data = bytearray()
        reads = response.aiter_bytes()
        deadline = total
        while True:
            try:
                async with asyncio.timeout_at(deadline.at):
                    chunk = await anext(reads, None)
            except TimeoutError:
                raise self._timeout(call, deadline) from None
            except (httpx.TransportError, httpx.DecodingError):
                raise call.error(
                    "PROVIDER_BAD_RESPONSE", "the provider closed the connection mid-answer"
                ) from None
            if chunk is None:
                break
            data += chunk
            if len(data) > MAX_ANSWER_BODY:
                raise call.error("PROVIDER_BAD_RESPONSE", "the provider's answer is too large")
            idle_deadline = _Deadline(
                call.loop.time() + self.idle_timeout, "idle", self.idle_timeout
            )
            deadline = idle_deadline if idle_deadline.at < total.at else total
        try:
            answer = json.loads(bytes(data))
        except ValueError:
            raise call.error(
                "PROVIDER_BAD_RESPONSE", "the provider's answer is not valid JSON"
            ) from None
        if not isinstance(answer, dict):
            raise call.error("PROVIDER_BAD_RESPONSE", "the provider's answer is not an object")
        if answer.get("error"):
            upstream = provider_errors.known_upstream_code(answer["error"])
            detail = f" ({upstream})" if upstream else ""
            raise call.error(
                provider_errors.chatmore_code(upstream, "PROVIDER_BAD_RESPONSE"),
                f"the provider answered with an error{detail}",
            )
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
