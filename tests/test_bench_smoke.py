"""Every benchmark under bench/ still runs: each in its ``--smoke`` mode (seconds, tiny
sizes), which must complete and print its figures. The figures themselves are not
judged here (no test asserts a wall-clock bound); bench/README.md holds the real runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
# What each benchmark prints when it has measured something (a figure and its unit).
FIGURES = {
    "checkpoint_lag.py": r"at SIGKILL: 2/2 INTERRUPTED; lost per window: [\d.]+ s",
    "fanout.py": r"longer than its slowest window",
    "fill_history.py": r"filled .*: 1,000 results .* in [\d.]+ s",
    "load.py": r"added inter-chunk gap: p50 [\d.]+ ms, p99 [\d.]+ ms",
    "provider_client_overhead.py": r"ratio client / bare\s+[\d.]+x",
    "results_dataframe.py": r"cm\.results\(text=False\)\s+2,000 rows\s+[\d.]+ s",
    "stats_query.py": r"sqlite\s+everyone, by day\s+\d+ \(",
    "turn_overhead.py": r"added, one_request\s+: p50\s+-?[\d.]+ ms",
    "turn_path.py": r"store the turn\s+: p50\s+[\d.]+ ms",
    "upstream_clients.py": r"httpx\s+1\s+[\d.]+\s+[\d.]+",
    "gateway.py": r"\s1 \|\s+[\d.]+ /\s+[\d.]+ /\s+[+-][\d.]+",
    "experiment.py": r"\.results\(\) on \d+ rows: \d+ ms",
    "search.py": r"sqlite\s+the mix \(4 kinds\)",
    "ratings.py": r"\s4\s+\d+\s+\d+\s+[\d.]+ ms",
    "login_timing.py": r"slowest / fastest median: [\d.]+",
}
# Run by a test of its own (tests/widgets/test_firehose_bench.py): it needs Chromium.
ELSEWHERE = {"board_firehose.py"}


def test_every_benchmark_is_covered() -> None:
    scripts = {p.name for p in BENCH.glob("*.py")} - {"harness.py"} - ELSEWHERE
    assert scripts == set(FIGURES)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(FIGURES))
def test_benchmark_smoke(script: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--smoke"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(FIGURES[script], done.stdout), done.stdout[-3000:]
