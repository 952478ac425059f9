"""Time to first token added by ChatMore: the same one-window request through ChatMore
against a direct httpx stream to the provider, in interleaved rounds. Two ways through
ChatMore: a turn in one request (``POST …/messages`` with ``Accept: text/event-stream``)
and the three-request path a browser's EventSource takes (POST, stream ticket, SSE).

    .venv/bin/python bench/turn_overhead.py [--backend sqlite|mariadb] [--rounds 15]
                                            [--per-round 10] [--provider-ttft-ms 100]
    .venv/bin/python bench/turn_overhead.py --smoke      # seconds: one round of 2 requests

The demo provider runs as a process of its own and waits ``--provider-ttft-ms`` before
its first token, as real models do (the ticket and the SSE connection are made while
the provider thinks, as a client does). Each round measures ``--per-round`` requests
each way, alternating; the figures are the median of the rounds' medians and the p99
of all samples, for the direct stream, through ChatMore, and their difference.
"""

from __future__ import annotations

import argparse
import json
import time

import httpx
from harness import Stack, median, percentile, stack

PROMPT = "Give me one sentence about latency."


def direct_ttft(client: httpx.Client, stack_: Stack, upstream: str) -> float:
    start = time.perf_counter()
    with client.stream(
        "POST",
        f"{stack_.provider.url}/chat/completions",
        json={
            "model": upstream,
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": PROMPT}],
        },
    ) as response:
        elapsed = None
        for line in response.iter_lines():  # read to the end, as a real client does
            if elapsed is None and line.startswith("data: {"):
                choices = json.loads(line[6:]).get("choices") or []
                if choices and choices[0]["delta"].get("content"):
                    elapsed = time.perf_counter() - start
    assert elapsed is not None
    return elapsed


def first_chunk_after(response: httpx.Response, start: float) -> float:
    """Seconds from ``start`` to the stream's first chunk event; read to ``done``."""
    elapsed = None
    event = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "chunk" and elapsed is None:
            elapsed = time.perf_counter() - start
        elif line.startswith("data: ") and event == "done":
            break
    assert elapsed is not None
    return elapsed


def chatmore_ttft(client: httpx.Client, stack_: Stack, conversation_id: int) -> float:
    api = stack_.server.api_url
    start = time.perf_counter()
    sent = client.post(
        f"{api}api/conversations/{conversation_id}/messages",
        headers=stack_.auth,
        json={"content": PROMPT},
    )
    turn_id = sent.json()["turn_id"]
    st = client.post(
        f"{api}streams/ticket", headers=stack_.auth, json={"turn_id": turn_id}
    ).json()["stream_token"]
    with client.stream("GET", f"{api}streams/turn/{turn_id}", params={"st": st}) as response:
        return first_chunk_after(response, start)


def one_request_ttft(client: httpx.Client, stack_: Stack, conversation_id: int) -> float:
    start = time.perf_counter()
    with client.stream(
        "POST",
        f"{stack_.server.api_url}api/conversations/{conversation_id}/messages",
        headers={**stack_.auth, "Accept": "text/event-stream"},
        json={"content": PROMPT},
    ) as response:
        return first_chunk_after(response, start)


WAYS = {"chatmore": chatmore_ttft, "one_request": one_request_ttft}
WARMUP = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "mariadb"])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=10)
    parser.add_argument("--provider-ttft-ms", type=int, default=100)
    parser.add_argument("--smoke", action="store_true", help="one round of 2 requests")
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.per_round, args.provider_ttft_ms = 1, 2, 20
    upstream = f"bench;ttft_ms={args.provider_ttft_ms};tps=0;tokens=20"

    with stack(args.backend) as s, httpx.Client(timeout=30) as client:
        model = s.model(upstream, default_params={"max_tokens": 50})
        # A fresh conversation per request keeps every request a first turn of one window.
        conversations = iter(
            [
                s.conversation([model])["id"]
                for _ in range((args.rounds * args.per_round + WARMUP) * len(WAYS))
            ]
        )
        for _ in range(WARMUP):  # warm-up: connections, caches
            direct_ttft(client, s, upstream)
            for way in WAYS.values():
                way(client, s, next(conversations))
        medians: dict[str, list[float]] = {w: [] for w in ("direct", *WAYS)}
        added: dict[str, list[float]] = {w: [] for w in WAYS}
        every: dict[str, list[float]] = {w: [] for w in ("direct", *WAYS)}
        for _ in range(args.rounds):
            samples: dict[str, list[float]] = {w: [] for w in ("direct", *WAYS)}
            for i in range(args.per_round):
                order = ["direct", *WAYS]
                for way in order if i % 2 == 0 else reversed(order):
                    if way == "direct":
                        samples[way].append(direct_ttft(client, s, upstream))
                    else:
                        samples[way].append(WAYS[way](client, s, next(conversations)))
            for way, values in samples.items():
                medians[way].append(median(values))
                every[way] += values
            for way in WAYS:
                added[way].append(median(samples[way]) - median(samples["direct"]))

    ms = 1000
    print(
        f"backend: {args.backend}; provider first-token delay {args.provider_ttft_ms} ms; "
        f"{args.rounds} rounds x {args.per_round} requests each way"
    )
    labels = {
        "direct": "direct to the provider",
        "chatmore": "POST, ticket, SSE",
        "one_request": "one request (POST SSE)",
    }
    for way, label in labels.items():
        print(
            f"{label:<24}: p50 {median(medians[way]) * ms:7.2f} ms   "
            f"p99 {percentile(every[way], 0.99) * ms:7.2f} ms"
        )
    for way in WAYS:
        p99 = percentile(every[way], 0.99) - percentile(every["direct"], 0.99)
        print(f"added, {way:<17}: p50 {median(added[way]) * ms:7.2f} ms   p99 {p99 * ms:7.2f} ms")


if __name__ == "__main__":
    main()
