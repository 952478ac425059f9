"""An experiment of 1,000 prompts × 4 windows against the demo provider at a fixed pace,
concurrency 64: how close to the provider-bound minimum, how much memory, how fast the
rows are written, and how long ``.results()`` takes on the finished cells.

    .venv/bin/python bench/experiment.py [--backend sqlite|mariadb] [--prompts 1000]
                                         [--windows 4] [--concurrency 64]
                                         [--ttft-ms 300] [--tps 50] [--tokens 10] [--smoke]

Starts the demo provider and a ChatMore server, each a process of its own, registers
``--windows`` demo models (each call: ``--ttft-ms`` before the first token, then
``--tokens`` tokens at ``--tps``), and runs ``cm.run(prompts, models, concurrency=…)``
from this process as a notebook would. It reports:

- the wall time, from the POST to the experiment's end as the server recorded it,
  against the provider-bound minimum: ⌈cells / concurrency⌉ waves of one call's duration
  (measured by calling the provider directly, without ChatMore);
- the server's peak resident memory (VmHWM);
- rows written per second (cells / wall time);
- the time ``.results()`` takes to read the finished cells into a DataFrame.

``--smoke`` runs 20 prompts × 2 windows at concurrency 8, to check that it works.
"""

from __future__ import annotations

import argparse
import math
import os
import time

import httpx
from harness import cpu_seconds, stack

import chatmore_kernel as cm
from tests.support.api import PASSWORD, seed_user


def one_call_seconds(provider_url: str, upstream: str, runs: int = 5) -> float:
    """How long the provider takes for one streamed call on its own (median)."""
    times = []
    with httpx.Client(timeout=60) as client:  # one connection, as ChatMore's pools keep
        for i in range(runs + 1):
            start = time.perf_counter()
            with client.stream(
                "POST",
                f"{provider_url}/chat/completions",
                json={
                    "model": upstream,
                    "stream": True,
                    "messages": [{"role": "user", "content": f"question {i}"}],
                },
            ) as response:
                response.read()
            if i:  # the first one also opened the connection
                times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "mariadb"))
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--ttft-ms", type=int, default=300)
    parser.add_argument("--tps", type=float, default=50)
    parser.add_argument("--tokens", type=int, default=10)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.prompts, args.windows, args.concurrency = 20, 2, 8

    load = os.getloadavg()[0]
    with stack(args.backend) as s:
        pace = f"ttft_ms={args.ttft_ms};tps={args.tps:g};tokens={args.tokens}"
        upstreams = [f"bench{i};{pace}" for i in range(args.windows)]
        for upstream in upstreams:
            s.model(upstream, pricing={"input": 0.5, "output": 1.5, "currency": "USD"})
        call = one_call_seconds(s.provider.url, upstreams[0])
        session = cm.Session(s.server.base_url, seed_user(s.server), PASSWORD)
        names = [m["name"] for m in session._api.get("api/models")["models"]]
        prompts = [f"Question {i}: what does index {i} cover?" for i in range(args.prompts)]

        cpu_before = cpu_seconds(s.server.proc.pid), cpu_seconds(s.provider.proc.pid)
        start = time.perf_counter()
        run = session.run(prompts, names, concurrency=args.concurrency, progress=False)
        polled = time.perf_counter() - start
        server_cpu = cpu_seconds(s.server.proc.pid) - cpu_before[0]
        provider_cpu = cpu_seconds(s.provider.proc.pid) - cpu_before[1]
        info = run.info
        assert run.status == "finished", run
        server_wall = (
            _time(info["finished_at"]) - _time(info["started_at"])
            if info["finished_at"]
            else polled
        )
        read_start = time.perf_counter()
        frame = run.results()
        read = time.perf_counter() - read_start
        rss = s.rss_peak_mb()
        session.close()

    cells = args.prompts * args.windows
    waves = math.ceil(cells / max(args.concurrency, args.windows))
    minimum = waves * call
    succeeded = int((frame["status"] == "succeeded").sum())
    print(
        f"backend: {args.backend}; {args.prompts} prompts x {args.windows} windows = {cells} "
        f"cells, concurrency {args.concurrency}; one call {call * 1000:.0f} ms "
        f"({args.ttft_ms} ms to the first token, {args.tokens} tokens at {args.tps:g}/s)"
    )
    print(f"succeeded: {succeeded} of {cells}; rows in .results(): {len(frame)}")
    print(
        f"wall time (server's start to end): {server_wall:.2f} s; provider-bound minimum "
        f"{waves} waves x {call:.3f} s = {minimum:.2f} s; over by "
        f"{(server_wall / minimum - 1) * 100:+.1f} % (target within 5 %)"
    )
    print(f"wall time seen by cm.run() (polling every 0.5 s): {polled:.2f} s")
    print(f"rows written per second: {cells / server_wall:.0f}")
    print(
        f"CPU during the run: server {server_cpu:.1f} s, demo provider {provider_cpu:.1f} s "
        f"(load average before the run: {load:.1f} on {os.cpu_count()} CPUs)"
    )
    print(f"server peak RSS: {rss:.0f} MB (target <= 400 MB)")
    print(f".results() on {len(frame)} rows: {read * 1000:.0f} ms (target <= 1 s)")


def _time(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


if __name__ == "__main__":
    main()
