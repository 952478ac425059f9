"""Running experiments in the server: cells dispatched under the experiment's own
concurrency limit, each case's sample a turn run by the fan-out (so the per-model
limits, timeouts, checkpoints and the finalising of each result are the board's own).

A case's windows start together: an experiment's concurrency counts calls in flight and
is never below its number of windows. A prompts experiment sends each case on its own
(the window's system prompt, then the prompt); a replay sends its steps in order, each
window with its own context, one step after the other. Dispatching walks the cases in
order and skips the cells that already succeeded, so that resuming runs only the rest,
in the rows they already have. Cells are stored in batches: as calls end, as many cells
as the freed slots allow are written in one transaction and started together (one
write per cell made the database the bottleneck).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ..store import experiments as store
from ..store import turns as turn_store
from ..store.db import Database, utcnow
from .fanout import FanOut, WindowRun
from .params import merged

log = logging.getLogger("chatmore.experiments")

# Cells stored in one transaction at most, when many slots free up at once.
MAX_BATCH = 64


class ExperimentRunner:
    def __init__(self, db: Database, fanout: FanOut) -> None:
        self.db = db
        self.fanout = fanout
        self.tasks: dict[int, asyncio.Task] = {}
        self._turns: dict[int, set[int]] = {}  # experiment id -> its turns in flight
        self._cancelled: set[int] = set()
        # A cell being stored and started: finished even when its experiment is stopped
        # meanwhile, so that no stored cell is left without its calls.
        self._launching: dict[int, asyncio.Future] = {}

    def running(self, experiment_id: int) -> bool:
        task = self.tasks.get(experiment_id)
        return task is not None and not task.done()

    def start(self, experiment: dict[str, Any]) -> None:
        experiment_id = experiment["id"]
        self._cancelled.discard(experiment_id)
        self.tasks[experiment_id] = asyncio.create_task(
            self._run(experiment), name=f"experiment-{experiment_id}"
        )

    async def cancel(self, experiment_id: int) -> bool:
        """Stop dispatching and cancel the calls in flight; what finished is kept."""
        task = self.tasks.get(experiment_id)
        if task is None or task.done():
            return False
        self._cancelled.add(experiment_id)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return True

    async def stop(self) -> None:
        """The server is stopping: experiments end as interrupted (resumable)."""
        for task in list(self.tasks.values()):
            task.cancel()
        if self.tasks:
            await asyncio.wait(list(self.tasks.values()), timeout=15)

    # -- one experiment -----------------------------------------------------------------

    async def _run(self, experiment: dict[str, Any]) -> None:
        experiment_id = experiment["id"]
        inflight: set[asyncio.Task] = set()
        self._turns[experiment_id] = set()
        status = "finished"
        try:
            # Written here, so that it always comes before the end's status.
            await self.db.write(
                store.set_status,
                experiment_id,
                "running",
                finished_at=None,
                runner=self.fanout.runner,
            )
            if experiment["kind"] == "replay":
                await self._replay(experiment)
            else:
                await self._prompts(experiment, inflight)
            if inflight:
                # wait(), not gather(): cancelling this must not cancel the turns
                # themselves (the fan-out ends them, each with its reason).
                await asyncio.wait(set(inflight))
        except asyncio.CancelledError:
            status = "cancelled" if experiment_id in self._cancelled else "interrupted"
            launching = self._launching.get(experiment_id)
            if launching is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(launching), 15)
            if status == "cancelled":  # on shutdown, the fan-out stops them itself
                # Every turn launched, also the batch whose launch the cancel interrupted
                # (not yet in `inflight`): the cancel answers once each has ended, so
                # that no cell is read as still queued afterwards.
                running = {t for t in inflight if not t.done()}
                for turn_id in list(self._turns.get(experiment_id, ())):
                    self.fanout.cancel(turn_id, None)
                    turn = self.fanout.running.get(turn_id)
                    if turn is not None and turn.task is not None and not turn.task.done():
                        running.add(turn.task)
                if running:
                    await asyncio.wait(running, timeout=15)
        except Exception:
            log.exception("experiment %s failed", experiment_id)
            status = "interrupted"
        finally:
            self._turns.pop(experiment_id, None)
            self._launching.pop(experiment_id, None)
            self.tasks.pop(experiment_id, None)
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    self.db.write(store.set_status, experiment_id, status, finished_at=utcnow())
                )
            log.info("experiment %s %s", experiment_id, status)

    async def _plan(self, experiment: dict[str, Any]) -> dict[str, Any]:
        def read(conn: Any) -> dict[str, Any]:
            windows = experiment["windows"]
            return {
                "cases": store.cases_of(conn, experiment["id"]),
                "cells": store.cells_of(conn, experiment["id"]),
                "models": turn_store.models_by_id(conn, [w["model_id"] for w in windows]),
            }

        return await self.db.read(read)

    async def _prompts(self, experiment: dict[str, Any], inflight: set[asyncio.Task]) -> None:
        """Dispatch in batches: whenever calls end, as many cells as the freed slots
        allow are stored in one transaction and started together."""
        windows = experiment["windows"]
        slots = _Slots(max(experiment["concurrency"], len(windows)))
        plan = await self._plan(experiment)
        todo = [
            (case, sample, cell, targets)
            for case in plan["cases"]
            for sample in range(experiment["samples"])
            for cell in [plan["cells"].get((case["id"], sample))]
            for targets in [_targets(windows, cell)]
            if targets
        ]
        index = 0
        while index < len(todo):
            await slots.take(len(todo[index][3]))
            batch = [todo[index]]
            index += 1
            while (
                index < len(todo)
                and len(batch) < MAX_BATCH
                and slots.try_take(len(todo[index][3]))
            ):
                batch.append(todo[index])
                index += 1
            launched = await self._launch_shielded(experiment, plan, batch, None)
            for runs in launched:
                for run in runs:
                    assert run.task is not None
                    run.task.add_done_callback(lambda _t: slots.release())
                turn_task = self.fanout.running[runs[0].turn_id].task
                assert turn_task is not None
                inflight.add(turn_task)
                turn_task.add_done_callback(inflight.discard)

    async def _replay(self, experiment: dict[str, Any]) -> None:
        windows = experiment["windows"]
        plan = await self._plan(experiment)
        for case in plan["cases"]:
            cell = plan["cells"].get((case["id"], 0))
            targets = _targets(windows, cell)
            if not targets:
                continue
            before = cell["turn_id"] if cell else None
            chains = await self.db.read(_chains, [w["id"] for w in targets], before)
            (runs,) = await self._launch_shielded(
                experiment, plan, [(case, 0, cell, targets)], chains
            )
            turn_task = self.fanout.running[runs[0].turn_id].task
            assert turn_task is not None
            await asyncio.shield(turn_task)

    async def _launch_shielded(
        self, experiment: dict[str, Any], *args: Any
    ) -> list[list[WindowRun]]:
        task = asyncio.ensure_future(self._launch(experiment, *args))
        self._launching[experiment["id"]] = task
        try:
            return await asyncio.shield(task)
        finally:
            if task.done():
                self._launching.pop(experiment["id"], None)

    async def _launch(
        self,
        experiment: dict[str, Any],
        plan: dict[str, Any],
        batch: list[tuple[dict[str, Any], int, dict[str, Any] | None, list[dict[str, Any]]]],
        chains: dict[int, list[dict[str, str]]] | None,
    ) -> list[list[WindowRun]]:
        """Store (or reset) the rows of a batch of cells in one transaction, then start
        their calls: one turn per (case, sample)."""
        stored = await self.db.write(store.store_cells, experiment, batch, self.fanout.runner)
        launched = []
        for (case, _sample, _cell, targets), (turn_id, ids) in zip(batch, stored, strict=True):
            runs = []
            for window in targets:
                model = plan["models"][window["model_id"]]
                system = window["system_prompt"] or experiment["system_prompt"]
                context = (chains or {}).get(window["id"], [])
                runs.append(
                    WindowRun(
                        window_id=window["id"],
                        model_id=model["id"],
                        model=model,
                        params=merged(model["default_params"] or {}, window["params"] or {}),
                        messages=[
                            *([{"role": "system", "content": system}] if system else []),
                            *context,
                            {"role": "user", "content": case["prompt"]},
                        ],
                        turn_id=turn_id,
                        result_id=ids[window["id"]][0],
                        message_id=ids[window["id"]][1],
                    )
                )
            self.fanout.begin(runs)
            turn = self.fanout.launch(turn_id, runs)
            in_flight = self._turns.setdefault(experiment["id"], set())
            in_flight.add(turn_id)
            assert turn.task is not None
            turn.task.add_done_callback(lambda _t, t=turn_id, s=in_flight: s.discard(t))
            launched.append(runs)
        return launched


class _Slots:
    """Calls an experiment may still start; taken several at once, given back one by
    one as calls end (all on the event loop's thread)."""

    def __init__(self, size: int) -> None:
        self.free = size
        self._changed = asyncio.Event()

    def try_take(self, need: int) -> bool:
        if self.free < need:
            return False
        self.free -= need
        return True

    async def take(self, need: int) -> None:
        while not self.try_take(need):
            self._changed.clear()
            await self._changed.wait()

    def release(self) -> None:
        self.free += 1
        self._changed.set()


def _targets(windows: list[dict[str, Any]], cell: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The windows of a case's sample still to run: all of them when it never ran, else
    those whose result did not succeed."""
    if cell is None:
        return list(windows)
    return [
        w
        for w in windows
        if w["id"] in cell["windows"] and cell["windows"][w["id"]][2] != "succeeded"
    ]


def _chains(conn: Any, window_ids: list[int], before: int | None) -> dict[int, list]:
    return {w: store.chain_before(conn, w, before) for w in window_ids}
