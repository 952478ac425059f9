"""Memory of what the demo provider received, for tests to assert on.

Off unless asked for (``--record``): a recorded request keeps its headers, including
``Authorization``, which is exactly what a test wants to see and what a shared server
must not keep. ``GET /_demo/requests`` lists the last N, oldest first.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict, deque
from typing import Any

from tornado.httputil import HTTPServerRequest

MAX_BODY_CHARS = 256 * 1024


class Recorder:
    def __init__(self, limit: int = 500) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._next_id = 1

    def add(self, request: HTTPServerRequest) -> dict[str, Any]:
        """Record a request; the returned entry is updated as the request goes on."""
        # Names in lower case, as HTTP/2 writes them, so lookups need not guess the case.
        headers: dict[str, str] = {}
        for name, value in request.headers.get_all():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        text = request.body.decode("utf-8", errors="replace")[:MAX_BODY_CHARS]
        try:
            body: Any = json.loads(text) if text else None
        except json.JSONDecodeError:
            body = text
        # The client's address and port: two requests with the same peer came over one
        # connection (tests of connection reuse read it).
        address = getattr(getattr(request.connection, "context", None), "address", None)
        peer = f"{address[0]}:{address[1]}" if isinstance(address, tuple) else None
        entry = {
            "id": self._next_id,
            "time": time.time(),
            "peer": peer,
            "method": request.method,
            "path": request.path,
            "headers": headers,
            "body": body,
            "status": None,
            "outcome": None,
        }
        self._next_id += 1
        self._entries.append(entry)
        return entry

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()


class FirstSeen:
    """Remembers request keys, so that ``*_once`` faults fail only the first request of a
    conversation. Bounded: the oldest keys are forgotten first."""

    def __init__(self, limit: int = 10_000) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._limit = limit

    def first_time(self, key: str) -> bool:
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self._limit:
            self._keys.popitem(last=False)
        return True
