"""Experiments from a notebook: ``cm.run()``, ``cm.replay()``, ``cm.experiments()`` and
the :class:`Experiment` handle.

An experiment runs in the server (``POST api/experiments``); this module turns prompts
(a list, a Series, or a DataFrame with a ``prompt`` column or a ``template`` filled from
its columns) into cases, models and a parameter grid into windows, follows the progress
with a live bar, and reads the cells back as a tidy DataFrame: one row per case ×
window × sample, pending cells included.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import string
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from widgets.i18n import format_number, t

from .catalog import ModelRef, list_models, window_specs
from .errors import ChatMoreError
from .frames import Column, frame_from_records
from .http import ApiClient
from .progress import ProgressBar
from .query import id_param

STATUSES = ("pending", "queued", "streaming", "succeeded", "failed", "cancelled")
POLL_SECONDS = 0.5
PAGE = 10_000

EXPERIMENTS: tuple[Column, ...] = (
    Column("id", "id"),
    Column("name", "str"),
    Column("kind", "cat"),
    Column("status", "cat"),
    Column("cases", "int"),
    Column("windows", "int"),
    Column("samples", "int"),
    Column("total", "int"),
    Column("succeeded", "int"),
    Column("failed", "int"),
    Column("cancelled", "int"),
    Column("pending", "int"),
    Column("cost", "float"),
    Column("currency", "str"),
    Column("created_at", "time"),
    Column("finished_at", "time"),
)

# The cell columns after the case's inputs (see Experiment.results()).
CELL_COLUMNS = (
    "prompt",
    "sample",
    "window",
    "model",
    "params",
    "reply",
    "status",
    "error_code",
    "error_message",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "ttft_ms",
    "latency_ms",
    "cost",
    "started_at",
    "finished_at",
    "window_id",
    "model_id",
    "result_id",
)
INT_COLUMNS = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "ttft_ms",
    "latency_ms",
    "result_id",
)


# -- cases and windows ---------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value of a DataFrame cell as JSON can carry it."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def build_cases(prompts: Any, template: str | None = None) -> list[dict[str, Any]]:
    """Cases ``{"prompt", "inputs"}`` from a string, a list, a Series, or a DataFrame
    (a ``prompt`` column, or ``template`` filled from its columns; the other columns
    become the case's inputs). A list of dicts is read like a DataFrame."""
    if isinstance(prompts, str):
        prompts = [prompts]
    if isinstance(prompts, pd.Series):
        prompts = prompts.tolist()
    if isinstance(prompts, Iterable) and not isinstance(prompts, pd.DataFrame):
        prompts = list(prompts)
        if prompts and all(isinstance(p, Mapping) for p in prompts):
            prompts = pd.DataFrame(prompts)
        elif template is not None:
            raise TypeError("a template is filled from a DataFrame's columns")
        else:
            bad = [p for p in prompts if not isinstance(p, str)]
            if bad:
                raise TypeError(f"prompts must be strings, not {bad[0]!r}")
            return [{"prompt": p, "inputs": {}} for p in prompts]
    if not isinstance(prompts, pd.DataFrame):
        raise TypeError("prompts must be a string, a list, a Series or a DataFrame")
    records = [{str(k): _plain(v) for k, v in row.items()} for row in prompts.to_dict("records")]
    if template is not None:
        missing = sorted(set(_fields(template)) - set(map(str, prompts.columns)))
        if missing:
            raise ChatMoreError(
                "VALIDATION_FAILED", t("error.template_columns_missing", missing=missing), 400
            )
        return [{"prompt": template.format_map(r), "inputs": r} for r in records]
    if "prompt" not in prompts.columns:
        raise ChatMoreError("VALIDATION_FAILED", t("error.no_prompt_column"), 400)
    cases = []
    for record in records:
        prompt = record.pop("prompt")
        if not isinstance(prompt, str):
            raise TypeError(f"prompts must be strings, not {prompt!r}")
        cases.append({"prompt": prompt, "inputs": record})
    return cases


def _grid(grid: Mapping[str, Iterable[Any]] | None) -> list[dict[str, Any]]:
    if not grid:
        return [{}]
    names = list(grid)
    values = [list(grid[n]) for n in names]
    if any(not v for v in values):
        raise ChatMoreError("VALIDATION_FAILED", t("error.grid_without_values"), 400)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def build_windows(
    api: ApiClient,
    models: ModelRef | Iterable[ModelRef | Mapping[str, Any]],
    grid: Mapping[str, Iterable[Any]] | None,
) -> list[dict[str, Any]]:
    """One window per model (or window dict) and grid point, named after both."""
    refs = [models] if isinstance(models, str | int | Mapping) else list(models)
    windows = [m if isinstance(m, Mapping) else {"model": m} for m in refs]
    names = {m["id"]: m["name"] for m in list_models(api)}
    found = []
    for spec in window_specs(api, windows=windows):
        base = spec.get("name") or names.get(spec["model_id"], str(spec["model_id"]))
        for point in _grid(grid):
            window = {**spec, "params": {**(spec.get("params") or {}), **point}}
            label = ", ".join(f"{k}={v}" for k, v in point.items())
            window["name"] = f"{base} ({label})" if label else base
            found.append(window)
    return found


# -- the handle ----------------------------------------------------------------------------


class Experiment:
    """An experiment in the server: ``.results()``, ``.matrix()``, ``.wait()``,
    ``.cancel()``, ``.resume()``, ``.info`` (as last read) and ``.refresh()``."""

    def __init__(self, api: ApiClient, info: dict[str, Any]) -> None:
        self._api = api
        self.info = info

    @property
    def id(self) -> int:
        return int(self.info["id"])

    @property
    def name(self) -> str:
        return str(self.info["name"])

    @property
    def status(self) -> str:
        return str(self.info["status"])

    @property
    def progress(self) -> dict[str, Any]:
        return dict(self.info["progress"])

    def __repr__(self) -> str:
        p = self.info["progress"]
        return t(
            "repr.experiment",
            id=self.id,
            name=repr(self.name),
            status=t(f"status.{self.status}"),
            **{k: format_number(p[k]) for k in ("succeeded", "total", "failed", "pending")},
        )

    def refresh(self) -> Experiment:
        self.info = self._api.get(f"api/experiments/{self.id}")
        return self

    def wait(self, progress: bool = True) -> Experiment:
        """Follow the experiment until it ends, with a live progress bar. Interrupting
        (the kernel's stop button, Ctrl-C) cancels it in the server; what finished is
        kept, and :meth:`resume` runs the rest."""
        bar = ProgressBar(self.name or f"experiment {self.id}") if progress else None
        try:
            while True:
                self.refresh()
                if bar is not None:
                    bar.update(self.info)
                if self.status != "running":
                    break
                time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            self.cancel()
            if bar is not None:
                bar.update(self.info, note="interrupted: cancelled; .resume() runs the rest")
        return self

    def cancel(self) -> Experiment:
        """Stop it: calls in flight are cancelled, finished cells kept."""
        self.info = self._api.post(f"api/experiments/{self.id}/cancel", {})
        return self

    def resume(self, wait: bool = True, progress: bool = True) -> Experiment:
        """Run again only what has not succeeded (in the same rows: no duplicates)."""
        self.info = self._api.post(f"api/experiments/{self.id}/resume", {})
        return self.wait(progress) if wait else self

    # -- reading -------------------------------------------------------------------------

    def _pages(self, path: str, cursor: str, key: str) -> list[dict[str, list[Any]]]:
        pages, after = [], None
        while True:
            params = {"limit": PAGE} if after is None else {"limit": PAGE, cursor: after}
            page = self._api.get(f"api/experiments/{self.id}/{path}", **params)
            pages.append(page[key])
            after = page[f"next_{cursor}"]
            if after is None:
                return pages

    def results(self) -> pd.DataFrame:
        """One row per case × window × sample: ``case`` (its position), the case's
        input columns, then the prompt, sample, window, model, params, reply, status
        (``pending`` when it has not run), error, finish reason, tokens, TTFT, latency,
        cost and times."""
        self.refresh()
        cases = pd.concat([pd.DataFrame(p) for p in self._pages("cases", "after", "cases")])
        cells = pd.concat([pd.DataFrame(p) for p in self._pages("results", "after_id", "results")])
        windows = pd.DataFrame(
            [
                {
                    "window_id": w["id"],
                    "window": w["name"],
                    "model": w["model_name"],
                    "model_id": w["model_id"],
                    "params": w["effective_params"],
                    "order": i,
                }
                for i, w in enumerate(self.info["windows"])
            ]
        )
        grid = (
            cases[["case_id", "position", "prompt"]]
            .merge(pd.DataFrame({"sample": range(self.info["samples"])}), how="cross")
            .merge(windows, how="cross")
        )
        keys = ["case_id", "sample", "window_id"]
        cell_columns = [c for c in cells.columns if c not in ("model_id",)]
        joined = grid.merge(cells[cell_columns], on=keys, how="left") if len(cells) else grid
        joined = joined.sort_values(["position", "sample", "order"], kind="stable")
        inputs = pd.DataFrame(list(cases["inputs"]), index=cases["case_id"].to_numpy())
        inputs = inputs.reindex(joined["case_id"].to_numpy()).reset_index(drop=True)
        joined = joined.reset_index(drop=True)
        out = pd.DataFrame({"case": joined["position"].astype("int64")})
        for name in inputs.columns:
            if name not in CELL_COLUMNS and name != "case":
                out[name] = inputs[name]
        for name in CELL_COLUMNS:
            out[name] = joined.get(name)
        out["status"] = pd.Categorical(out["status"].fillna("pending"), categories=STATUSES)
        for name in INT_COLUMNS:
            out[name] = pd.array(pd.to_numeric(out[name]), dtype="Int64")
        out["cost"] = pd.to_numeric(out["cost"]).astype("float64")
        for name in ("started_at", "finished_at"):
            out[name] = pd.to_datetime(out[name], utc=True).dt.as_unit("ms")
        for name in ("prompt", "reply", "error_message", "window"):
            out[name] = out[name].astype("string")
        for name in ("model", "error_code", "finish_reason"):
            out[name] = out[name].astype("category")
        return out

    def widget(self, height: int = 560) -> Any:
        """The matrix as a live table widget: prompts as rows, windows as columns, a
        cell's whole reply on click, sortable by latency, tokens, cost or status; it
        fills in while the experiment runs."""
        from widgets.matrix import MatrixWidget

        return MatrixWidget(ExperimentSource(self), height=height)

    def matrix(self, values: str = "reply", sample: int = 0) -> pd.DataFrame:
        """Prompts × windows: each cell's ``values`` (reply, status, latency_ms, cost …)
        for one sample."""
        rows = self.results()
        rows = rows[rows["sample"] == sample]
        table = rows.pivot(index=["case", "prompt"], columns="window", values=values)
        order = [w["name"] for w in self.info["windows"]]
        return table.reindex(columns=[w for w in order if w in table.columns])


class ExperimentSource:
    """What the matrix widget reads: the experiment, its cases, its cells by id."""

    def __init__(self, experiment: Experiment) -> None:
        self._experiment = experiment

    def info(self) -> dict[str, Any]:
        return self._experiment.refresh().info

    def cases(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in self._experiment._pages("cases", "after", "cases"):
            found += [
                {"case_id": c, "position": p, "prompt": t}
                for c, p, t in zip(page["case_id"], page["position"], page["prompt"], strict=True)
            ]
        return found

    def cells(self, after_id: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        api, path = self._experiment._api, f"api/experiments/{self._experiment.id}/results"
        after: int | None = after_id
        while after is not None:
            page = api.get(path, after_id=after, limit=PAGE)
            names, values = list(page["results"]), page["results"].values()
            found += [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
            after = page["next_after_id"]
        return found


# -- the module-level calls ------------------------------------------------------------------


def start(
    api: ApiClient,
    *,
    cases: list[dict[str, Any]] | None,
    windows: list[dict[str, Any]],
    replay: int | None = None,
    samples: int = 1,
    concurrency: int = 16,
    name: str | None = None,
    system_prompt: str | None = None,
    template: str | None = None,
) -> Experiment:
    body: dict[str, Any] = {
        "windows": windows,
        "samples": samples,
        "concurrency": concurrency,
        "name": name or "",
    }
    if replay is not None:
        body["replay_conversation_id"] = replay
    else:
        body["cases"] = cases
    if system_prompt is not None:
        body["system_prompt"] = system_prompt
    if template is not None:
        body["template"] = template
    return Experiment(api, api.post("api/experiments", body))


def experiments_frame(api: ApiClient) -> pd.DataFrame:
    records, before = [], None
    while True:
        page = api.get("api/experiments", limit=200, before_id=before)
        for e in page["experiments"]:
            records.append(
                {
                    **e,
                    **e["progress"],
                    "windows": len(e["windows"]),
                }
            )
        before = page["next_before_id"]
        if before is None:
            return frame_from_records(EXPERIMENTS, records)


def open_experiment(api: ApiClient, experiment_id: int) -> Experiment:
    checked = id_param(experiment_id, "experiment")
    return Experiment(api, api.get(f"api/experiments/{checked}"))
