"""Scores on results: ``chatmore/api/scores`` (DESIGN §13).

``POST api/scores/run`` scores results with a built-in scorer (``services/scorers.py``)
or the LLM judge (``services/judge.py``)::

    {"scorer": {...spec}, "result_ids": [...],
     "cases": {"<result id>": {"expected": ..., "reference": ...}}}   # optional
    → {"scorer": name, "scores": [...], "errors": [{result_id, code, message}]}

``POST api/scores`` stores scores computed elsewhere (a Python callable in the kernel)::

    {"scores": [{"result_id", "scorer", "value": 0..1 | true | false, "rationale"?}]}

``GET api/scores`` lists them (``result_id`` — several, comma-separated —, ``scorer``,
``conversation_id``, ``after_id``, ``scope``). A user scores their own results only
(another's is RESULT_NOT_FOUND) and only results that have ended; a request with one bad
item stores nothing. A result scored again by the same scorer keeps the new score.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
from pathlib import Path
from typing import Any

from ..errors import ChatMoreError, validation
from ..store import scores as store
from ..store.db import Database
from .auth import AuthUser
from .judge import JudgeService
from .query_args import parse_id
from .scorers import MAX_RATIONALE, MAX_REGEX_INPUT, NAME, Scorer, Verdict, check, parse_scorer
from .votes import refuse_unknown, scope_user

MAX_RESULTS = 1_000
MAX_POSTED = 10_000
MAX_LIST = 10_000
REGEX_SECONDS = 5.0
_WORKER = Path(__file__).with_name("regex_worker.py")


def public(score: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "id",
        "result_id",
        "turn_id",
        "scorer",
        "value",
        "passed",
        "rationale",
        "judge_result_id",
        "created_at",
        "updated_at",
    )
    return {key: score.get(key) for key in keys}


def _result_ids(value: Any, limit: int) -> list[int]:
    if (
        not isinstance(value, list)
        or not 0 < len(value) <= limit
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise validation(f"result_ids must list 1 to {limit} result ids", field="result_ids")
    return list(dict.fromkeys(value))


def _cases(value: Any) -> dict[int, dict[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k.isdigit() and isinstance(v, dict) for k, v in value.items()
    ):
        raise validation("cases must map result ids to objects", field="cases")
    for case in value.values():
        for name, item in case.items():
            if name not in ("expected", "reference"):
                raise validation(f"a case takes expected and reference, not {name!r}")
            if item is not None and not isinstance(item, str | int | float):
                raise validation(f"a case's {name} must be text or a number", field="cases")
    return {int(k): v for k, v in value.items()}


def posted_value(item: dict[str, Any], i: int) -> tuple[float, bool | None]:
    value = item.get("value")
    if isinstance(value, bool):
        return (1.0 if value else 0.0), value
    if not isinstance(value, int | float) or not math.isfinite(value) or not 0 <= value <= 1:
        raise validation(
            f"scores[{i}].value must be a number from 0 to 1, true or false", field="value"
        )
    return float(value), None


class ScoreService:
    def __init__(self, db: Database, judge: JudgeService) -> None:
        self.db = db
        self.judge = judge

    async def _owned(self, user: AuthUser, result_ids: list[int]) -> dict[int, dict[str, Any]]:
        found = await self.db.read(store.results_to_score, user.id, result_ids)
        missing = [r for r in result_ids if r not in found]
        if missing:
            raise ChatMoreError(
                "RESULT_NOT_FOUND", f"no result {missing[0]}", result_id=missing[0]
            )
        active = [r for r, row in found.items() if row["active"]]
        if active:
            raise validation(f"result {active[0]} is still streaming", field="result_ids")
        return found

    async def run(self, user: AuthUser, body: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(body) - {"scorer", "result_ids", "cases"})
        if unknown:
            raise validation(f"unknown field {unknown[0]!r}", field=unknown[0])
        scorer = parse_scorer(body.get("scorer"))
        result_ids = _result_ids(body.get("result_ids"), MAX_RESULTS)
        cases = _cases(body.get("cases"))
        rows = await self._owned(user, result_ids)
        errors: list[dict[str, Any]] = []
        judged: dict[int, int] = {}
        if scorer.kind == "judge":
            await self.judge.model(scorer.options["model"])  # refused before any call
            references = {
                r: _text_or_none(cases.get(r, {}).get("reference"), scorer.options["reference"])
                for r in result_ids
            }
            graded, errors = await self.judge.grade(user, scorer, rows, references)
            verdicts = {r: v for r, (v, _) in graded.items()}
            judged = {r: j for r, (_, j) in graded.items()}
        elif scorer.kind == "regex":
            verdicts = await regex_verdicts(scorer, {r: rows[r]["reply"] for r in result_ids})
        else:
            verdicts = await asyncio.to_thread(
                lambda: {r: check(scorer, rows[r]["reply"], cases.get(r, {})) for r in result_ids}
            )
        saved = [
            {
                "result_id": r,
                "scorer": scorer.name,
                "value": v.value,
                "passed": v.passed,
                "rationale": v.rationale,
                "judge_result_id": judged.get(r),
            }
            for r, v in sorted(verdicts.items())
        ]
        return {
            "scorer": scorer.name,
            "scores": await self._save(user, saved),
            "errors": sorted(errors, key=lambda e: e["result_id"]),
        }

    async def _save(self, user: AuthUser, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write the scores in one transaction; they come back as stored."""
        if not rows:
            return []

        def write(conn: Any) -> list[dict[str, Any]]:
            ids = store.save_scores(conn, user.id, rows)
            which = store.ScoreFilter(user_id=user.id, score_ids=tuple(ids))
            return store.list_scores(conn, which, len(ids))

        return [public(s) for s in await self.db.write(write)]

    async def post(self, user: AuthUser, body: dict[str, Any]) -> dict[str, Any]:
        items = body.get("scores")
        if not isinstance(items, list) or not 0 < len(items) <= MAX_POSTED:
            raise validation(f"scores must list 1 to {MAX_POSTED} scores", field="scores")
        rows = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise validation(f"scores[{i}] must be an object", field="scores")
            unknown = sorted(set(item) - {"result_id", "scorer", "value", "rationale"})
            if unknown:
                raise validation(f"scores[{i}] has an unknown field {unknown[0]!r}")
            scorer = item.get("scorer")
            if not isinstance(scorer, str) or not NAME.match(scorer):
                raise validation(
                    f"scores[{i}].scorer must be a letter then letters, digits or underscores",
                    field="scorer",
                )
            value, passed = posted_value(item, i)
            rationale = item.get("rationale")
            if rationale is not None and not isinstance(rationale, str):
                raise validation(f"scores[{i}].rationale must be text", field="rationale")
            rows.append(
                {
                    "result_id": _result_ids([item.get("result_id")], 1)[0],
                    "scorer": scorer,
                    "value": value,
                    "passed": passed,
                    "rationale": rationale[:MAX_RATIONALE] if rationale else None,
                }
            )
        await self._owned(user, list(dict.fromkeys(r["result_id"] for r in rows)))
        return {"scores": await self._save(user, rows)}

    async def list(self, user: AuthUser, args: dict[str, str]) -> dict[str, Any]:
        refuse_unknown(args, {"result_id", "scorer", "conversation_id", "after_id", "scope"})
        raw_ids = [v for v in (args.get("result_id") or "").split(",") if v.strip()]
        result_ids = tuple(parse_id({"result_id": v}, "result_id") or 0 for v in raw_ids)
        scorer = (args.get("scorer") or "").strip() or None
        which = store.ScoreFilter(
            user_id=scope_user(user, args),
            result_ids=result_ids,
            scorer=scorer,
            conversation_id=parse_id(args, "conversation_id"),
            after_id=parse_id(args, "after_id") or 0,
        )
        found = await self.db.read(store.list_scores, which, MAX_LIST)
        return {
            "scores": [public(s) for s in found],
            "next_after_id": found[-1]["id"] if len(found) == MAX_LIST else None,
        }


def _text_or_none(value: Any, default: str | None) -> str | None:
    return default if value is None else str(value)


async def regex_verdicts(scorer: Scorer, replies: dict[int, str]) -> dict[int, Verdict]:
    """Match the pattern in a worker process, killed after REGEX_SECONDS: a pattern that
    backtracks catastrophically fails the request (SCORER_FAILED) and scores nothing."""
    ids = list(replies)
    job = json.dumps(
        {
            "pattern": scorer.options["pattern"],
            "flags": scorer.options["flags"],
            "texts": [replies[r][:MAX_REGEX_INPUT] for r in ids],
        }
    ).encode()
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",
        "-S",
        str(_WORKER),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await asyncio.wait_for(worker.communicate(job), REGEX_SECONDS)
    except TimeoutError:
        raise ChatMoreError(
            "SCORER_FAILED",
            f"the pattern ran past {REGEX_SECONDS:g} s (catastrophic backtracking?)",
        ) from None
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    if worker.returncode != 0:
        raise ChatMoreError("SCORER_FAILED", "the pattern could not be matched")
    found = json.loads(out)
    return {
        r: Verdict(1.0 if hit else 0.0, bool(hit), f"matched {text!r}" if hit else "no match")
        for r, (hit, text) in zip(ids, found, strict=True)
    }
