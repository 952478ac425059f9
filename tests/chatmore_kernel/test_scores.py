"""Scorers through the notebook API: every built-in one on both databases, a Python
function run in the kernel, the LLM judge against the demo provider, and bad scorers
refused with nothing stored."""

from __future__ import annotations

import pandas as pd
import pytest

import chatmore_kernel as cm
from chatmore_kernel import scorers
from tests.chatmore_kernel.conftest import Accounts, DemoModels, register
from tests.support.api import login
from tests.support.providers import DemoProvider

PROMPTS = {
    '{"name": "Ada", "age": 36}': "ada",
    "The capital is Paris.": "The capital is Paris.",
    "not json": "not JSON",
    "```json\n[1, 2]\n```": "[1, 2]",
}


@pytest.fixture
def echoed(accounts: Accounts, demo_provider: DemoProvider) -> pd.DataFrame:
    """Replies that are their prompts (the demo provider's echo), with an expected column."""
    echo = register(accounts.admin, demo_provider, "demo-swift;echo;tps=0")
    for prompt in PROMPTS:
        accounts.user.ask(prompt, [echo])
    rows = accounts.user.results()
    rows["expected"] = rows["prompt"].map(PROMPTS)
    return rows


def passed(scores: pd.DataFrame, rows: pd.DataFrame) -> list[str]:
    """The prompts whose replies passed, in the rows' order."""
    ok = set(scores.loc[scores["passed"].fillna(False).astype(bool), "result_id"])
    return [p for r, p in zip(rows["result_id"], rows["prompt"], strict=True) if r in ok]


def test_every_built_in_scorer(accounts: Accounts, echoed: pd.DataFrame) -> None:
    user, rows = accounts.user, echoed
    ada, paris, prose, fenced = PROMPTS
    checks = {
        "contains": (scorers.contains("paris"), [paris]),
        "contains_cs": (scorers.contains(["capital", "paris"], case_sensitive=True), []),
        "regex": (scorers.regex(r"\d{2}"), [ada]),
        "regex_i": (scorers.regex(r"^the", flags="i"), [paris]),
        "equals": (scorers.equals(column="expected"), [paris]),
        "equals_ci": (scorers.equals(column="expected", case_sensitive=False), [paris, prose]),
        "equals_fixed": (scorers.equals("not json"), [prose]),
        "json_valid": (scorers.json_valid(), [ada, fenced]),
        "json_schema": (
            scorers.json_schema(
                {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"age": {"type": "integer"}},
                }
            ),
            [ada],
        ),
        "length": (scorers.length(max=16), [prose]),
        "words": (scorers.length(min=2, max=3, unit="words"), [prose]),
    }
    for name, (spec, expected) in checks.items():
        scores = user.score(rows, spec, name=name)
        assert len(scores) == len(rows), name
        assert passed(scores, rows) == expected, name
        assert set(scores["value"]) <= {0.0, 1.0} and (scores["scorer"] == name).all()
    schema = user.scores(scorer="json_schema").set_index("result_id")
    fenced_id = rows.loc[rows["prompt"] == fenced, "result_id"].item()
    assert "is not of type 'object'" in schema.loc[fenced_id, "rationale"]

    brevity = user.score(
        rows, lambda row: (min(1, len(row["reply"]) / 40), "by length"), name="brevity"
    )
    assert brevity.set_index("result_id")["value"].to_dict() == {
        r: min(1, len(text) / 40) for r, text in zip(rows["result_id"], rows["reply"], strict=True)
    }
    assert (brevity["rationale"] == "by length").all() and brevity["passed"].isna().all()

    def short(row: dict) -> bool:
        return len(row["reply"]) < 20

    assert user.score(rows, short)["value"].tolist() == [float(len(t) < 20) for t in rows["reply"]]

    # scored again: replaced, not added
    again = user.score(rows, scorers.contains("PARIS"), name="contains")
    assert passed(again, rows) == [paris]
    every = user.scores()
    assert len(every) == len(rows) * (len(checks) + 2)
    assert every.groupby("scorer", observed=True).size().eq(len(rows)).all()

    wide = user.results(scores=True)
    assert [c for c in wide.columns if c.startswith("score_")] == sorted(
        f"score_{n}" for n in [*checks, "brevity", "short"]
    )
    by_result = wide.set_index("result_id")
    for name in checks:
        expected = set(rows.loc[rows["prompt"].isin(checks[name][1]), "result_id"])
        assert set(by_result.index[by_result[f"score_{name}"] == 1.0]) == expected, name
    assert user.results(scores=False).columns.tolist() == rows.columns.drop("expected").tolist()

    board = user.leaderboard(rounds=0)
    assert board["score_brevity"].item() == pytest.approx(brevity["value"].mean())
    assert board["score_json_valid"].item() == 0.5


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"kind": "vibes"}, "scorer.kind"),
        ({"kind": "regex", "pattern": "("}, "scorer.pattern"),
        ({"kind": "regex", "pattern": "a", "flags": "x"}, "scorer.flags"),
        ({"kind": "regex", "pattern": "a" * 1001}, "scorer.pattern"),
        ({"kind": "contains", "text": []}, "scorer.text"),
        ({"kind": "contains", "text": "a", "extra": 1}, "scorer.extra"),
        ({"kind": "contains", "text": "a", "name": "no spaces"}, "scorer.name"),
        ({"kind": "equals"}, "scorer.expected"),
        ({"kind": "json_schema", "schema": {"type": "nonsense"}}, "scorer.schema"),
        ({"kind": "length"}, "scorer.min"),
        ({"kind": "length", "min": 5, "max": 2}, "scorer.max"),
        ({"kind": "judge", "model": "x"}, "scorer.rubric"),
    ],
)
def test_bad_scorers_are_refused(
    accounts: Accounts, echoed: pd.DataFrame, spec: dict, field: str
) -> None:
    with pytest.raises(cm.ChatMoreError) as error:
        accounts.user.score(echoed, spec)
    assert error.value.code == "VALIDATION_FAILED"
    assert error.value.details.get("field") == field
    assert accounts.user.scores().empty


def test_a_catastrophic_regex_is_stopped_and_scores_nothing(
    accounts: Accounts, demo_provider: DemoProvider
) -> None:
    echo = register(accounts.admin, demo_provider, "demo-swift;echo;tps=0")
    rows = accounts.user.ask("a" * 40 + "!", [echo])
    with pytest.raises(cm.ChatMoreError) as error:
        accounts.user.score(rows, scorers.regex(r"^(a+)+$"))
    assert error.value.code == "SCORER_FAILED" and error.value.status == 422
    assert accounts.user.scores().empty
    # the server still answers, and a sane pattern works
    assert accounts.user.score(rows, scorers.regex(r"a+!"))["passed"].tolist() == [True]


def test_scores_are_scoped_and_checked(accounts: Accounts, echoed: pd.DataFrame) -> None:
    theirs = echoed.head(1)
    with pytest.raises(cm.ChatMoreError) as foreign:
        accounts.admin.score(theirs, scorers.json_valid())
    assert foreign.value.code == "RESULT_NOT_FOUND" and foreign.value.status == 404
    with pytest.raises(cm.ChatMoreError) as foreign_posted:
        accounts.admin.score(theirs, lambda row: 1.0, name="mine")
    assert foreign_posted.value.code == "RESULT_NOT_FOUND"

    client = login(accounts.server, accounts.user_email)
    result_id = int(echoed["result_id"].iloc[0])
    for bad in (
        {"scores": [{"result_id": result_id, "scorer": "x", "value": 1.5}]},
        {"scores": [{"result_id": result_id, "scorer": "x", "value": float("nan")}]},
        {"scores": [{"result_id": result_id, "scorer": "a b", "value": 1}]},
        {"scores": [{"result_id": "1", "scorer": "x", "value": 1}]},
        {"scores": [{"result_id": result_id, "scorer": "x", "value": 1}, "oops"]},
        {"scores": []},
    ):
        answer = client.post("api/scores", content=pd.io.json.ujson_dumps(bad))
        assert answer.status_code == 400, (bad, answer.text)
        assert answer.json()["error"]["code"] == "VALIDATION_FAILED"
    assert accounts.user.scores().empty

    accounts.user.score(echoed, scorers.json_valid())
    assert accounts.admin.scores().empty
    everyone = accounts.admin.scores(everyone=True)
    assert set(echoed["result_id"]) <= set(everyone["result_id"])
    with pytest.raises(cm.ChatMoreError) as forbidden:
        accounts.user.scores(everyone=True)
    assert forbidden.value.code == "FORBIDDEN"


def test_an_llm_judge_scores_with_a_rationale_and_its_calls_are_recorded(
    accounts: Accounts, echoed: pd.DataFrame, demo_provider: DemoProvider, demo_models: DemoModels
) -> None:
    user, rows = accounts.user, echoed
    judge_model = register(accounts.admin, demo_provider, "demo-sage;judge;tps=0")
    rows = rows.assign(reference=["Ada", "Paris", "Rome", "[1, 2]"])
    judged = user.score(
        rows,
        scorers.judge(
            judge_model, "Does the reply hold the reference?", reference_column="reference"
        ),
    )
    assert judged.attrs["errors"] == []
    by_result = judged.set_index("result_id")
    expected = {
        r: float(ref in reply)
        for r, ref, reply in zip(rows["result_id"], rows["reference"], rows["reply"], strict=True)
    }
    assert by_result["value"].to_dict() == expected
    assert set(by_result["rationale"]) == {"the reply has the reference", "it lacks it"}
    assert by_result["judge_result_id"].notna().all()

    calls = user.results(model=judge_model)
    assert len(calls) == len(rows) and (calls["source"] == "judge").all()
    assert set(calls["result_id"]) == set(by_result["judge_result_id"].astype(int))
    assert calls["prompt"].str.contains("Does the reply hold the reference?").all()
    assert calls["conversation_id"].nunique() == len(rows)  # no shared context

    # without a reference: scored by length, as the demo judge does
    plain = user.score(rows.head(1), scorers.judge(judge_model, "Long enough?", name="long"))
    assert plain["value"].tolist() == [round(min(1, len(rows["reply"].iloc[0].split()) / 100), 2)]

    # a judge that answers in prose, or fails, scores nothing and says which
    prose = user.score(rows.head(2), scorers.judge(demo_models.swift, "grade", name="prose"))
    assert prose.empty and [e["code"] for e in prose.attrs["errors"]] == ["SCORER_FAILED"] * 2
    failing = user.score(rows.head(1), scorers.judge(demo_models.failing, "grade", name="failing"))
    assert failing.empty and failing.attrs["errors"][0]["code"].startswith("PROVIDER_")
    with pytest.raises(cm.ChatMoreError) as unknown:
        user.score(rows.head(1), scorers.judge("no such judge", "grade"))
    assert unknown.value.code == "MODEL_NOT_FOUND"
    assert set(user.scores()["scorer"]) == {"judge", "long"}
    judged_only = user.leaderboard(source="judge", rounds=0)
    assert sorted(judged_only["model"].astype(str)) == sorted(
        [judge_model, demo_models.swift, demo_models.failing]
    )
    assert judged_only["calls"].sum() == len(rows) + 1 + 2 + 1
