"""Render the README's settings and error tables, and jupyter_config.py's list of
settings, from their single sources (server_ext/config.py OPTIONS and
server_ext/errors.py ERROR_CODES).

    .venv/bin/python scripts/render_docs.py          # rewrite them
    .venv/bin/python scripts/render_docs.py --check  # exit 1 if they are stale
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from server_ext.config import OPTIONS  # noqa: E402
from server_ext.errors import ERROR_CODES  # noqa: E402

QUICK_START_ONLY = {"demo"}  # set above the list in jupyter_config.py


def settings_table() -> str:
    rows = ["| environment | trait | default | meaning |", "| --- | --- | --- | --- |"]
    for o in OPTIONS:
        rows.append(f"| `{', '.join(o.env)}` | `{o.name}` | `{o.default!r}` | {o.help} |")
    return "\n".join(rows)


def errors_table() -> str:
    rows = ["| code | status | meaning |", "| --- | --- | --- |"]
    rows += [
        f"| `{code}` | {spec.status} | {spec.meaning} |" for code, spec in ERROR_CODES.items()
    ]
    return "\n".join(rows)


def config_list() -> str:
    blocks = []
    for o in OPTIONS:
        if o.name in QUICK_START_ONLY:
            continue
        lines = [
            "# " + line for line in textwrap.wrap(f"{o.help} Environment: {', '.join(o.env)}.", 86)
        ]
        lines.append(f"# c.ChatMoreApp.{o.name} = {o.default!r}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def replace_between(text: str, name: str, body: str, comment: str) -> str:
    start, end = comment.format(f"begin {name}"), comment.format(f"end {name}")
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"markers for {name} are missing")
    return pattern.sub(lambda _: f"{start}\n{body}\n{end}", text)


def rendered() -> dict[Path, str]:
    readme = (REPO / "README.md").read_text()
    readme = replace_between(readme, "settings", settings_table(), "<!-- {} -->")
    readme = replace_between(readme, "errors", errors_table(), "<!-- {} -->")
    config = (REPO / "jupyter_config.py").read_text()
    config = replace_between(config, "settings", config_list(), "# -- {} --")
    return {REPO / "README.md": readme, REPO / "jupyter_config.py": config}


def main() -> int:
    stale = [path for path, text in rendered().items() if path.read_text() != text]
    if "--check" in sys.argv:
        for path in stale:
            print(f"{path.name} is stale: run scripts/render_docs.py")
        return 1 if stale else 0
    for path, text in rendered().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
