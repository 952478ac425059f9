"""What the recording gateway adds to a streamed call: the same request straight to the
demo provider and through ``chatmore/v1/chat/completions``, interleaved in one run.

    .venv/bin/python bench/gateway.py [--backend sqlite|mariadb] [--rounds 5]
                                      [--concurrency 1,16,64] [--tokens 200]
                                      [--provider-ttft-ms 100] [--smoke]

Each round sends ``c`` concurrent streamed requests one way, then ``c`` the other way
(which goes first alternates). A request asks for a ``--tokens``-chunk reply as fast as
the provider can send it (``tps=0``) after ``--provider-ttft-ms``, so the figures are
ChatMore's own cost: added time to the first content chunk (p50, p99 of all samples),
added total time for the whole reply, and the ChatMore server's CPU time per 1,000
chunks relayed (from ``/proc/<pid>/stat`` around the gateway's batches, each call's fixed
costs included: key check, rows written at start and at the end; the client's and the
provider's CPU are not counted). LiteLLM's proxy is compared only when it is installed (it is not a
dependency); otherwise the run says so.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import time

import httpx
from harness import Stack, cpu_seconds, median, percentile, stack

PROMPT = "Give me one sentence about latency."


async def one(client: httpx.AsyncClient, url: str, headers: dict, model: str) -> tuple:
    """(seconds to the first content chunk, seconds to [DONE], content chunks)."""
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": PROMPT}]}
    start = time.perf_counter()
    first = None
    chunks = 0
    async with client.stream("POST", url, json=body, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if not line.startswith("data: {"):
                continue
            choices = json.loads(line[6:]).get("choices") or []
            if choices and choices[0]["delta"].get("content"):
                chunks += 1
                if first is None:
                    first = time.perf_counter() - start
    return first, time.perf_counter() - start, chunks


async def batch(c: int, url: str, headers: dict, model: str) -> list[tuple]:
    limits = httpx.Limits(max_connections=c, max_keepalive_connections=c)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await one(client, url, headers, model)  # warm the connection pool
        return await asyncio.gather(*(one(client, url, headers, model) for _ in range(c)))


def run(stack_: Stack, concurrencies: list[int], rounds: int, tokens: int, ttft_ms: int) -> None:
    upstream = f"demo-swift;tps=0;tokens={tokens};ttft_ms={ttft_ms}"
    model_id = stack_.model(upstream)
    api = stack_.server.api_url
    name = httpx.get(f"{api}api/models/{model_id}", headers=stack_.auth).json()["name"]
    key = httpx.post(f"{api}api/keys", headers=stack_.auth, json={"name": "bench"}).json()["key"]
    ways = {
        "direct": (f"{stack_.provider.url}/chat/completions", {}, upstream),
        "gateway": (f"{api}v1/chat/completions", {"Authorization": f"Bearer {key}"}, name),
    }
    assert stack_.server.proc is not None
    pid = stack_.server.proc.pid
    print(f"reply: {tokens} chunks after {ttft_ms} ms; rounds: {rounds}")
    print(
        "  c | TTFT p50 direct/gateway/added ms | TTFT p99 added ms | "
        "total p50 direct/gateway/added ms | CPU ms per 1,000 chunks"
    )
    for c in concurrencies:
        samples: dict[str, list[tuple]] = {"direct": [], "gateway": []}
        round_medians: dict[str, list[float]] = {"direct": [], "gateway": []}
        cpu = 0.0
        relayed = 0
        for r in range(rounds):
            order = ["direct", "gateway"] if r % 2 == 0 else ["gateway", "direct"]
            for way in order:
                url, headers, model = ways[way]
                before = cpu_seconds(pid)
                got = asyncio.run(batch(c, url, headers, model))
                if way == "gateway":
                    cpu += cpu_seconds(pid) - before
                    relayed += sum(g[2] for g in got) + tokens  # the warm-up call too
                samples[way] += got
                round_medians[way].append(median([g[0] for g in got]))
        ttft = {w: [s[0] * 1000 for s in samples[w]] for w in samples}
        total = {w: [s[1] * 1000 for s in samples[w]] for w in samples}
        d50, g50 = median(round_medians["direct"]) * 1000, median(round_medians["gateway"]) * 1000
        added99 = percentile(ttft["gateway"], 0.99) - percentile(ttft["direct"], 0.99)
        t_d, t_g = median(total["direct"]), median(total["gateway"])
        print(
            f"{c:>3} | {d50:7.2f} / {g50:7.2f} / {g50 - d50:+7.2f} | {added99:+8.2f} | "
            f"{t_d:8.1f} / {t_g:8.1f} / {t_g - t_d:+7.1f} | {cpu * 1e6 / max(relayed, 1):8.1f}"
        )
    if importlib.util.find_spec("litellm") is None:
        print("LiteLLM is not installed: its proxy was not compared.")
    else:
        print("LiteLLM is installed, but comparing its proxy is not part of this script yet.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "mariadb"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--provider-ttft-ms", type=int, default=100)
    parser.add_argument("--smoke", action="store_true", help="a few quick rounds")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    rounds, tokens = args.rounds, args.tokens
    if args.smoke:
        concurrencies, rounds, tokens = [1, 2], 2, 20
    with stack(args.backend) as stack_:
        print(f"database: {args.backend}")
        run(stack_, concurrencies, rounds, tokens, args.provider_ttft_ms)


if __name__ == "__main__":
    main()
