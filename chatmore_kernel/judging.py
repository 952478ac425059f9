"""Votes, scores and the leaderboard from a notebook (DESIGN §13).

``cm.vote(turn, winner)`` judges one of your turns: ``winner`` is the best result (its
``result_id``, or the name of its window or model), ``"tie"`` or ``"all_bad"``; voting
again on a turn changes your vote. ``cm.votes()`` lists them as a DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from widgets.i18n import t

from .errors import ChatMoreError
from .frames import frame_from_records
from .http import ApiClient
from .result_frames import results_frame
from .schemas import LEADERBOARD, SCORES, VOTES

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


def turn_rows(api: ApiClient, turn_id: int) -> pd.DataFrame:
    conversation = api.get(f"api/turns/{turn_id}")["conversation_id"]
    rows = results_frame(api, {"conversation_id": conversation}, text=False)
    return rows[rows["turn_id"] == turn_id]


def _result_id(api: ApiClient, turn_id: int, winner: Any) -> int:
    """The result a name points to: a window's name first, else a model's name."""
    if isinstance(winner, bool) or not isinstance(winner, int | str):
        raise TypeError("winner must be a result id, a window or model name, 'tie' or 'all_bad'")
    if isinstance(winner, int):
        return winner
    rows = turn_rows(api, turn_id)
    for column in ("window", "model"):
        found = rows[rows[column].astype("string") == winner]
        if len(found) == 1:
            return int(found["result_id"].iloc[0])
        if len(found) > 1:
            raise ValueError(f"{len(found)} columns of the turn are called {winner!r}")
    raise ChatMoreError(
        "VALIDATION_FAILED", t("error.no_such_column", turn=turn_id, name=repr(winner))
    )


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


# -- scores -------------------------------------------------------------------------------

CASE_COLUMNS = {"column": "expected", "reference_column": "reference"}


def _cases(rows: pd.DataFrame, spec: dict[str, Any]) -> tuple[dict[str, Any], dict | None]:
    """The spec to send, without its column options, and the per-result values those
    columns name (``{"<result id>": {"expected": …}}``)."""
    sent = dict(spec)
    cases: dict[str, dict[str, Any]] = {}
    for option, key in CASE_COLUMNS.items():
        column = sent.pop(option, None)
        if column is None:
            continue
        if column not in rows.columns:
            raise KeyError(f"the frame has no column {column!r}")
        for result_id, value in zip(rows["result_id"], rows[column], strict=True):
            if not pd.isna(value):
                cases.setdefault(str(int(result_id)), {})[key] = (
                    value.item() if hasattr(value, "item") else value
                )
    return sent, cases or None


def _verdict(value: Any) -> tuple[Any, str | None]:
    """What a Python scorer returned: a number in [0, 1] or a bool, optionally with a
    rationale as ``(value, rationale)``."""
    rationale = None
    if isinstance(value, tuple):
        value, rationale = value
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    return value, (None if rationale is None else str(rationale))


def score(
    api: ApiClient, rows: pd.DataFrame, scorer: Any, name: str | None = None
) -> pd.DataFrame:
    if "result_id" not in rows.columns:
        raise KeyError("score() takes a frame of results (with result_id)")
    if rows.empty:
        return frame_from_records(SCORES, [])
    if callable(scorer):
        label = name or getattr(scorer, "__name__", "")
        if not label or label == "<lambda>":
            raise ValueError("name the scores of a function: score(rows, fn, name=...)")
        scores = []
        for row in rows.to_dict("records"):
            value, rationale = _verdict(scorer(row))
            item = {"result_id": int(row["result_id"]), "scorer": label, "value": value}
            if rationale is not None:
                item["rationale"] = rationale
            scores.append(item)
        found = api.post("api/scores", {"scores": scores})["scores"]
        return scores_frame_of(found)
    if not isinstance(scorer, dict):
        raise TypeError("scorer must be a spec from chatmore_kernel.scorers or a function")
    spec, cases = _cases(rows, {**scorer, **({"name": name} if name else {})})
    body: dict[str, Any] = {
        "scorer": spec,
        "result_ids": [int(r) for r in rows["result_id"]],
    }
    if cases:
        body["cases"] = cases
    answer = api.post("api/scores/run", body)
    found = scores_frame_of(answer["scores"])
    found.attrs["errors"] = answer["errors"]
    return found


def scores_frame_of(found: list[dict[str, Any]]) -> pd.DataFrame:
    return frame_from_records(SCORES, [{**s, "score_id": s["id"]} for s in found])


def scores_frame(api: ApiClient, params: dict[str, Any]) -> pd.DataFrame:
    found: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = api.get("api/scores", **params, after_id=after or None)
        found += page["scores"]
        after = page["next_after_id"]
    return scores_frame_of(found)


def with_scores(results: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The results with one ``score_<scorer>`` column per scorer (sorted), NaN where a
    result has no such score."""
    if scores.empty:
        return results
    wide = scores.pivot_table(
        index="result_id", columns="scorer", values="value", aggfunc="first", observed=True
    )
    out = results.copy()
    for scorer in sorted(wide.columns):
        out[f"score_{scorer}"] = out["result_id"].map(wide[scorer]).astype("float64").to_numpy()
    return out
