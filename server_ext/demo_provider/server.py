"""The demo provider as a process of its own (tests, benchmarks, trying a client).

It prints one line with its base URL (ending in ``/v1``) once it listens, and stops
cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence

from tornado import netutil, web
from tornado.httpserver import HTTPServer

from .handlers import NotFoundHandler, routes


def build_app(*, record: bool = False) -> web.Application:
    table = routes("", record=record)
    state = table[0][2]
    return web.Application(
        table,  # type: ignore[arg-type]
        default_handler_class=NotFoundHandler,
        default_handler_args=state,
    )


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


async def serve(host: str = "127.0.0.1", port: int = 0, *, record: bool = False) -> None:
    """Listen until SIGINT or SIGTERM. Port 0 picks a free port (the printed URL says
    which)."""
    sockets = netutil.bind_sockets(port, host)
    server = HTTPServer(build_app(record=record))
    server.add_sockets(sockets)
    print(f"demo provider listening on {base_url(host, sockets[0].getsockname()[1])}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()
    # Stalled streams end with their connections.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.close_all_connections(), 5)


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(
        prog="python -m server_ext.demo_provider",
        description="A local OpenAI-compatible provider for demos, tests and benchmarks.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument(
        "--record",
        action="store_true",
        help="keep the last requests (headers included) and serve them at GET /_demo/requests",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    asyncio.run(serve(args.host, args.port, record=args.record))
    return 0
