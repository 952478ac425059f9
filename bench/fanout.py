"""Does a wide turn cost more than its slowest window? One 8-window turn whose models have
different speeds, against each of those models measured alone.

    .venv/bin/python bench/fanout.py [--backend sqlite|mariadb] [--runs 5]
    .venv/bin/python bench/fanout.py --smoke      # seconds: one run, 6-token replies, 10x faster

Each model is a demo-provider model with its own first-token delay and pace and a fixed
reply length. A run measures, through ChatMore (POST, ticket, SSE until ``done``), every
model alone as a one-window turn, then all eight in one turn. The figures are medians
over the runs: each model alone, the slowest alone, the 8-window turn, and how much
longer the turn took than its slowest window alone (target: within 2%).
"""

from __future__ import annotations

import argparse
import time

import httpx
from harness import Stack, median, stack

# (first-token delay ms, tokens per second); 60 tokens each.
SPEEDS = [
    (50, 200),
    (100, 150),
    (150, 120),
    (200, 100),
    (250, 80),
    (300, 60),
    (400, 50),
    (500, 40),
]
TOKENS = 60


def turn_seconds(client: httpx.Client, s: Stack, conversation_id: int) -> float:
    api = s.server.api_url
    start = time.perf_counter()
    turn_id = s.send(conversation_id, "Compare these approaches.", client)
    st = client.post(f"{api}streams/ticket", headers=s.auth, json={"turn_id": turn_id}).json()[
        "stream_token"
    ]
    with client.stream("GET", f"{api}streams/turn/{turn_id}", params={"st": st}) as response:
        for line in response.iter_lines():
            if line == "event: done":
                break
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "mariadb"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="one quick run")
    args = parser.parse_args()
    speeds, tokens = SPEEDS, TOKENS
    if args.smoke:
        args.runs, tokens = 1, 6
        speeds = [(ttft // 10, tps * 10) for ttft, tps in SPEEDS]
    with stack(args.backend) as s, httpx.Client(timeout=60) as client:
        models = [
            s.model(f"m{i};ttft_ms={ttft};tps={tps};tokens={tokens}")
            for i, (ttft, tps) in enumerate(speeds)
        ]
        alone: dict[int, list[float]] = {m: [] for m in models}
        together: list[float] = []
        turn_seconds(client, s, s.conversation(models[:1])["id"])  # warm-up
        for _ in range(args.runs):
            for model in models:
                alone[model].append(turn_seconds(client, s, s.conversation([model])["id"]))
            together.append(turn_seconds(client, s, s.conversation(models)["id"]))

    medians = {m: median(v) for m, v in alone.items()}
    slowest = max(medians.values())
    wide = median(together)
    print(f"backend: {args.backend}; {args.runs} runs; replies of {tokens} tokens")
    for (ttft, tps), model in zip(speeds, models, strict=True):
        print(
            f"  alone: first token after {ttft:3d} ms, {tps:3d} tok/s -> "
            f"{medians[model] * 1000:7.1f} ms"
        )
    print(f"slowest window alone : {slowest * 1000:7.1f} ms")
    print(f"8-window turn        : {wide * 1000:7.1f} ms")
    print(f"the turn took {100 * (wide / slowest - 1):+.2f}% longer than its slowest window")


if __name__ == "__main__":
    main()
