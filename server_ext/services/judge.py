"""The LLM judge: a configured ChatMore model grades each reply by a rubric (DESIGN §13).

For each result, the judge model gets one prompt — the rubric, the question, the reply
and, when given, a reference answer, each in its own tagged block — and is asked to
answer with JSON ``{"score": <0 to 1>, "rationale": "..."}``. Each call is a turn of its
own, in a conversation of its own (no judged reply sees another's context), sent with
``source = judge``, at temperature 0: it is stored, listed, costed and charted like
any other call, and the score keeps its ``judge_result_id``. A call that fails, or an
answer without a score in [0, 1], scores nothing and is reported with its result.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from ..errors import ChatMoreError
from ..store import scores as store
from ..store.db import Database
from .auth import AuthUser
from .conversations import ConversationService
from .fanout import FanOut
from .scorers import MAX_RATIONALE, Scorer, Verdict, unfenced

CONCURRENCY = 4
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)

PROMPT = """You grade one reply to a question.

<rubric>
{rubric}
</rubric>

<question>
{question}
</question>
{reference}
<reply>
{reply}
</reply>

Answer with JSON only:
{{"score": <a number from 0 to 1>, "rationale": "<one or two sentences>"}}"""


def judge_prompt(rubric: str, question: str, reply: str, reference: str | None) -> str:
    block = f"\n<reference>\n{reference}\n</reference>\n" if reference else ""
    return PROMPT.format(rubric=rubric, question=question, reply=reply, reference=block)


def read_verdict(answer: str) -> Verdict | None:
    """The score and rationale in the judge's answer; None when it has no valid score."""
    text = unfenced(answer)
    candidates = [text] + [m.group(0) for m in [_OBJECT.search(text)] if m]
    for candidate in candidates:
        try:
            found = json.loads(candidate)
        except ValueError:
            continue
        score = found.get("score") if isinstance(found, dict) else None
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
            continue
        rationale = found.get("rationale")
        return Verdict(
            float(score), None, str(rationale)[:MAX_RATIONALE] if rationale is not None else None
        )
    return None


class JudgeService:
    def __init__(self, db: Database, conversations: ConversationService, fanout: FanOut) -> None:
        self.db = db
        self.conversations = conversations
        self.fanout = fanout

    async def model(self, ref: str | int) -> dict[str, Any]:
        found = await self.db.read(store.enabled_model, ref)
        if found is None:
            raise ChatMoreError("MODEL_NOT_FOUND", f"no enabled model {ref!r} to judge with")
        return found

    async def grade(
        self,
        user: AuthUser,
        scorer: Scorer,
        judged: dict[int, dict[str, Any]],
        references: dict[int, str | None],
    ) -> tuple[dict[int, tuple[Verdict, int]], list[dict[str, Any]]]:
        """Per result id its verdict and the judge's result id; and the failures."""
        model = await self.model(scorer.options["model"])
        limit = asyncio.Semaphore(CONCURRENCY)
        verdicts: dict[int, tuple[Verdict, int]] = {}
        errors: list[dict[str, Any]] = []

        async def one(result_id: int, row: dict[str, Any]) -> None:
            async with limit:
                prompt = judge_prompt(
                    scorer.options["rubric"], row["prompt"], row["reply"], references[result_id]
                )
                call = await self._call(user, model, scorer.name, result_id, prompt)
            if call["status"] != "succeeded":
                errors.append(
                    {
                        "result_id": result_id,
                        "judge_result_id": call["result_id"],
                        "code": call["error_code"] or "SCORER_FAILED",
                        "message": "the judge's call did not succeed",
                    }
                )
                return
            verdict = read_verdict(call["reply"])
            if verdict is None:
                errors.append(
                    {
                        "result_id": result_id,
                        "judge_result_id": call["result_id"],
                        "code": "SCORER_FAILED",
                        "message": "the judge's answer holds no score from 0 to 1",
                    }
                )
                return
            verdicts[result_id] = (verdict, call["result_id"])

        await asyncio.gather(*(one(rid, row) for rid, row in judged.items()))
        return verdicts, errors

    async def _call(
        self, user: AuthUser, model: dict[str, Any], scorer: str, result_id: int, prompt: str
    ) -> dict[str, Any]:
        """One judge call as a stored turn of its own; waits for its end."""
        conversation = await self.conversations.create(
            user,
            {
                "title": f"Judge {scorer}: result {result_id}",
                "windows": [{"model_id": model["id"], "params": {"temperature": 0}}],
                "tags": ["judge"],
                "metadata": {"judge": {"scorer": scorer, "result_id": result_id}},
            },
        )
        started = await self.conversations.send(
            user, conversation["id"], {"content": prompt}, source="judge"
        )
        running = self.fanout.running.get(started["turn_id"])
        if running is not None and running.task is not None:
            await asyncio.shield(running.task)
        outcome = await self.db.read(store.call_outcome, started["turn_id"])
        assert outcome is not None
        return outcome
