"""Experiments (DESIGN §13): a named set of prompts × windows × samples, run in the
server, every cell a result with ``source = "experiment"``.

``POST api/experiments`` takes either ``cases`` (``[{"prompt", "inputs"?}]``: each
prompt sent on its own, its inputs kept with it for analysis) or
``replay_conversation_id`` (one of the caller's conversations whose prompts are re-sent
turn by turn, each window with its own context), plus ``windows`` (as for a
conversation: a model, its params and system prompt; the same model may appear with
several params), ``samples``, ``concurrency``, ``name``, ``system_prompt`` and
``template`` (kept as a record of how the prompts were made). It starts at once.
Everything is scoped to the caller: another user's experiment is "not found".
"""

from __future__ import annotations

from typing import Any

from ..errors import ChatMoreError, validation
from ..store import experiments as store
from ..store import turns as turn_store
from ..store.db import Database
from .auth import AuthUser
from .conversations import MAX_PROMPT_CHARS, MAX_SYSTEM_PROMPT_CHARS, MAX_WINDOWS, public_window
from .experiment_runner import ExperimentRunner
from .params import clean_params
from .quotas import QuotaService
from .results import columns

MAX_CASES = 10_000
MAX_SAMPLES = 100
MAX_INPUTS_CHARS = 16_384
CREATE_FIELDS = {
    "name",
    "windows",
    "cases",
    "replay_conversation_id",
    "samples",
    "concurrency",
    "system_prompt",
    "template",
}
PAGE = 5000


def _text(value: object, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise validation(f"{name} must be text of at most {limit} characters", field=name)
    return value


def _int(value: object, name: str, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise validation(f"{name} must be a whole number from {low} to {high}", field=name)
    return value


def _windows(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_WINDOWS:
        raise validation(f"windows must list 1 to {MAX_WINDOWS} windows", field="windows")
    found = []
    for i, spec in enumerate(value):
        if not isinstance(spec, dict):
            raise validation(f"windows[{i}] must be an object", field="windows")
        unknown = sorted(set(spec) - {"model_id", "name", "params", "system_prompt"})
        model_id = spec.get("model_id")
        if unknown or not isinstance(model_id, int) or isinstance(model_id, bool):
            raise validation(
                f"windows[{i}] takes model_id, name, params and system_prompt", field="windows"
            )
        found.append(
            {
                "model_id": model_id,
                "name": _text(spec.get("name"), f"windows[{i}].name", 200) or "",
                "params": clean_params(spec.get("params"), f"windows[{i}].params"),
                "system_prompt": _text(
                    spec.get("system_prompt"),
                    f"windows[{i}].system_prompt",
                    MAX_SYSTEM_PROMPT_CHARS,
                ),
            }
        )
    return found


def _cases(value: object) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_CASES:
        raise validation(f"cases must list 1 to {MAX_CASES} cases", field="cases")
    found = []
    for i, case in enumerate(value):
        if not isinstance(case, dict) or set(case) - {"prompt", "inputs"}:
            raise validation(f"cases[{i}] must be {{prompt, inputs?}}", field="cases")
        prompt = case.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > MAX_PROMPT_CHARS:
            raise validation(
                f"cases[{i}].prompt must be non-empty text of at most {MAX_PROMPT_CHARS} "
                "characters",
                field="cases",
            )
        inputs = case.get("inputs") or {}
        if not isinstance(inputs, dict) or len(repr(inputs)) > MAX_INPUTS_CHARS:
            raise validation(
                f"cases[{i}].inputs must be an object of at most 16 KB", field="cases"
            )
        found.append((prompt, inputs))
    return found


def public_experiment(row: dict[str, Any], progress: dict[str, Any]) -> dict[str, Any]:
    windows = [public_window(w) for w in row["windows"]]
    total = row["cases"] * row["samples"] * len(windows)
    started = sum(progress[s] for s in ("queued", "streaming", "succeeded", "failed", "cancelled"))
    currencies = {w.get("model_currency") for w in row["windows"]} - {None}
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "status": row["status"],
        "samples": row["samples"],
        "concurrency": row["concurrency"],
        "template": row["template"],
        "system_prompt": row["system_prompt"],
        "source_conversation_id": row["source_conversation_id"],
        "cases": row["cases"],
        "windows": windows,
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "progress": {
            "total": total,
            "pending": max(total - started, 0),
            "running": progress["queued"] + progress["streaming"],
            **{s: progress[s] for s in ("succeeded", "failed", "cancelled")},
            "prompt_tokens": progress["prompt_tokens"],
            "completion_tokens": progress["completion_tokens"],
            "cost": progress["cost"],
            "currency": currencies.pop() if len(currencies) == 1 else None,
        },
    }


class ExperimentService:
    def __init__(
        self,
        db: Database,
        runner: ExperimentRunner,
        *,
        max_concurrency: int,
        quotas: QuotaService | None = None,
    ) -> None:
        self.db = db
        self.runner = runner
        self.max_concurrency = max_concurrency
        self.quotas = quotas  # a used-up monthly budget refuses a new run

    async def create(self, user: AuthUser, body: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(body) - CREATE_FIELDS)
        if unknown:
            raise validation(f"unknown fields {unknown}", fields=unknown)
        if self.quotas is not None:
            await self.quotas.check(user)
        name = _text(body.get("name"), "name", 300) or ""
        windows = _windows(body.get("windows"))
        replay = body.get("replay_conversation_id")
        if (replay is None) == (body.get("cases") is None):
            raise validation("give either cases or replay_conversation_id", field="cases")
        if replay is not None and (not isinstance(replay, int) or isinstance(replay, bool)):
            raise validation("replay_conversation_id must be a conversation id")
        cases = _cases(body["cases"]) if replay is None else []
        samples = _int(body.get("samples"), "samples", 1, MAX_SAMPLES, 1)
        if replay is not None and samples != 1:
            raise validation("a replay has one sample", field="samples")
        concurrency = _int(body.get("concurrency"), "concurrency", 1, self.max_concurrency, 16)
        system_prompt = _text(body.get("system_prompt"), "system_prompt", MAX_SYSTEM_PROMPT_CHARS)
        template = _text(body.get("template"), "template", MAX_PROMPT_CHARS)

        def write(conn: Any) -> int:
            found = turn_store.models_by_id(conn, [w["model_id"] for w in windows])
            for spec in windows:
                model = found.get(spec["model_id"])
                if model is None or not model["enabled"]:
                    raise ChatMoreError(
                        "MODEL_NOT_FOUND", f"model {spec['model_id']} does not exist or is off"
                    )
            made = cases
            if replay is not None:
                prompts = store.source_prompts(conn, user.id, replay)
                if prompts is None:
                    raise ChatMoreError("CONVERSATION_NOT_FOUND")
                if not prompts:
                    raise validation("that conversation has no turns to replay")
                made = [(p, {"turn": i}) for i, p in enumerate(prompts)]
            return store.insert_experiment(
                conn,
                user_id=user.id,
                name=name,
                kind="prompts" if replay is None else "replay",
                samples=samples,
                concurrency=concurrency,
                template=template,
                system_prompt=system_prompt,
                source_conversation_id=replay,
                window_specs=windows,
                cases=made,
            )

        experiment_id = await self.db.write(write)
        row = await self._row(user, experiment_id)
        self.runner.start(row)
        return await self.get(user, experiment_id)

    async def _row(self, user: AuthUser, experiment_id: int) -> dict[str, Any]:
        row = await self.db.read(store.get_experiment, user.id, experiment_id)
        if row is None:
            raise ChatMoreError("EXPERIMENT_NOT_FOUND")
        return row

    def _shown(self, row: dict[str, Any], progress: dict[str, Any]) -> dict[str, Any]:
        if self.runner.running(row["id"]):  # its task may not have written it yet
            row = {**row, "status": "running"}
        return public_experiment(row, progress)

    async def get(self, user: AuthUser, experiment_id: int) -> dict[str, Any]:
        row = await self._row(user, experiment_id)
        return self._shown(row, await self.db.read(store.progress, experiment_id))

    async def list(self, user: AuthUser, *, before_id: int | None, limit: int) -> dict[str, Any]:
        def read(conn: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
            rows = store.list_experiments(conn, user.id, before_id=before_id, limit=limit + 1)
            return [(r, store.progress(conn, r["id"])) for r in rows]

        found = [self._shown(r, p) for r, p in await self.db.read(read)]
        page = found[:limit]
        return {
            "experiments": page,
            "next_before_id": page[-1]["id"] if len(found) > limit else None,
        }

    async def cancel(self, user: AuthUser, experiment_id: int) -> dict[str, Any]:
        row = await self._row(user, experiment_id)
        if not await self.runner.cancel(experiment_id) and row["status"] == "running":
            await self.db.write(store.set_status, experiment_id, "cancelled")
        return await self.get(user, experiment_id)

    async def resume(self, user: AuthUser, experiment_id: int) -> dict[str, Any]:
        """Run again what has not succeeded: the cells never run, and the failed or
        cancelled ones in their own rows."""
        row = await self._row(user, experiment_id)
        if self.quotas is not None:
            await self.quotas.check(user)
        # Checked and started with no await in between: two resumes never both start.
        if self.runner.running(experiment_id):
            raise ChatMoreError("EXPERIMENT_RUNNING")
        self.runner.start(row)
        return await self.get(user, experiment_id)

    async def cells(
        self, user: AuthUser, experiment_id: int, *, after_id: int, limit: int
    ) -> dict[str, Any]:
        """A page of the experiment's results (columns), in id order."""
        await self._row(user, experiment_id)
        names, rows = await self.db.read(
            store.cell_page, experiment_id, after_id=after_id, limit=limit
        )
        return {
            "results": columns(names, rows),
            "next_after_id": rows[-1][0] if len(rows) == limit else None,
        }

    async def cases(
        self, user: AuthUser, experiment_id: int, *, after: int, limit: int
    ) -> dict[str, Any]:
        """A page of the experiment's cases (columns), in order."""
        await self._row(user, experiment_id)
        rows = await self.db.read(store.case_page, experiment_id, after=after, limit=limit)
        return {
            "cases": columns(["case_id", "position", "prompt", "inputs"], rows),
            "next_after": rows[-1][1] if len(rows) == limit else None,
        }
