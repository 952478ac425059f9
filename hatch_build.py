"""Hatch build hook: bundle the widgets' front ends before the package is built.

It runs ``npm ci`` in ``widgets/`` when ``node_modules`` is missing or older than the
lockfile, then ``node build.mjs``, which writes ``widgets/static/board.js``, ``board.css``,
``matrix.js`` and ``matrix.css``. Those files are git-ignored, so pyproject.toml lists
them as artifacts for the wheel and the sdist. ``CHATMORE_SKIP_JS_BUILD=1`` skips the
build when all of them exist (e.g. a container that built them in an earlier step).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

OUTPUTS = ("static/board.js", "static/board.css", "static/matrix.js", "static/matrix.css")


class WidgetBuildHook(BuildHookInterface):
    """Builds ``widgets/static`` with npm and esbuild."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        widgets = Path(self.root) / "widgets"
        outputs = [widgets / name for name in OUTPUTS]
        if os.environ.get("CHATMORE_SKIP_JS_BUILD") == "1" and all(p.is_file() for p in outputs):
            self.app.display_info("CHATMORE_SKIP_JS_BUILD=1: using the built widget bundle")
            return
        npm, node = shutil.which("npm"), shutil.which("node")
        if npm is None or node is None:
            raise RuntimeError(
                "Building ChatMore needs Node.js and npm (to bundle the widget's front end "
                "into widgets/static/). Install them (e.g. apt-get install nodejs npm) and "
                "try again, or set CHATMORE_SKIP_JS_BUILD=1 if widgets/static/ is built."
            )
        if _node_modules_stale(widgets):
            self.app.display_waiting("widgets: npm ci")
            _run([npm, "ci", "--no-audit", "--no-fund"], widgets)
        self.app.display_waiting("widgets: node build.mjs")
        _run([node, "build.mjs"], widgets)
        missing = [str(p) for p in outputs if not p.is_file()]
        if missing:
            raise RuntimeError(f"the widget build did not produce {', '.join(missing)}")


def _node_modules_stale(widgets: Path) -> bool:
    # npm writes node_modules/.package-lock.json after each install.
    installed = widgets / "node_modules" / ".package-lock.json"
    if not installed.is_file():
        return True
    return (widgets / "package-lock.json").stat().st_mtime > installed.stat().st_mtime


def _run(command: list[str], cwd: Path) -> None:
    try:
        subprocess.run(command, cwd=cwd, check=True)  # noqa: S603 (fixed commands, no shell)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(
            f"building the widget's front end failed: {' '.join(command)} "
            f"(exit status {exc.returncode}) in {cwd}"
        ) from exc
