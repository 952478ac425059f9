"""Where a turn's first token waits inside the server: the database work between the POST
and the first chunk event, step by step, timed in this process against the server's own
database (SQLite file or MariaDB).

    .venv/bin/python bench/turn_path.py [--backend sqlite|mariadb] [--samples 200]
    .venv/bin/python bench/turn_path.py --smoke      # seconds: a few samples

The steps, as `ConversationService.send` runs them (services/conversations.py):

- `plan`: the read that validates the turn and gathers each window's chain (five queries
  in one read transaction); the upstream calls can only start after it;
- `store`: the write of the turn's rows; it runs while the providers think, and the first
  chunk is shown once it has committed (a window taken meanwhile refuses the turn);
- `hop`: handing a trivial function to the database thread pool and back, the cost every
  database step pays on top of its own work.

Each is timed on first turns of 4-window conversations and (`plan` only) on a
conversation whose windows already hold `--history` turns. Medians, p99 and this
process's CPU per step.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable

import httpx
from harness import median, percentile, stack

from server_ext.services.conversations import _plan_turn, _store_turn
from server_ext.store.db import Database, utcnow


def timed(samples: int, step: Callable[[int], object]) -> tuple[list[float], float]:
    """Wall seconds of each call and the CPU seconds per call."""
    walls = []
    cpu = time.process_time()
    for i in range(samples):
        start = time.perf_counter()
        step(i)
        walls.append(time.perf_counter() - start)
    return walls, (time.process_time() - cpu) / samples


async def hops(db: Database, samples: int) -> list[float]:
    walls = []
    for _ in range(samples):
        start = time.perf_counter()
        await db.read(lambda _conn: None)
        walls.append(time.perf_counter() - start)
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "mariadb"])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--history", type=int, default=20, help="turns before the timed plan")
    parser.add_argument("--smoke", action="store_true", help="a few samples")
    args = parser.parse_args()
    if args.smoke:
        args.samples, args.history = 5, 2

    with stack(args.backend) as s:
        models = [s.model(f"path{i};tps=0;tokens=5") for i in range(4)]
        fresh = [s.conversation(models)["id"] for _ in range(args.samples)]
        used = s.conversation(models)["id"]
        me = httpx.get(s.server.api_url + "auth/me", headers=s.auth).json()
        user_id = me["id"]
        db = Database(s.server.env["CHATMORE_DB_URL"], threads=2)
        try:
            for n in range(args.history):  # a history for the chains to gather
                with httpx.stream(
                    "POST",
                    f"{s.server.api_url}api/conversations/{used}/messages",
                    headers={**s.auth, "Accept": "text/event-stream"},
                    json={"content": f"earlier prompt {n}"},
                    timeout=60,
                ) as answer:
                    answer.raise_for_status()
                    for _line in answer.iter_lines():  # to the turn's end
                        pass
            plans = [db.read_sync(_plan_turn, user_id, c, None) for c in fresh[:1]]  # warm
            plan_walls, plan_cpu = timed(
                args.samples, lambda i: db.read_sync(_plan_turn, user_id, fresh[i], None)
            )
            chain_walls, chain_cpu = timed(
                args.samples, lambda _i: db.read_sync(_plan_turn, user_id, used, None)
            )
            plans = [db.read_sync(_plan_turn, user_id, c, None) for c in fresh]
            store_walls, store_cpu = timed(
                args.samples,
                lambda i: db.write_sync(
                    _store_turn, plans[i], user_id, "a timed prompt", utcnow(), None
                ),
            )
            hop_walls = asyncio.run(hops(db, args.samples))
        finally:
            db.close()

    print(
        f"backend: {args.backend}; {args.samples} samples each; 4 windows a turn; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    rows = [
        ("plan, first turn", plan_walls, plan_cpu),
        (f"plan, {args.history} turns of history", chain_walls, chain_cpu),
        ("store the turn", store_walls, store_cpu),
        ("hop to the pool", hop_walls, None),
    ]
    for label, walls, cpu in rows:
        cpu_text = f"   CPU {cpu * 1000:6.3f} ms" if cpu is not None else ""
        print(
            f"{label:<28}: p50 {median(walls) * 1000:6.3f} ms   "
            f"p99 {percentile(walls, 0.99) * 1000:6.3f} ms{cpu_text}"
        )


if __name__ == "__main__":
    main()
