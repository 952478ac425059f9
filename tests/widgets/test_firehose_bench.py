"""bench/board_firehose.py in its smoke mode: it runs to the end and prints its figures.
(No figure is asserted: timings belong to the benchmark, not to the tests.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_firehose_benchmark_runs_and_prints_its_figures() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "board_firehose.py"), "--smoke"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if " cols run " in line]
    assert [line.split()[0] for line in lines] == ["plain", "code"], result.stdout
    for line in lines:
        for figure in (
            r"busy \d+%",
            r"longest \d+ ms",
            r"fps mean [\d.]+ worst \d+",
            r"lag p50/p95/max \d+/\d+/\d+ ms",
            r"DOM board [\d,]+",
            r"heap [\d.]+ MB",
        ):
            assert re.search(figure, line), (figure, line)
