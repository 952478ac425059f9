"""httpx against aiohttp for the upstream side, and ChatMore's own provider client: the
CPU one process spends reading providers' Chat Completions streams, per chunk, at a
concurrency of 1 and of 64.

    .venv/bin/python bench/upstream_clients.py [--tokens 500] [--runs 5] [--tps 25] [--smoke]

The two bare readers do the same minimal work: read the ``data:`` lines, ``json.loads``
each, keep the content. ``ProviderClient`` is the client board turns use
(``ProviderClient.stream``: its SSE parser, deadlines, retries and bookkeeping on top of
its HTTP client). The demo provider runs as a process of its own, unpaced (``--tps 0``:
many chunks arrive in one network read) or paced as models stream (``--tps 25``: about
one chunk a read, the costlier case). Runs rotate the readers' order after a warm-up;
the figures are medians of this process's CPU time per chunk and of the wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx
from provider_client_overhead import MESSAGES, start_provider

from server_ext.services.provider_client import Delta, ProviderClient, ProviderTarget

WARMUP = 1


def body(model: str) -> dict:
    return {
        "model": model,
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def content(line: str, parts: list[str]) -> None:
    if line.startswith("data: ") and line != "data: [DONE]":
        choices = json.loads(line[6:])["choices"]
        if choices and (text := choices[0]["delta"].get("content")):
            parts.append(text)


async def with_httpx(http: httpx.AsyncClient, url: str, model: str) -> int:
    parts: list[str] = []
    async with http.stream("POST", f"{url}/chat/completions", json=body(model)) as response:
        async for line in response.aiter_lines():
            content(line, parts)
    return len(parts)


async def with_aiohttp(session: Any, url: str, model: str) -> int:
    parts: list[str] = []
    async with session.post(f"{url}/chat/completions", json=body(model)) as response:
        async for raw in response.content:
            content(raw.decode().rstrip("\r\n"), parts)
    return len(parts)


async def with_chatmore(client: ProviderClient, url: str, model: str) -> int:
    deltas = 0
    target = ProviderTarget(url, None, model, 120)
    async with contextlib.aclosing(client.stream(target, MESSAGES, {})) as stream:
        async for item in stream:
            deltas += isinstance(item, Delta)
    return deltas


async def run(
    read: Callable[[], Awaitable[int]], concurrency: int, tokens: int
) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    counts = await asyncio.gather(*(read() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert all(c == tokens for c in counts), counts[:3]
    return wall, cpu / (concurrency * tokens)


async def measure(
    url: str, tokens: int, runs: int, concurrency: int, tps: float
) -> dict[str, list]:
    model = f"bench;tps={tps:g};ttft_ms=0;tokens={tokens}"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    http = httpx.AsyncClient(timeout=120, limits=limits)
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency),
        timeout=aiohttp.ClientTimeout(total=120),
    )
    client = ProviderClient(
        connect_timeout=10, first_token_timeout=60, idle_timeout=60, allow_private=True
    )
    readers: dict[str, Callable[[], Awaitable[int]]] = {
        "httpx": lambda: with_httpx(http, url, model),
        "aiohttp": lambda: with_aiohttp(session, url, model),
        "ProviderClient": lambda: with_chatmore(client, url, model),
    }
    results: dict[str, list] = {name: [] for name in readers}
    names = list(readers)
    try:
        for i in range(WARMUP + runs):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                sample = await run(readers[name], concurrency, tokens)
                if i >= WARMUP:
                    results[name].append(sample)
    finally:
        await http.aclose()
        await session.close()
        await client.aclose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=500, help="chunks per reply")
    parser.add_argument("--runs", type=int, default=5, help="counted runs of each reader")
    parser.add_argument("--tps", type=float, default=0, help="the provider's pace (0: none)")
    parser.add_argument("--smoke", action="store_true", help="seconds: tiny sizes")
    args = parser.parse_args()
    levels = (1, 64)
    if args.smoke:
        args.tokens, args.runs, levels = 20, 1, (1, 4)
    proc, url = start_provider()
    try:
        pace = f"{args.tps:g} tokens/s" if args.tps else "unpaced"
        print(
            f"demo provider at {url}: {args.tokens}-chunk replies, {pace}, "
            f"{args.runs} runs; medians"
        )
        print(f"{'client':<16}{'streams':>8}{'wall ms':>10}{'cpu µs/chunk':>14}")
        for concurrency in levels:
            results = asyncio.run(measure(url, args.tokens, args.runs, concurrency, args.tps))
            for name, samples in results.items():
                wall = statistics.median(s[0] for s in samples)
                cpu = statistics.median(s[1] for s in samples)
                print(f"{name:<16}{concurrency:>8}{wall * 1000:>10.1f}{cpu * 1e6:>14.1f}")
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
