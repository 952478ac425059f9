"""The HTTP side both provider clients share: one aiohttp session per server over a
guarded connection pool, and the watchdog that bounds a call's waits with one timer.

- :class:`UpstreamHTTP` builds the session on first use (aiohttp needs the running
  loop): no redirect is followed (each request says ``allow_redirects=False``), nothing
  is taken from the environment (proxies, netrc: ``trust_env=False``), TLS is verified
  against the same CA bundle httpx used, no cookie is kept between calls, and aiohttp
  bounds only the connection (our own deadlines bound the rest).
- :class:`ReadWatchdog` replaces a timeout context per network read: each read only
  stores the time; the one timer, when it fires, re-arms for the deadline the reads
  moved, or cancels the reading task, and the reader turns that cancellation (only that
  one) into :class:`DeadlinePassed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver

from .. import __version__
from ..security.url_policy import AddressPolicy, GuardedConnector

T = TypeVar("T")

# Connections the pool may hold: what the board turns' 16 pools of 128 and the gateway's
# pool of 512 allowed together.
MAX_CONNECTIONS = 16 * 128 + 512
# How long an idle kept-alive connection stays in the pool (httpx's default).
KEEPALIVE_S = 5.0
# How long to wait for the end of a body after [DONE], to keep its connection.
DRAIN_S = 0.1
# What breaks a call on the wire (aiohttp wraps socket, TLS and HTTP errors in these).
BROKEN = (aiohttp.ClientError,)


class UpstreamHTTP:
    """One aiohttp session (one guarded pool) for the upstream calls of a server."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        allow_private: bool,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.policy = AddressPolicy(allow_private=allow_private)
        self._resolver = resolver
        # Building a TLS context loads the CA bundle (~15 ms): once, not per session.
        self._tls = httpx.create_ssl_context(trust_env=False)
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = self._build()
        return self._session

    def _build(self) -> aiohttp.ClientSession:
        connector = GuardedConnector(
            self.policy,
            resolve_timeout=self.connect_timeout,
            resolver=self._resolver,
            ssl=self._tls,
            limit=MAX_CONNECTIONS,
            keepalive_timeout=KEEPALIVE_S,
        )
        return aiohttp.ClientSession(
            connector=connector,
            # Our deadlines bound waits and reads; aiohttp bounds only the connection
            # (TCP and TLS; the connector bounds resolving). No per-read timer.
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout),
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": f"chatmore/{__version__}"},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def json_body(body: dict[str, Any]) -> bytes:
    """The request body, encoded as httpx encoded it (compact, UTF-8, no NaN)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def finish(response: aiohttp.ClientResponse) -> None:
    """Give the connection back to the pool if the body was read to its end; close it
    otherwise (a cancelled or abandoned call), so that the provider sees it go."""
    if response.content.is_eof():
        response.release()
    else:
        response.close()


async def drain(content: aiohttp.StreamReader) -> None:
    """Read what follows [DONE] (normally only the end of a chunked body) so that the
    connection goes back to the pool instead of being closed; give up quickly."""
    if content.is_eof():
        return
    with contextlib.suppress(TimeoutError, *BROKEN):
        async with asyncio.timeout(DRAIN_S):
            while await content.readany():
                pass


class DeadlinePassed(Exception):
    """A limit of the call passed; ``limit`` names it (first-token, idle, total)."""

    def __init__(self, limit: str) -> None:
        super().__init__(limit)
        self.limit = limit


class ReadWatchdog:
    """The deadline of a phase of one call: ``min(since + span, total_at)``, where a
    reader moves ``since`` (the time of its last read) and ``span``/``limit`` (from the
    first-token limit to the idle one) as it goes.

    Belongs to the task that reads. A reader sets ``reading`` around each await; the
    timer cancels the task only while it is set, so a consumer busy between two reads is
    never interrupted (its lapse is seen by the next read's :meth:`arm`). On a
    CancelledError the reader asks :meth:`timed_out` whether it is the watchdog's own."""

    __slots__ = (
        "_base",
        "_cancelled",
        "_fired",
        "_handle",
        "_task",
        "armed",
        "limit",
        "loop",
        "reading",
        "since",
        "span",
        "total_at",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        since: float,
        span: float,
        limit: str,
        total_at: float = math.inf,
    ) -> None:
        task = asyncio.current_task()
        assert task is not None, "a watchdog guards a task"
        self.loop = loop
        self.since = since
        self.span = span
        self.limit = limit
        self.total_at = total_at
        self.reading = False
        self.armed = False
        self._task = task
        self._base = task.cancelling()  # cancellations already asked for are not ours
        self._handle: asyncio.TimerHandle | None = None
        self._fired = ""
        self._cancelled = False

    def deadline(self) -> tuple[float, str]:
        at = self.since + self.span
        return (at, self.limit) if at < self.total_at else (self.total_at, "total")

    def arm(self) -> None:
        """Start the timer (before the first wait, and again after a lapse while nobody
        read); DeadlinePassed if the deadline has passed already."""
        at, limit = self.deadline()
        if self.loop.time() >= at:
            raise DeadlinePassed(limit)
        self._handle = self.loop.call_at(at, self._check)
        self.armed = True

    def _check(self) -> None:
        at, limit = self.deadline()
        if self.loop.time() < at:  # reads moved the deadline on
            self._handle = self.loop.call_at(at, self._check)
            return
        self._handle = None
        self.armed = False
        if self.reading:
            self._fired = limit
            self._cancelled = True
            self._task.cancel()

    def timed_out(self) -> str | None:
        """On a CancelledError in the reading task: the limit that passed if the
        watchdog cancelled it and nobody else did (then it is consumed), else None
        (the cancellation is someone else's and must go on)."""
        if not self._cancelled:
            return None
        self._cancelled = False
        if self._task.uncancel() > self._base:
            return None
        return self._fired

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """Await within the deadline (the one-off waits; the stream readers inline it)."""
        if not self.armed:
            try:
                self.arm()
            except DeadlinePassed:
                close = getattr(awaitable, "close", None)
                if close is not None:
                    close()  # never awaited: say so to the coroutine, not to the GC
                raise
        self.reading = True
        try:
            return await awaitable
        except asyncio.CancelledError:
            limit = self.timed_out()
            if limit is None:
                raise
            raise DeadlinePassed(limit) from None
        finally:
            self.reading = False

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self.armed = False
