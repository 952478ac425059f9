"""Votes, scores and the leaderboard from a notebook (DESIGN §13).

``cm.vote(turn, winner)`` judges one of your turns: ``winner`` is the best result (its
``result_id``, or the name of its window or model), ``"tie"`` or ``"all_bad"``; voting
again on a turn changes your vote. ``cm.votes()`` lists them as a DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from .errors import ChatMoreError
from .frames import frame_from_records
from .http import ApiClient
from .result_frames import results_frame
from .schemas import LEADERBOARD, VOTES

PLAIN = ("tie", "all_bad")


def turn_id_of(turn: Any) -> int:
    """An id, or the single turn of a results DataFrame (what ``cm.ask`` returns)."""
    if isinstance(turn, pd.DataFrame):
        ids = turn["turn_id"].unique()
        if len(ids) != 1:
            raise ValueError(f"the frame holds {len(ids)} turns; pass one turn id")
        return int(ids[0])
    if isinstance(turn, bool) or not isinstance(turn, int):
        raise TypeError(f"turn must be a turn id or an ask() frame, not {turn!r}")
    return turn


def _turn_rows(api: ApiClient, turn_id: int) -> pd.DataFrame:
    conversation = api.get(f"api/turns/{turn_id}")["conversation_id"]
    rows = results_frame(api, {"conversation_id": conversation}, text=False)
    return rows[rows["turn_id"] == turn_id]


def _result_id(api: ApiClient, turn_id: int, winner: Any) -> int:
    """The result a name points to: a window's name first, else a model's name."""
    if isinstance(winner, bool) or not isinstance(winner, int | str):
        raise TypeError("winner must be a result id, a window or model name, 'tie' or 'all_bad'")
    if isinstance(winner, int):
        return winner
    rows = _turn_rows(api, turn_id)
    for column in ("window", "model"):
        found = rows[rows[column].astype("string") == winner]
        if len(found) == 1:
            return int(found["result_id"].iloc[0])
        if len(found) > 1:
            raise ValueError(f"{len(found)} columns of the turn are called {winner!r}")
    raise ChatMoreError("VALIDATION_FAILED", f"no column of turn {turn_id} is called {winner!r}")


def vote(
    api: ApiClient,
    turn: Any,
    winner: int | str,
    result_ids: Iterable[int] | None = None,
    blind: bool = False,
) -> dict[str, Any]:
    turn_id = turn_id_of(turn)
    body: dict[str, Any] = {
        "turn_id": turn_id,
        "winner": winner if winner in PLAIN else _result_id(api, turn_id, winner),
        "blind": blind,
    }
    if result_ids is not None:
        body["result_ids"] = [int(r) for r in result_ids]
    return api.post("api/votes", body)


def votes_frame(api: ApiClient, params: dict[str, Any]) -> pd.DataFrame:
    found = api.get("api/votes", **params)["votes"]
    return frame_from_records(VOTES, [{**v, "vote_id": v["id"]} for v in found])


def leaderboard_frame(api: ApiClient, params: dict[str, Any]) -> pd.DataFrame:
    """The leaderboard rows, then one ``score_<scorer>`` column per scorer (sorted);
    ``.attrs`` holds the reference group, the grouping and the bootstrap rounds."""
    answer = api.get("api/leaderboard", **params)
    rows = answer["leaderboard"]
    board = frame_from_records(LEADERBOARD, rows)
    for name in sorted({name for row in rows for name in row["scores"]}):
        board[f"score_{name}"] = pd.array(
            [row["scores"].get(name) for row in rows], dtype="Float64"
        ).to_numpy(dtype="float64", na_value=float("nan"))
    board.attrs.update(
        {"reference": answer["reference"], "by": answer["by"], "rounds": answer["rounds"]}
    )
    return board
