"""Bradley–Terry ratings from pairwise votes, computed the way Chatbot Arena does.

Pure: plain Python values in, plain values out, no database and no HTTP.

From votes to pairs (:func:`vote_pairs`)
    A vote names the results it compared (in the order shown) and either the best one,
    a tie, or "all bad". The best one beats each other compared result (a vote over n
    columns gives n - 1 pairs, and says nothing about the others among themselves); a
    tie and "all bad" are ties between every two compared results — as Chatbot Arena
    counts its "tie (both bad)" — which carry information too: the two are about equally
    good. Two results of the same group (one model in two windows) make no pair.

The fit (:func:`bradley_terry`)
    P(i beats j) = p_i / (p_i + p_j). A tie counts as half a win for each side.
    Maximum likelihood (Newton's method), with a weak prior that keeps
    every strength finite when a model won or lost every game: each model also plays
    :data:`PRIOR` virtual games, half won, against a virtual opponent of strength 1.
    Ratings are on the Elo scale, ``400 * log10(p)``, shifted so that the reference
    group rates :data:`ANCHOR` (1000) exactly; the reference is the caller's choice,
    else the group in the most pairs (then the first by name).

Intervals
    95% percentile bootstrap: the pairs are resampled with replacement ``rounds`` times
    (a fixed ``seed``: the same pairs give the same intervals), each sample is fitted
    and anchored at the reference the same way, and the 2.5th and 97.5th percentiles of
    each group's ratings bound its interval. The reference's interval is its anchor.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

ANCHOR = 1000.0
SCALE = 400 / math.log(10)  # natural-log strengths to Elo points
PRIOR = 1.0
ROUNDS = 200
MAX_ROUNDS = 5000
OUTCOMES = ("best", "tie", "all_bad")
_TOL = 1e-9
_MAX_ITER = 100
_MAX_STEP = 2.0

Pair = tuple[str, str, float]  # (a, b, a's share of the win: 1, 0.5 or 0)


@dataclass(frozen=True)
class Rating:
    """A group's rating, the bounds of its 95% interval, and how many pairs it is in."""

    rating: float
    low: float
    high: float
    pairs: int


def vote_pairs(groups: Sequence[str], outcome: str, winner: int | None = None) -> list[Pair]:
    """The pairs of one vote: ``groups`` are the compared results' groups in the order
    shown, ``winner`` the index of the best one (outcome "best")."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    if outcome == "best":
        if winner is None or not 0 <= winner < len(groups):
            raise ValueError("a best-of vote needs the index of its winner")
        best = groups[winner]
        return [(best, other, 1.0) for other in groups if other != best]
    return [(a, b, 0.5) for i, a in enumerate(groups) for b in groups[i + 1 :] if a != b]


def bradley_terry(
    pairs: Iterable[Pair],
    *,
    reference: str | None = None,
    rounds: int = ROUNDS,
    seed: int = 0,
    prior: float = PRIOR,
) -> dict[str, Rating]:
    """Ratings with bootstrap intervals, by group name (sorted). No pairs: no ratings."""
    if prior <= 0:
        raise ValueError("the prior must be positive")
    pairs = list(pairs)
    if not pairs:
        return {}
    names = sorted({a for a, _, _ in pairs} | {b for _, b, _ in pairs})
    if reference is None:
        reference = default_reference(pairs)
    elif reference not in names:
        raise ValueError(f"the reference {reference!r} has no votes")
    index = {name: i for i, name in enumerate(names)}
    k = len(names)

    # The distinct (a, b, share) kinds of pair and how often each occurred; a kind adds
    # its share to cell (a, b) of the k × k matrix of wins and the rest to (b, a).
    kinds = Counter((index[a], index[b], float(s)) for a, b, s in pairs)
    keys = np.array(list(kinds), dtype=np.float64).reshape(-1, 3)
    counts = np.array(list(kinds.values()), dtype=np.float64)
    first, second = keys[:, 0].astype(np.int64), keys[:, 1].astype(np.int64)
    cells = np.concatenate([first * k + second, second * k + first])
    shares = np.concatenate([keys[:, 2], 1 - keys[:, 2]])

    def wins(sampled: np.ndarray) -> np.ndarray:
        """The wins matrices of samples (rows: how often each kind was drawn)."""
        rows = sampled.shape[0]
        flat = (np.arange(rows)[:, None] * k * k + cells[None, :]).ravel()
        weights = (np.concatenate([sampled, sampled], axis=1) * shares[None, :]).ravel()
        return np.bincount(flat, weights=weights, minlength=rows * k * k).reshape(rows, k, k)

    ref = index[reference]
    point = _anchored(_fit(wins(counts[None, :]), prior), ref)[0]
    low = high = point
    if rounds > 0:
        rng = np.random.default_rng(seed)
        sampled = rng.multinomial(int(counts.sum()), counts / counts.sum(), size=rounds)
        boot = _anchored(_fit(wins(sampled.astype(np.float64)), prior), ref)
        low, high = np.quantile(boot, [0.025, 0.975], axis=0)
    in_pairs = Counter(n for a, b, _ in pairs for n in (a, b))
    return {
        name: Rating(float(point[i]), float(low[i]), float(high[i]), in_pairs[name])
        for i, name in enumerate(names)
    }


def default_reference(pairs: Sequence[Pair]) -> str | None:
    """The group in the most pairs (the first by name among equals); None without pairs."""
    counts = Counter(n for a, b, _ in pairs for n in (a, b))
    return min(counts, key=lambda n: (-counts[n], n)) if counts else None


def _anchored(log_strength: np.ndarray, ref: int) -> np.ndarray:
    """Natural-log strengths (samples × groups) on the Elo scale, the reference at ANCHOR."""
    ratings = SCALE * (log_strength - log_strength[:, ref : ref + 1]) + ANCHOR
    ratings[:, ref] = ANCHOR  # exactly, not by a rounding
    return ratings


def _fit(wins: np.ndarray, prior: float) -> np.ndarray:
    """Log-strengths of many samples at once: ``wins[s, i, j]`` is how often i beat j
    in sample s (ties as halves). Newton's method on the log-likelihood, which the prior
    makes strictly concave; steps are capped so that a lopsided sample cannot overshoot."""
    games = wins + wins.transpose(0, 2, 1)
    won = wins.sum(axis=2) + prior / 2
    theta = np.zeros(wins.shape[:2])
    eye = np.eye(wins.shape[1], dtype=bool)
    for _ in range(_MAX_ITER):
        # chance that i beats j, and that i beats the virtual opponent (strength 1)
        beats = 1 / (1 + np.exp(theta[:, None, :] - theta[:, :, None]))
        beats_prior = 1 / (1 + np.exp(-theta))
        gradient = won - (games * beats).sum(axis=2) - prior * beats_prior
        curvature = games * beats * beats.transpose(0, 2, 1)
        hessian = curvature - np.where(
            eye,
            curvature.sum(axis=2)[:, :, None]
            + (prior * beats_prior * (1 - beats_prior))[:, :, None],
            0,
        )
        step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
        theta = theta - np.clip(step, -_MAX_STEP, _MAX_STEP)
        if np.max(np.abs(step)) < _TOL:
            break
    return theta
