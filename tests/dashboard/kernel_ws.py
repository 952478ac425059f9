"""Talking to a page's kernel over its websocket, as a visitor's own script could: in
Jupyter's JSON protocol or its binary v1 protocol, whichever the visitor picks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from jupyter_server.services.kernels.connection.base import (
    deserialize_msg_from_ws_v1,
    serialize_msg_to_ws_v1,
)
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

V1 = "v1.kernel.websocket.jupyter.org"
SESSION = uuid.uuid4().hex


def kernel_message(msg_type: str, content: dict[str, Any], channel: str = "shell"):
    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "session": SESSION,
            "username": "visitor",
            "date": datetime.now(UTC).isoformat(),
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": content,
        "channel": channel,
        "buffers": [],
    }


def _encode(message: dict[str, Any], protocol: str) -> str | bytes:
    if protocol == "json":
        return json.dumps(message)
    parts = {k: message[k] for k in ("header", "parent_header", "metadata", "content")}
    return serialize_msg_to_ws_v1(parts, message["channel"], pack=lambda p: json.dumps(p).encode())


def _decode(raw: str | bytes) -> dict[str, Any]:
    if isinstance(raw, str):
        return json.loads(raw)
    _channel, parts = deserialize_msg_from_ws_v1(raw)
    return {"header": json.loads(parts[0]), "parent_header": json.loads(parts[1])}


def exchange(
    ws_url: str,
    messages: list[dict[str, Any]],
    until: Callable[[list[dict[str, Any]]], bool],
    protocol: str = "json",
    timeout: float = 30,
    origin: str | None = None,
) -> list[dict[str, Any]]:
    """Send ``messages`` in order, then collect what the kernel sends back until ``until``
    holds for what was received (TimeoutError otherwise). ``origin``: the page the
    connection claims to come from (a browser always sends it)."""

    async def run() -> list[dict[str, Any]]:
        headers = {"Sec-WebSocket-Protocol": V1} if protocol == "v1" else {}
        if origin is not None:
            headers["Origin"] = origin
        request = HTTPRequest(ws_url, headers=headers)
        conn = await websocket_connect(request)
        received: list[dict[str, Any]] = []
        try:
            for message in messages:
                await conn.write_message(_encode(message, protocol), binary=protocol == "v1")
            deadline = time.monotonic() + timeout
            while not until(received):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer in {timeout}s; got {len(received)} messages")
                raw = await asyncio.wait_for(conn.read_message(), left)
                if raw is None:
                    raise ConnectionError("the kernel websocket closed")
                received.append(_decode(raw))
            return received
        finally:
            conn.close()
            # Wait for the closing handshake, so that no socket outlives the test.
            with contextlib.suppress(Exception):
                while await asyncio.wait_for(conn.read_message(), 5) is not None:
                    pass

    return asyncio.run(run())


def replies_to(received: list[dict[str, Any]], message: dict[str, Any]) -> list[dict[str, Any]]:
    """Messages the kernel sent in answer to ``message``."""
    msg_id = message["header"]["msg_id"]
    return [m for m in received if (m.get("parent_header") or {}).get("msg_id") == msg_id]
