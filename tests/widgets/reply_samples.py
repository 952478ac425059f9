"""Replies of the demo provider that the front end's render tests stream, kept as their
tokens in ``widgets/tests/fixtures/demo-replies.json`` (node cannot import the generator).

Regenerate with ``.venv/bin/python -m tests.widgets.reply_samples``; a test checks that
the file matches the generator.
"""

from __future__ import annotations

import json
from pathlib import Path

from server_ext.demo_provider.replies import compose_reply, extend_to, stress_document, tokenize

FIXTURE = (
    Path(__file__).resolve().parents[2] / "widgets" / "tests" / "fixtures" / "demo-replies.json"
)

PROMPTS = (
    "How do I join two tables in SQL?",
    "Explain list comprehensions in Python.",
    "Write a shell script that counts lines.",
    "What is a goroutine?",
)
STYLES = ("concise", "balanced", "detailed", "thoughtful")


def samples() -> list[str]:
    """A reply in each style (each to another prompt), one extended as ``tokens`` does,
    and a stress document."""
    replies = [
        compose_reply([{"role": "user", "content": prompt}], base_name="demo", style=style)
        for prompt, style in zip(PROMPTS, STYLES, strict=True)
    ]
    first = replies[0]
    replies.append("".join(extend_to(tokenize(first), 300, first)))
    replies.append(stress_document(300, code_blocks=1, tables=1, seed=1))
    return replies


def fixture_text() -> str:
    """The fixture: each reply as the tokens the demo provider streams it in."""
    return json.dumps([tokenize(reply) for reply in samples()]) + "\n"


def main() -> None:
    FIXTURE.write_text(fixture_text())


if __name__ == "__main__":
    main()
