"""The front end: its versions and vocabulary match Python's, its bundle loads nothing from
the network, and its own unit tests (node, jsdom) pass."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

import widgets
from tests.widgets import reply_samples
from widgets import protocol

WIDGETS = Path(widgets.__file__).parent
PACKAGE = json.loads((WIDGETS / "package.json").read_text())
# Node.js builds the package (hatch_build.py), so it is there wherever the tests run.
NODE = shutil.which("node") or "node"


def test_python_and_js_versions_match() -> None:
    assert widgets.__version__ == PACKAGE["version"] == version("chatmore")


def test_the_built_bundle_is_of_this_version() -> None:
    bundle = (WIDGETS / "static" / "board.js").read_text()
    assert bundle.startswith(f"/* chatmore-widget {widgets.__version__} */")
    assert json.dumps(widgets.__version__) in bundle  # what the front end compares


def test_the_board_ships_its_bundle() -> None:
    board = widgets.Board()
    assert board._esm.startswith("/* chatmore-widget")
    assert ".cm-column" in board._css


def test_the_bundle_loads_nothing_from_a_url() -> None:
    js = (WIDGETS / "static" / "board.js").read_text()
    css = (WIDGETS / "static" / "board.css").read_text()
    assert not re.search(r"""\bimport\s*\(\s*["'`]https?:""", js)
    assert not re.search(r"""\bfrom\s*["']https?:""", js)
    assert not re.search(r"@import|url\(\s*[\"']?(https?:)?//", css)
    assert "@font-face" not in css


def test_js_and_python_share_the_vocabulary() -> None:
    script = (
        "import * as p from './src/protocol.js';"
        "console.log(JSON.stringify({front: p.FRONT_TO_KERNEL, kernel: p.KERNEL_TO_FRONT,"
        " events: p.EVENT_NAMES, statuses: p.STATUSES, terminal: p.TERMINAL_STATUSES,"
        " cancelled: p.CANCELLED_CODE, interrupted: p.INTERRUPTED_CODE,"
        " noResult: p.NO_RESULT_MESSAGE}))"
    )
    out = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        cwd=WIDGETS,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    from widgets.history import NO_RESULT_MESSAGE

    assert json.loads(out) == {
        "front": list(protocol.FRONT_TO_KERNEL),
        "kernel": list(protocol.KERNEL_TO_FRONT),
        "events": list(protocol.EVENT_NAMES),
        "statuses": list(protocol.STATUSES),
        "terminal": sorted(protocol.TERMINAL_STATUSES, key=protocol.STATUSES.index),
        "cancelled": protocol.CANCELLED_CODE,
        "interrupted": protocol.INTERRUPTED_CODE,
        "noResult": NO_RESULT_MESSAGE,
    }


@pytest.mark.timeout(900)  # about a minute of CPU; minutes of wall time on a busy machine
def test_the_front_end_unit_tests_pass() -> None:
    tests = sorted(str(p.relative_to(WIDGETS)) for p in (WIDGETS / "tests").glob("*.test.mjs"))
    assert tests, "no front-end tests found"
    assert (WIDGETS / "node_modules" / "jsdom").is_dir(), (
        "widgets/node_modules is missing: run `npm ci` in widgets/ (pip install -e . does it)"
    )
    result = subprocess.run(
        [NODE, "--test", *tests], cwd=WIDGETS, capture_output=True, text=True, timeout=840
    )
    summary = "\n".join(line for line in result.stdout.splitlines() if line.startswith("# "))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert re.search(r"^# fail 0$", summary, re.M), summary
    assert int(re.search(r"^# pass (\d+)$", summary, re.M).group(1)) >= 40, summary


def test_the_front_end_is_formatted() -> None:
    prettier = WIDGETS / "node_modules" / "prettier" / "bin" / "prettier.cjs"
    result = subprocess.run(
        [NODE, str(prettier), "--check", "src", "tests", "build.mjs"],
        cwd=WIDGETS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_render_tests_stream_the_demo_providers_current_replies() -> None:
    # widgets/tests/streaming.test.mjs streams these; regenerate with
    # `.venv/bin/python -m tests.widgets.reply_samples` when the demo's replies change.
    assert reply_samples.FIXTURE.read_text() == reply_samples.fixture_text()
