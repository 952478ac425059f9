"""The leaderboard's figures equal a pandas recomputation from ``cm.results()`` and
``cm.votes()``; its filters and its scope."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import chatmore_kernel as cm
from server_ext.services.ratings import bradley_terry, vote_pairs
from tests.chatmore_kernel.conftest import Accounts, DemoModels

FINAL = ("succeeded", "failed", "cancelled")


def play(user: cm.Session, models: DemoModels, rounds: int = 4) -> list[pd.DataFrame]:
    """Turns over three models (one failing), and a vote on each: varied outcomes."""
    turns = []
    for i in range(rounds):
        turn = user.ask(f"question {i}", [models.swift, models.scholar, models.failing])
        turns.append(turn)
    user.vote(turns[0], winner=models.scholar)
    user.vote(turns[1], winner=models.swift)
    user.vote(turns[2], winner="tie")
    user.vote(turns[3], winner=models.scholar, blind=True)
    return turns


def recompute(results: pd.DataFrame, votes: pd.DataFrame, reference: str, rounds: int):
    """The leaderboard, from the frames: figures per model and the ratings."""
    final = results[results["status"].isin(FINAL)].copy()
    final["group"] = final["model"].astype(str)
    group_of = dict(zip(final["result_id"], final["group"], strict=True))
    pairs = []
    for vote in votes.itertuples():
        shown = [r for r in vote.result_ids if r in group_of]
        winner = None if pd.isna(vote.winner_result_id) else int(vote.winner_result_id)
        if winner is not None and winner not in shown:
            continue  # its winner is not counted: left out
        pairs += vote_pairs(
            [group_of[r] for r in shown],
            vote.outcome,
            shown.index(winner) if winner is not None else None,
        )
    ratings = bradley_terry(pairs, reference=reference, rounds=rounds)
    figures = {}
    for group, rows in final.groupby("group"):
        ok = rows[rows["status"] == "succeeded"]
        rated = ok[(ok["decode_ms"] > 0) & ok["completion_tokens"].notna()]
        succeeded, failed = len(ok), int((rows["status"] == "failed").sum())
        figures[group] = {
            "calls": len(rows),
            "succeeded": succeeded,
            "failed": failed,
            "success_rate": succeeded / (succeeded + failed) if succeeded + failed else np.nan,
            "latency_ms_p50": ok["latency_ms"].quantile(0.5),
            "latency_ms_p95": ok["latency_ms"].quantile(0.95),
            "ttft_ms_p50": ok["ttft_ms"].quantile(0.5),
            "ttft_ms_p95": ok["ttft_ms"].quantile(0.95),
            "output_tokens_per_s": rated["completion_tokens"].sum()
            * 1000
            / rated["decode_ms"].sum()
            if len(rated)
            else np.nan,
        }
    return figures, ratings


def assert_same(board: pd.DataFrame, figures: dict, ratings: dict) -> None:
    assert sorted(board["group"]) == sorted(figures)
    for row in board.itertuples():
        expected = figures[row.group]
        for name, value in expected.items():
            got = getattr(row, name)
            if pd.isna(value):
                assert pd.isna(got), (row.group, name)
            else:
                assert got == pytest.approx(value, rel=1e-12), (row.group, name)
        if row.group in ratings:
            r = ratings[row.group]
            assert (row.rating, row.rating_low, row.rating_high) == pytest.approx(
                (r.rating, r.low, r.high), rel=1e-9
            )
            assert row.pairs == r.pairs
        else:
            assert pd.isna(row.rating) and row.votes == 0
        assert pd.isna(row.cost_per_1k)  # no prices, no cost


def test_leaderboard_equals_a_pandas_recomputation(
    accounts: Accounts, demo_models: DemoModels
) -> None:
    user = accounts.user
    play(user, demo_models)
    board = user.leaderboard(rounds=50)
    assert board.attrs["reference"] == demo_models.scholar  # in the most pairs (ties by name)
    figures, ratings = recompute(
        user.results(text=False), user.votes(), board.attrs["reference"], 50
    )
    assert_same(board, figures, ratings)
    # best first: scholar won twice, swift once, the failing model never
    assert board["model"].astype(str).tolist()[0] == demo_models.scholar
    assert board.loc[board["model"] == demo_models.failing, "success_rate"].item() == 0.0
    assert board.loc[board["model"] == demo_models.scholar, "votes"].item() == 4
    assert board["rating"].is_monotonic_decreasing

    other = user.leaderboard(reference=demo_models.swift, rounds=0)
    swift = other.loc[other["model"] == demo_models.swift].iloc[0]
    assert swift["rating"] == 1000.0 and swift["rating_low"] == swift["rating_high"] == 1000.0


def test_filters_and_groups_by_params(accounts: Accounts, demo_models: DemoModels) -> None:
    user = accounts.user
    play(user, demo_models, rounds=4)
    middle = pd.Timestamp.now(tz="UTC")
    windows = [
        {"model": demo_models.swift, "params": {"temperature": 0.1}},
        {"model": demo_models.swift, "params": {"temperature": 0.9}},
    ]
    for i in range(2):
        pair = user.ask(f"warm or cold {i}", windows)
        cold = int(
            pair.loc[pair["params"].map(lambda p: p["temperature"]) == 0.1, "result_id"].item()
        )
        user.vote(pair, winner=cold)

    later = user.leaderboard(since=middle, rounds=20)
    results = user.results(since=middle, text=False)
    votes = user.votes()
    figures, ratings = recompute(results, votes, later.attrs["reference"], 20)
    assert_same(later, figures, ratings)
    # one model against itself: no pair, no rating
    assert later["model"].astype(str).tolist() == [demo_models.swift]
    assert pd.isna(later["rating"].item())

    by_params = user.leaderboard(since=middle, by="model_params", rounds=20)
    cold_label = f"{demo_models.swift} " + json.dumps(
        {**results["params"].iloc[0], "temperature": 0.1}, sort_keys=True, separators=(",", ":")
    )
    assert len(by_params) == 2 and by_params["group"].iloc[0] == cold_label
    assert by_params["votes"].tolist() == [2, 2] and by_params["calls"].tolist() == [2, 2]
    assert by_params["params"].iloc[0]["temperature"] == 0.1

    # Every turn here came from cm.ask: one source, or several, keeps or leaves them all.
    assert (user.results(text=False)["source"] == "ask").all()
    assert len(user.leaderboard(source="ask")) == 3
    assert len(user.leaderboard(source=["board", "ask"])) == 3
    assert user.leaderboard(source="board").empty
    assert user.leaderboard(source=["experiment", "judge"]).empty
    assert user.leaderboard(until=pd.Timestamp("2000-01-01", tz="UTC")).empty
    # One experiment's cells alone.
    run = user.run(["one", "two", "three"], [demo_models.swift])
    cells = user.leaderboard(experiment=run)
    assert cells["model"].astype(str).tolist() == [demo_models.swift]
    assert cells["calls"].tolist() == [3]
    assert user.leaderboard(experiment=run.id + 1_000_000).empty
    for bad in ({"source": "radio"}, {"by": "colour"}, {"reference": "nobody"}, {"rounds": -1}):
        with pytest.raises(cm.ChatMoreError) as error:
            user.leaderboard(**bad)
        assert error.value.code == "VALIDATION_FAILED", bad


def test_each_user_ranks_their_own_and_admins_everyone(
    accounts: Accounts, demo_models: DemoModels
) -> None:
    play(accounts.user, demo_models, rounds=4)
    mine = accounts.user.leaderboard(rounds=10)
    assert accounts.admin.leaderboard().empty
    user_id = int(accounts.user.me()["id"])
    of_user = accounts.admin.leaderboard(user_id=user_id, rounds=10)
    pd.testing.assert_frame_equal(of_user, mine)
    everyone = accounts.admin.leaderboard(everyone=True, rounds=10)
    ours = everyone[everyone["model"].isin(mine["model"].astype(str))]
    assert ours["calls"].tolist() == mine["calls"].tolist()
    for forbidden in ({"everyone": True}, {"user_id": user_id + 10_000}):
        with pytest.raises(cm.ChatMoreError) as error:
            accounts.user.leaderboard(**forbidden)
        assert error.value.code == "FORBIDDEN"
