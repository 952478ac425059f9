"""Blind comparison: which columns the board shows, and under which names, until a vote.

A blind board never sends the front end its models' names: its ``windows`` trait holds
the columns in a shuffled order, each called "Model A", "Model B", … with no model name,
params or system prompt (any of which could give the model away). Once the user votes,
the real windows replace them, in the same shuffled order, so that each vote can be read
against the column it was cast on.
"""

from __future__ import annotations

import random
import string
from typing import Any

PLAIN = ("tie", "all_bad")


def shuffled(windows: list[dict[str, Any]], rng: random.Random | None = None) -> list[dict]:
    """The windows in a random order (never the given one when there are two or more:
    an unshuffled board would give the order away as often as not)."""
    order = list(windows)
    if len(order) < 2:
        return order
    while True:
        (rng or random.SystemRandom()).shuffle(order)
        if [w["id"] for w in order] != [w["id"] for w in windows]:
            return order


def label(index: int) -> str:
    """ "Model A" … "Model Z", then "Model 27" and on."""
    return f"Model {string.ascii_uppercase[index]}" if index < 26 else f"Model {index + 1}"


def masked(windows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The windows as a blind board shows them: a letter for a name, nothing else."""
    return [
        {
            "id": w["id"],
            "name": label(i),
            "model_name": "",
            "params_diff": {},
            "system_prompt": None,
        }
        for i, w in enumerate(windows)
    ]


def resolve_winner(winner: Any, shown: list[dict[str, Any]]) -> int | str:
    """A vote's winner as a window id or "tie"/"all_bad": from a window id, a column's
    shown name ("Model A"), its letter ("A"), or a plain outcome ("both_bad" is
    "all_bad")."""
    if winner == "both_bad":
        return "all_bad"
    if winner in PLAIN:
        return winner
    ids = {w["id"] for w in shown}
    if isinstance(winner, int) and not isinstance(winner, bool) and winner in ids:
        return winner
    if isinstance(winner, str):
        for w in shown:
            if winner in (w["name"], w["name"].removeprefix("Model ")):
                return w["id"]
    raise ValueError(f"no column {winner!r} on this board; give a column, 'tie' or 'all_bad'")
