"""Many turns at once in one server process: are deltas lost or reordered, how much gap
does ChatMore add between chunks, and how much memory does it take?

    .venv/bin/python bench/load.py [--backend sqlite|mariadb] [--turns 200] [--windows 4]
                                   [--tps 10] [--tokens 40]
    .venv/bin/python bench/load.py --smoke      # seconds: 4 turns x 2 windows, 5 tokens

Starts the demo provider and a ChatMore server, each a process of its own, creates
``--turns`` conversations of ``--windows`` windows (every window its own demo model,
``--tps`` tokens per second, ``--tokens`` tokens per reply), then starts every turn at
once and reads every turn's SSE stream until ``done``, all concurrently from this
process. It reports:

- lost or reordered deltas: per window, the streamed text is compared with the reply
  the provider gives for that prompt when called directly, and event ids must increase;
- the inter-chunk gap ChatMore adds: each gap between two chunk events of a window minus
  the provider's own pace (1 / tps), p50 and p99;
- the server's CPU per relayed chunk (user + system time of its process over the run,
  divided by the chunk events it sent), and its peak resident memory (VmHWM).

``--one-request`` starts each turn with ``Accept: text/event-stream`` on the POST
instead of the ticket and the stream route; ``--profile out.json`` samples the server
with py-spy during the run (speedscope format).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import time
from dataclasses import dataclass, field

import httpx
from harness import Stack, cpu_seconds, median, percentile, profiled, stack

PROMPT = "Summarise the trade-offs of caching."


@dataclass
class WindowTrace:
    text: str = ""
    arrivals: list[float] = field(default_factory=list)


@dataclass
class TurnTrace:
    ids: list[int] = field(default_factory=list)
    windows: dict[int, WindowTrace] = field(default_factory=dict)
    done: dict | None = None


async def run_turn(
    client: httpx.AsyncClient, s: Stack, conversation_id: int, one_request: bool
) -> TurnTrace:
    api = s.server.api_url
    messages = f"{api}api/conversations/{conversation_id}/messages"
    body = {"content": PROMPT}
    if one_request:
        headers = {**s.auth, "Accept": "text/event-stream"}
        async with client.stream("POST", messages, headers=headers, json=body) as response:
            response.raise_for_status()
            return await read_events(response)
    sent = await client.post(messages, headers=s.auth, json=body)
    sent.raise_for_status()
    turn_id = sent.json()["turn_id"]
    ticket = await client.post(f"{api}streams/ticket", headers=s.auth, json={"turn_id": turn_id})
    async with client.stream(
        "GET", f"{api}streams/turn/{turn_id}", params={"st": ticket.json()["stream_token"]}
    ) as response:
        return await read_events(response)


async def read_events(response: httpx.Response) -> TurnTrace:
    """A turn's SSE stream up to its ``done`` event, each chunk's arrival timed."""
    trace = TurnTrace()
    name = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("id: "):
            trace.ids.append(int(line[4:]))
        elif line.startswith("data: "):
            data = json.loads(line[6:])
            if name == "chunk":
                window = trace.windows.setdefault(data["window_id"], WindowTrace())
                window.text += data["delta_text"]
                window.arrivals.append(time.perf_counter())
            elif name == "done":
                trace.done = data
                break
    return trace


async def expected_replies(s: Stack, upstreams: list[str]) -> dict[str, str]:
    """What each model says to the prompt, asked directly (the demo is deterministic)."""
    found = {}
    async with httpx.AsyncClient(timeout=60) as client:
        for upstream in upstreams:
            answer = await client.post(
                f"{s.provider.url}/chat/completions",
                json={
                    "model": upstream.split(";")[0]
                    + ";tps=0;tokens="
                    + upstream.split("tokens=")[1],
                    "messages": [{"role": "user", "content": PROMPT}],
                },
            )
            found[upstream] = answer.json()["choices"][0]["message"]["content"]
    return found


async def main_async(args: argparse.Namespace) -> None:
    with stack(args.backend) as s:
        upstreams = [
            f"load{i};ttft_ms=100;tps={args.tps};tokens={args.tokens}" for i in range(args.windows)
        ]
        models = [s.model(u) for u in upstreams]
        by_model = dict(zip(models, upstreams, strict=True))
        expected = await expected_replies(s, upstreams)
        conversations = [s.conversation(models) for _ in range(args.turns)]
        model_of_window = {w["id"]: w["model_id"] for c in conversations for w in c["windows"]}
        limits = httpx.Limits(max_connections=4 * args.turns, max_keepalive_connections=64)
        pid = s.server.proc.pid
        async with httpx.AsyncClient(timeout=300, limits=limits) as client:
            with profiled(pid, args.profile):
                cpu = cpu_seconds(pid)
                start = time.perf_counter()
                traces = await asyncio.gather(
                    *(run_turn(client, s, c["id"], args.one_request) for c in conversations)
                )
                elapsed = time.perf_counter() - start
                cpu = cpu_seconds(pid) - cpu
        rss = s.rss_peak_mb()

    pace = 1 / args.tps
    lost = reordered = incomplete = 0
    added_gaps: list[float] = []
    timed_gaps: list[tuple[float, float]] = []  # (when, added gap)
    for trace in traces:
        if trace.ids != sorted(set(trace.ids)):
            reordered += 1
        if trace.done is None or trace.done["models_succeeded"] != args.windows:
            incomplete += 1
        for window_id, window in trace.windows.items():
            if window.text != expected[by_model[model_of_window[window_id]]]:
                lost += 1
            for a, b in itertools.pairwise(window.arrivals):
                added_gaps.append(max(0.0, (b - a) - pace))
                timed_gaps.append((b - start, added_gaps[-1]))
    streams = args.turns * args.windows
    events = sum(len(w.arrivals) for t in traces for w in t.windows.values())
    relayed = streams * args.tokens  # the demo provider sends a chunk per token
    print(
        f"backend: {args.backend}; {args.turns} concurrent turns x {args.windows} windows "
        f"= {streams} streams at {args.tps} tok/s, {args.tokens} tokens each "
        f"({streams * args.tps} tokens/s in all); "
        f"{'one request' if args.one_request else 'POST, ticket, SSE'}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"all turns done in {elapsed:.1f} s (one reply alone takes about "
        f"{0.1 + args.tokens / args.tps:.1f} s)"
    )
    print(f"windows whose text differs from the provider's reply (lost deltas): {lost}")
    print(f"turns whose event ids were not strictly increasing (reordered): {reordered}")
    print(f"turns not ending with every window succeeded: {incomplete}")
    print(
        f"added inter-chunk gap: p50 {median(added_gaps) * 1000:.1f} ms, "
        f"p99 {percentile(added_gaps, 0.99) * 1000:.1f} ms over {len(added_gaps)} gaps"
    )
    for second in range(int(elapsed) + 1):
        inside = [g for t, g in timed_gaps if second <= t < second + 1]
        if inside:
            p99 = percentile(inside, 0.99) * 1000
            print(f"  second {second:2d}: {len(inside):5d} gaps, p99 {p99:6.1f} ms")
    print(
        f"server CPU: {cpu:.2f} s for {relayed} upstream chunks ({events} chunk events), "
        f"{cpu * 1000 / relayed:.3f} ms per relayed chunk, turn set-up included"
    )
    print(f"server peak RSS: {rss:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "mariadb"])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--tps", type=float, default=10)
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--one-request", action="store_true", help="POST with SSE per turn")
    parser.add_argument("--profile", help="py-spy the server into this file (speedscope)")
    parser.add_argument("--smoke", action="store_true", help="a few short turns")
    args = parser.parse_args()
    if args.smoke:
        args.turns, args.windows, args.tps, args.tokens = 4, 2, 50, 5
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
