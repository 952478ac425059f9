"""What ProviderClient.stream costs over the least a client can do with the same stream.

    .venv/bin/python bench/provider_client_overhead.py [--tokens 1000] [--runs 15]
    .venv/bin/python bench/provider_client_overhead.py --smoke      # seconds: 50 chunks, 1 run

Starts the demo provider as a process of its own, then streams the same reply (``--tokens``
chunks, as fast as the provider can send them) many times, alternating two readers:

- bare: one httpx.AsyncClient, ``aiter_lines()``, ``json.loads`` of each ``data:`` line and
  the content appended — no limits, no error handling, no timing (it reads the body to
  its end, as the client does, so both reuse their connection);
- client: ``ProviderClient.stream`` (URL guard, deadlines, SSE parsing, usage, timings).

The order alternates every run, after a few warm-up runs that are not counted. It prints
the median wall time and the median CPU time of this process (the provider runs in
another), per reply and per chunk, and the ratio client / bare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import httpx

from server_ext.services.provider_client import Delta, ProviderClient, ProviderTarget, StreamEnd

MESSAGES = [{"role": "user", "content": "Write a long answer about streaming parsers."}]
WARMUP = 3


def start_provider() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "server_ext.demo_provider", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"(http://\S+/v1)", line)
    if not match:
        proc.kill()
        raise SystemExit(f"the demo provider did not start: {line!r}")
    return proc, match.group(1)


async def bare(http: httpx.AsyncClient, url: str, model: str) -> int:
    body = {
        "model": model,
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    parts: list[str] = []
    async with http.stream("POST", f"{url}/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            payload = line[6:]
            if payload == "[DONE]":
                continue  # read on to the end of the body, so the connection is reused
            choices = json.loads(payload)["choices"]
            if choices and (text := choices[0]["delta"].get("content")):
                parts.append(text)
    return len(parts)


async def with_client(client: ProviderClient, url: str, model: str) -> int:
    deltas = 0
    target = ProviderTarget(url, "sk-bench", model, 60)
    async with contextlib.aclosing(client.stream(target, MESSAGES, {})) as stream:
        async for item in stream:
            if isinstance(item, Delta):
                deltas += 1
            else:
                assert isinstance(item, StreamEnd) and item.usage is not None
    return deltas


async def timed(run: Callable[[], Awaitable[int]], expected: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    chunks = await run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert chunks == expected, f"got {chunks} chunks, expected {expected}"
    return wall, cpu


async def measure(url: str, tokens: int, runs: int) -> dict[str, list[tuple[float, float]]]:
    model = f"bench;tps=0;ttft_ms=0;tokens={tokens}"
    client = ProviderClient(
        connect_timeout=5, first_token_timeout=30, idle_timeout=30, allow_private=True
    )
    http = httpx.AsyncClient(timeout=60)
    readers: dict[str, Callable[[], Awaitable[int]]] = {
        "bare httpx loop": lambda: bare(http, url, model),
        "ProviderClient.stream": lambda: with_client(client, url, model),
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in readers}
    names = list(readers)
    try:
        for i in range(WARMUP + runs):
            order = names if i % 2 == 0 else names[::-1]
            for name in order:
                sample = await timed(readers[name], tokens)
                if i >= WARMUP:
                    results[name].append(sample)
    finally:
        await client.aclose()
        await http.aclose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1000, help="chunks per reply")
    parser.add_argument("--runs", type=int, default=15, help="counted runs of each reader")
    parser.add_argument("--smoke", action="store_true", help="50-chunk replies, one run")
    args = parser.parse_args()
    if args.smoke:
        args.tokens, args.runs = 50, 1
    proc, url = start_provider()
    try:
        results = asyncio.run(measure(url, args.tokens, args.runs))
    finally:
        proc.terminate()
        proc.wait(10)
    print(
        f"demo provider at {url}: {args.tokens}-chunk replies (tps=0), {args.runs} interleaved "
        f"runs per reader after {WARMUP} warm-ups; medians"
    )
    print(f"{'reader':<24}{'wall ms':>10}{'cpu ms':>10}{'cpu µs/chunk':>14}{'chunks/s':>12}")
    medians = {}
    for name, samples in results.items():
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        medians[name] = (wall, cpu)
        print(
            f"{name:<24}{wall * 1000:>10.1f}{cpu * 1000:>10.1f}"
            f"{cpu / args.tokens * 1e6:>14.1f}{args.tokens / wall:>12,.0f}"
        )
    (bare_wall, bare_cpu), (client_wall, client_cpu) = medians.values()
    ratios = f"{client_wall / bare_wall:>9.2f}x{client_cpu / bare_cpu:>9.2f}x"
    print(f"{'ratio client / bare':<24}{ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
