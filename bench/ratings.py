"""Time the leaderboard's Bradley–Terry fit with its bootstrap intervals.

    .venv/bin/python bench/ratings.py [--smoke] [--runs 5]

For a range of model counts and vote counts, synthetic pairwise votes (known strengths,
some ties) are fitted with ``server_ext.services.ratings.bradley_terry`` at the default
200 bootstrap rounds and at 1,000; prints the median time of ``--runs`` (after a
warm-up). The fit works on the k × k matrix of wins, so its time grows with the number of
models and rounds, hardly with the number of votes. ``--smoke`` runs one small case.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from server_ext.services.ratings import bradley_terry


def votes(models: int, count: int, seed: int = 0) -> list[tuple[str, str, float]]:
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 1, models)
    pairs = []
    for _ in range(count):
        a, b = rng.choice(models, size=2, replace=False)
        if rng.random() < 0.1:
            pairs.append((f"m{a}", f"m{b}", 0.5))
            continue
        p_a = 1 / (1 + np.exp(strength[b] - strength[a]))
        pairs.append((f"m{a}", f"m{b}", 1.0 if rng.random() < p_a else 0.0))
    return pairs


def timed(pairs: list, rounds: int, runs: int) -> float:
    bradley_terry(pairs, rounds=rounds)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        bradley_terry(pairs, rounds=rounds)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="one small case")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cases = [(4, 500)] if args.smoke else [(4, 1_000), (10, 10_000), (30, 100_000), (60, 100_000)]
    rounds = [200] if args.smoke else [200, 1_000]
    print(f"{'models':>6} {'votes':>8} {'rounds':>6} {'median':>10}")
    for models, count in cases:
        pairs = votes(models, count)
        for r in rounds:
            seconds = timed(pairs, r, 1 if args.smoke else args.runs)
            print(f"{models:>6} {count:>8} {r:>6} {seconds * 1000:>8.1f} ms")


if __name__ == "__main__":
    main()
