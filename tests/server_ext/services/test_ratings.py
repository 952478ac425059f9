"""Bradley–Terry ratings: known strengths recovered, honest intervals, votes as pairs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from server_ext.services.ratings import ANCHOR, bradley_terry, vote_pairs

TRUE = {"anchor": 1000.0, "better": 1100.0, "worse": 920.0, "best": 1210.0}


def simulate(rng: np.random.Generator, games: int, tie_rate: float = 0.0) -> list:
    """Games between random pairs, won as Bradley–Terry says for the TRUE ratings."""
    names = list(TRUE)
    pairs = []
    for _ in range(games):
        a, b = rng.choice(len(names), size=2, replace=False)
        p_a = 1 / (1 + 10 ** ((TRUE[names[b]] - TRUE[names[a]]) / 400))
        if rng.random() < tie_rate:
            pairs.append((names[a], names[b], 0.5))
        else:
            pairs.append((names[a], names[b], 1.0 if rng.random() < p_a else 0.0))
    return pairs


def test_known_strengths_come_back_in_order_and_near_their_values() -> None:
    pairs = simulate(np.random.default_rng(7), 6000)
    ratings = bradley_terry(pairs, reference="anchor", rounds=100, seed=1)
    order = sorted(ratings, key=lambda n: ratings[n].rating)
    assert order == ["worse", "anchor", "better", "best"]
    assert ratings["anchor"].rating == ANCHOR
    for name, true in TRUE.items():
        assert abs(ratings[name].rating - true) < 30, name
        assert ratings[name].low <= ratings[name].rating <= ratings[name].high
        assert ratings[name].pairs == sum(name in (a, b) for a, b, _ in pairs)


def test_each_true_value_is_inside_its_interval_in_at_least_90_percent_of_runs() -> None:
    rng = np.random.default_rng(2026)
    inside = dict.fromkeys(TRUE, 0)
    runs = 50
    for run in range(runs):
        ratings = bradley_terry(simulate(rng, 600), reference="anchor", rounds=100, seed=run)
        for name, true in TRUE.items():
            inside[name] += ratings[name].low <= true <= ratings[name].high
    assert all(count >= 0.9 * runs for count in inside.values()), inside


def test_ties_count_as_half_wins() -> None:
    even = [("a", "b", 0.5)] * 10 + [("a", "b", 1.0)] * 5 + [("a", "b", 0.0)] * 5
    ratings = bradley_terry(even, reference="a", rounds=0)
    assert ratings["b"].rating == pytest.approx(ANCHOR, abs=1e-6)
    # 3 wins and 1 loss in 4 games against the virtual opponent's half game each side:
    # with ties as halves, 10 ties + 10 wins for a against 10 losses is 3:1 overall.
    lopsided = [("a", "b", 0.5)] * 20 + [("a", "b", 1.0)] * 20
    r = bradley_terry(lopsided, reference="b", rounds=0, prior=1e-6)
    assert r["a"].rating - ANCHOR == pytest.approx(400 * math.log10(3), abs=0.01)


def test_a_clean_sweep_stays_finite_and_the_default_reference_is_the_most_compared() -> None:
    ratings = bradley_terry([("a", "b", 1.0)] * 3 + [("c", "a", 1.0)], rounds=20)
    assert all(math.isfinite(r.rating) for r in ratings.values())
    assert ratings["a"].rating == ANCHOR  # in 4 pairs, the others in fewer
    assert ratings["b"].rating < ANCHOR < ratings["c"].rating
    assert bradley_terry([]) == {}
    with pytest.raises(ValueError):
        bradley_terry([("a", "b", 1.0)], reference="z")


def test_the_same_pairs_and_seed_give_the_same_intervals() -> None:
    pairs = simulate(np.random.default_rng(3), 200)
    assert bradley_terry(pairs, seed=4) == bradley_terry(pairs, seed=4)


def test_votes_expand_into_pairs() -> None:
    assert vote_pairs(["x", "y", "z"], "best", 1) == [("y", "x", 1.0), ("y", "z", 1.0)]
    assert vote_pairs(["x", "y", "z"], "tie") == [
        ("x", "y", 0.5),
        ("x", "z", 0.5),
        ("y", "z", 0.5),
    ]
    assert vote_pairs(["x", "y"], "all_bad") == [("x", "y", 0.5)]
    # one model in two windows is not compared with itself
    assert vote_pairs(["x", "x", "y"], "best", 0) == [("x", "y", 1.0)]
    assert vote_pairs(["x", "x"], "tie") == []
    with pytest.raises(ValueError):
        vote_pairs(["x", "y"], "best")
    with pytest.raises(ValueError):
        vote_pairs(["x", "y"], "maybe")
