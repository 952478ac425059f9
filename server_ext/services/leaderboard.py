"""The leaderboard: ``GET chatmore/api/leaderboard`` (DESIGN §13).

Which results count
    Final results (succeeded, failed, cancelled) of the caller — or, for an admin, of
    everyone (``scope=all``) or of one user (``user_id``) — created in [``from``, ``to``),
    from the given ``source``\\ s (comma-separated: board, ask, gateway, experiment,
    judge, import; default all).

Groups
    ``by=model`` (default): the model's name; ``by=model_params``: the model and the
    params its window ran with (the model's defaults under the window's overrides), so
    that one model at two temperatures is two rows.

Figures of a group
    ``rating``, ``rating_low``, ``rating_high``: Bradley–Terry on the Elo scale with a 95%
    bootstrap interval (``services/ratings.py``; ``rounds`` samples, default 200, a
    fixed seed), anchored at 1000 at the ``reference`` group (default: the group in the
    most pairs; named in the answer). The pairs come from the caller's votes (everyone's
    with scope=all; one user's with user_id) on the counted results' turns, with only
    the counted results compared: a vote whose winner is not counted is left out. None
    without pairs. ``votes``: how many votes gave the group a pair; ``pairs``: how many.
    ``calls``, ``succeeded``, ``failed``, ``cancelled`` and ``success_rate`` = succeeded /
    (succeeded + failed), as in ``services/stats.py``;
    ``latency_ms_p50|p95``, ``ttft_ms_p50|p95``: exact, over the succeeded results where
    the value is known, equal to pandas' default ``quantile``;
    ``output_tokens_per_s`` = sum(completion_tokens) / sum(decode_ms) × 1000 over the
    succeeded results with decode_ms > 0 and known completion tokens;
    ``cost_per_1k`` = 1000 × the mean cost of the counted results whose cost is known,
    None when none is (or results have no cost yet);
    ``scores``: per scorer, the mean value of the group's counted results so scored.
    Rows come by rating (highest first, unrated last), then by group name.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import numpy as np

from ..errors import ChatMoreError, validation
from ..store import leaderboard as store
from ..store.db import Database
from ..store.tables import SOURCES
from .auth import AuthUser
from .params import merged
from .query_args import parse_id, parse_range
from .ratings import MAX_ROUNDS, ROUNDS, bradley_terry, default_reference, vote_pairs

PARAMETERS = (
    "from", "to", "source", "experiment_id", "scope", "user_id", "by", "reference", "rounds"
)  # fmt: skip
GROUP_BY = ("model", "model_params")


def group_label(model: str, params: dict[str, Any] | None, by: str) -> str:
    """A group's name: the model's, and for ``model_params`` its params as sorted JSON."""
    if by == "model":
        return model
    return f"{model} {json.dumps(params or {}, sort_keys=True, separators=(',', ':'))}"


def _quantiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    p50, p95 = np.quantile(np.asarray(values, dtype=np.float64), [0.5, 0.95])
    return float(p50), float(p95)


class LeaderboardService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def board(self, user: AuthUser, args: dict[str, str]) -> dict[str, Any]:
        query = parse_query(user, args)
        inputs = await self.db.read(store.board_inputs, query["filter"])
        try:
            rows, reference = compute(inputs, query["by"], query["reference"], query["rounds"])
        except ValueError as exc:  # an unknown reference
            raise validation(str(exc), field="reference") from None
        return {
            "by": query["by"],
            "reference": reference,
            "rounds": query["rounds"],
            "leaderboard": rows,
        }


def parse_query(user: AuthUser, args: dict[str, str]) -> dict[str, Any]:
    unknown = sorted(set(args) - set(PARAMETERS))
    if unknown:
        raise validation(f"unknown parameter {unknown[0]!r}", field=unknown[0])
    scope = args.get("scope") or "mine"
    if scope not in ("mine", "all"):
        raise validation("scope must be mine or all", field="scope")
    of_user = parse_id(args, "user_id")
    if (scope == "all" or of_user not in (None, user.id)) and not user.is_admin:
        raise ChatMoreError("FORBIDDEN", "only admins read other users' leaderboards")
    user_id = of_user if of_user is not None else (None if scope == "all" else user.id)
    sources = tuple(s.strip() for s in (args.get("source") or "").split(",") if s.strip())
    bad = [s for s in sources if s not in SOURCES]
    if bad:
        raise validation(
            f"source must be among {', '.join(SOURCES)}, not {bad[0][:40]!r}", field="source"
        )
    by = args.get("by") or "model"
    if by not in GROUP_BY:
        raise validation(f"by must be one of {', '.join(GROUP_BY)}", field="by")
    raw_rounds = (args.get("rounds") or "").strip()
    if raw_rounds and not (raw_rounds.isascii() and raw_rounds.isdigit()):
        raise validation("rounds must be a whole number", field="rounds")
    rounds = int(raw_rounds) if raw_rounds else ROUNDS
    if rounds > MAX_ROUNDS:
        raise validation(f"rounds must be at most {MAX_ROUNDS}", field="rounds")
    start, end = parse_range(args)
    return {
        "filter": store.BoardFilter(
            user_id=user_id,
            start=start,
            end=end,
            sources=sources,
            experiment_id=parse_id(args, "experiment_id"),
        ),
        "by": by,
        "reference": (args.get("reference") or "").strip() or None,
        "rounds": rounds,
    }


def compute(
    inputs: dict[str, list[Any]], by: str, reference: str | None, rounds: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The leaderboard rows and the reference group (see the module docstring)."""
    group_of: dict[int, str] = {}
    described: dict[str, dict[str, Any]] = {}
    per_group: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in inputs["results"]:
        record = dict(zip(store.RESULT_COLUMNS, row, strict=True))
        params = merged(record["model_params"] or {}, record["window_params"] or {})
        label = group_label(record["model"], params, by)
        group_of[record["result_id"]] = label
        described.setdefault(
            label, {"model": record["model"], "params": params if by != "model" else None}
        )
        per_group[label].append(record)

    pairs: list[tuple[str, str, float]] = []
    votes_of: dict[str, int] = defaultdict(int)
    for _turn, outcome, winner, compared in inputs["votes"]:
        shown = [int(r) for r in compared if int(r) in group_of]
        if outcome == "best" and winner not in shown:
            continue
        these = vote_pairs(
            [group_of[r] for r in shown],
            outcome,
            shown.index(winner) if outcome == "best" else None,
        )
        pairs += these
        for label in {n for a, b, _ in these for n in (a, b)}:
            votes_of[label] += 1
    reference = reference or default_reference(pairs)
    ratings = bradley_terry(pairs, reference=reference, rounds=rounds)

    scored: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for result_id, scorer, value in inputs["scores"]:
        scored[group_of[result_id]][scorer].append(float(value))

    rows = []
    for label, records in per_group.items():
        rows.append(
            {
                "group": label,
                **described[label],
                **_rating_figures(ratings.get(label), votes_of[label]),
                **_usage_figures(records),
                "scores": {
                    name: float(np.mean(values)) for name, values in sorted(scored[label].items())
                },
            }
        )
    rows.sort(key=lambda r: (r["rating"] is None, -(r["rating"] or 0), r["group"]))
    return rows, reference if ratings else None


def _rating_figures(rating: Any, votes: int) -> dict[str, Any]:
    if rating is None:
        return {"rating": None, "rating_low": None, "rating_high": None, "votes": 0, "pairs": 0}
    return {
        "rating": rating.rating,
        "rating_low": rating.low,
        "rating_high": rating.high,
        "votes": votes,
        "pairs": rating.pairs,
    }


def _usage_figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {s: sum(r["status"] == s for r in records) for s in store.FINAL}
    decided = counts["succeeded"] + counts["failed"]
    ok = [r for r in records if r["status"] == "succeeded"]
    latency = _quantiles([r["latency_ms"] for r in ok if r["latency_ms"] is not None])
    ttft = _quantiles([r["ttft_ms"] for r in ok if r["ttft_ms"] is not None])
    rated = [r for r in ok if (r["decode_ms"] or 0) > 0 and r["completion_tokens"] is not None]
    rate_ms = sum(r["decode_ms"] for r in rated)
    costs = [float(r["cost"]) for r in records if r["cost"] is not None]
    return {
        "calls": len(records),
        **counts,
        "success_rate": counts["succeeded"] / decided if decided else None,
        "latency_ms_p50": latency[0],
        "latency_ms_p95": latency[1],
        "ttft_ms_p50": ttft[0],
        "ttft_ms_p95": ttft[1],
        "output_tokens_per_s": (
            sum(r["completion_tokens"] for r in rated) * 1000 / rate_ms if rated else None
        ),
        "cost_per_1k": 1000 * sum(costs) / len(costs) if costs else None,
    }
