"""Fan-out: one turn's windows run concurrently, each against its own model.

Every window is its own task with its own limits (the provider client's timeouts), so a
slow or failing model never holds up or breaks the others; a per-model semaphore keeps
the number of calls in flight to one provider bounded. Deltas are coalesced per window
(the first at once, then at most one chunk event every ``COALESCE_SECONDS``) into the
turn's event log. A single checkpointer writes the partial text of every streaming
result about once a second, in one transaction; each result is finalised once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..errors import ChatMoreError
from ..metrics import (
    PROVIDER_LATENCY,
    PROVIDER_REQUESTS,
    PROVIDER_STREAMS,
    PROVIDER_TOKENS,
    PROVIDER_TTFT,
)
from ..store import turns as turn_store
from ..store.db import Database, utcnow
from ..streaming.events import chunk_event, chunk_time, done_event, end_event
from ..streaming.turn_log import TurnLog, TurnLogs
from .circuits import CircuitBreakers
from .models import ModelService
from .params import DEFAULT_TIMEOUT_MS, UPSTREAM_PARAMS
from .pricing import cost_of
from .provider_client import Delta, ProviderClient, ProviderError, StreamEnd

log = logging.getLogger("chatmore.turns")

COALESCE_SECONDS = 0.025
CHECKPOINT_SECONDS = 1.0
SHUTDOWN_GRACE_SECONDS = 10.0


@dataclass
class WindowRun:
    """One window's part of a turn, from queued to its outcome.

    Its call may start before the turn's rows are written (``FanOut.begin``); the ids and
    the turn's log arrive with ``FanOut.launch``, and nothing of the call is shown or
    stored before then."""

    window_id: int
    model_id: int
    model: dict[str, Any]
    params: dict[str, Any]  # effective: the window's overrides over the model's defaults
    messages: list[dict[str, str]]  # sent upstream
    turn_id: int = 0
    result_id: int = 0
    message_id: int = 0
    turn_log: TurnLog | None = None
    stored: asyncio.Event = field(default_factory=asyncio.Event)
    status: str = "queued"
    started_at: Any = None  # utc datetime when the call started
    started: float = 0.0  # monotonic
    first_delta: float | None = None
    last_delta: float | None = None
    parts: list[str] = field(default_factory=list)  # emitted chunk texts
    pending: list[str] = field(default_factory=list)  # received, not yet emitted
    length: int = 0  # characters emitted
    # (seq, end, t_ms) of each chunk event: tuples of ints, which the GC leaves alone
    chunks: list[tuple[int, int, int]] = field(default_factory=list)
    last_emit: float = 0.0
    flush_handle: asyncio.TimerHandle | None = None
    dirty: bool = False
    cancel_reason: str | None = None  # "user", "shutdown" or "abandoned" (never stored)
    # The call is over and its outcome is being written: a cancel no longer applies (it
    # would leave that write running alone and the reply shown as still streaming).
    ending: bool = False
    task: asyncio.Task | None = None

    def text(self) -> str:
        return "".join(self.parts) + "".join(self.pending)

    def ms_since_start(self, at: float | None = None) -> int:
        return int(((at or time.monotonic()) - self.started) * 1000)


@dataclass
class TurnRun:
    turn_id: int
    log: TurnLog
    windows: dict[int, WindowRun]
    task: asyncio.Task | None = None


class FanOut:
    def __init__(
        self,
        db: Database,
        models: ModelService,
        client: ProviderClient,
        *,
        model_concurrency: int,
        runner: str | None = None,
    ) -> None:
        self.db = db
        self.models = models
        self.client = client
        # This process's id (server_processes): it alone writes the results it runs.
        self.runner = runner
        self.logs = TurnLogs()
        self.running: dict[int, TurnRun] = {}
        self._limits: dict[int, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(model_concurrency)
        )
        self._checkpointer: asyncio.Task | None = None
        self._checkpoint_failures = 0
        # Final writes the database refused (it was unreachable, say): retried with every
        # checkpoint until they land, so that no outcome is lost while this process lives.
        self._unwritten: dict[tuple[Any, ...], tuple[Any, dict[str, Any]]] = {}
        # Per-model circuit breakers (services/circuits.py), set by the runtime.
        self.circuits: CircuitBreakers | None = None

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._checkpointer = asyncio.create_task(self._checkpoint_loop(), name="checkpointer")

    async def stop(self) -> None:
        """Stop every running turn: their results end as INTERRUPTED, text kept."""
        for turn in list(self.running.values()):
            for run in turn.windows.values():
                if run.task and not run.task.done() and not run.ending:
                    run.cancel_reason = "shutdown"
                    run.task.cancel()
        tasks = [t.task for t in self.running.values() if t.task]
        if tasks:
            await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
        with contextlib.suppress(Exception):
            await self.write_unwritten()
        if self._checkpointer:
            self._checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpointer

    # -- a turn -------------------------------------------------------------------------

    def begin(self, runs: list[WindowRun]) -> None:
        """Start the windows' calls at once; they wait for :meth:`launch` before showing
        or storing anything."""
        for run in runs:
            run.task = asyncio.create_task(self._run_window(run))

    def abandon(self, runs: list[WindowRun]) -> None:
        """Drop calls whose turn could not be stored: nothing of them was shown."""
        for run in runs:
            run.cancel_reason = "abandoned"
            if run.task:
                run.task.cancel()

    def launch(self, turn_id: int, runs: list[WindowRun]) -> TurnRun:
        """The turn is stored: open its log and let its windows report."""
        turn = TurnRun(turn_id, self.logs.open(turn_id), {r.window_id: r for r in runs})
        self.running[turn_id] = turn
        for run in runs:
            run.turn_log = turn.log
            run.stored.set()
        turn.task = asyncio.create_task(self._finish_turn(turn))
        return turn

    def cancel(self, turn_id: int, window_ids: list[int] | None) -> list[int]:
        """Stop running windows of a turn; returns the ids actually cancelled."""
        turn = self.running.get(turn_id)
        if turn is None:
            return []
        cancelled = []
        for window_id, run in turn.windows.items():
            if window_ids is not None and window_id not in window_ids:
                continue
            if run.task and not run.task.done() and run.cancel_reason is None and not run.ending:
                run.cancel_reason = "user"
                run.task.cancel()
                cancelled.append(window_id)
        return cancelled

    async def _finish_turn(self, turn: TurnRun) -> None:
        # wait(), not gather(): a window's task that ended in an error or a cancel must not
        # keep the turn from being ended.
        windows = [r.task for r in turn.windows.values() if r.task]
        if windows:
            await asyncio.wait(windows)
        for run in turn.windows.values():
            if run.status in turn_store.ACTIVE and run.cancel_reason != "abandoned":
                # Its task ended before it could write an outcome (a stop that came before
                # the task ever ran, say): the result is never left queued or streaming.
                error = (
                    ("CANCELLED", "stopped by the user")
                    if run.cancel_reason == "user"
                    else ("INTERRUPTED", "the server stopped while this reply was streaming")
                )
                await asyncio.shield(self._finalize(run, None, error, (None, None)))
        await asyncio.shield(
            self._write_final(("turn", turn.turn_id), turn_store.finish_turn, turn_id=turn.turn_id)
        )
        statuses = [r.status for r in turn.windows.values()]
        turn.log.append(done_event(turn.log.next_seq(), turn.turn_id, statuses))
        turn.log.finish()
        self.running.pop(turn.turn_id, None)
        log.info(
            "turn %s done: %s",
            turn.turn_id,
            {s: statuses.count(s) for s in set(statuses)},
        )

    # -- a window -----------------------------------------------------------------------

    async def _run_window(self, run: WindowRun) -> None:
        end: StreamEnd | None = None
        error: tuple[str, str] | None = None
        timing: tuple[int | None, int | None] = (None, None)
        try:
            async with self._limits[run.model_id]:
                with _counted(PROVIDER_STREAMS):
                    call = self._call(run)
                    end = await (self.circuits.guard(run.model, call) if self.circuits else call)
            if end is None:
                error = ("PROVIDER_BAD_RESPONSE", "the stream ended without a result")
        except ProviderError as exc:
            error, timing = (exc.code, exc.message), (exc.ttft_ms, exc.latency_ms)
        except ChatMoreError as exc:
            error = (exc.code, exc.message)
        except asyncio.CancelledError:
            if run.cancel_reason is None:
                raise
            if run.cancel_reason == "abandoned":
                return
            if run.cancel_reason == "user":
                error = ("CANCELLED", "stopped by the user")
            else:
                error = ("INTERRUPTED", "the server stopped while this reply was streaming")
        except Exception:
            log.exception("turn %s window %s: unexpected failure", run.turn_id, run.window_id)
            error = ("INTERNAL_ERROR", "an unexpected error ended this reply")
        run.ending = True
        try:
            await run.stored.wait()  # at once, unless the call failed before its rows exist
        except asyncio.CancelledError:
            if run.cancel_reason != "abandoned":
                raise
            return
        self._emit(run)
        await asyncio.shield(self._finalize(run, end, error, timing))

    async def _call(self, run: WindowRun) -> StreamEnd | None:
        """The provider call of one window, its deltas fed to the turn's log."""
        run.status, run.started_at, run.started = "streaming", utcnow(), time.monotonic()
        run.dirty = True
        target = self.models.target(run.model)
        timeout_ms = run.params.get("timeout_ms", DEFAULT_TIMEOUT_MS)
        target = dataclasses.replace(target, timeout_s=timeout_ms / 1000)
        upstream = {k: v for k, v in run.params.items() if k in UPSTREAM_PARAMS}
        end = None
        async with contextlib.aclosing(
            self.client.stream(target, run.messages, upstream)
        ) as items:
            async for item in items:
                if not run.stored.is_set():  # a provider faster than the write
                    await run.stored.wait()
                if isinstance(item, Delta):
                    self._on_delta(run, item.text)
                else:
                    end = item
        return end

    def _on_delta(self, run: WindowRun, text: str) -> None:
        if not text:
            return
        now = time.monotonic()
        if run.first_delta is None:
            run.first_delta = now
        run.last_delta = now
        run.pending.append(text)
        if run.flush_handle is not None:
            return
        wait = run.last_emit + COALESCE_SECONDS - now
        if wait <= 0:
            self._emit(run)
        else:
            run.flush_handle = asyncio.get_running_loop().call_later(wait, self._emit, run)

    def _emit(self, run: WindowRun) -> None:
        """Turn the pending deltas into one chunk event."""
        turn_log = run.turn_log
        assert turn_log is not None
        if run.flush_handle is not None:
            run.flush_handle.cancel()
            run.flush_handle = None
        if not run.pending:
            return
        text = "".join(run.pending)
        run.pending.clear()
        run.parts.append(text)
        run.length += len(text)
        seq = turn_log.next_seq()
        t_ms = run.ms_since_start()
        run.chunks.append((seq, run.length, t_ms))
        run.last_emit = time.monotonic()
        run.dirty = True
        ts = chunk_time(run.started_at, t_ms)
        turn_log.append(chunk_event(seq, run.turn_id, run.window_id, run.model_id, text, ts))

    async def _finalize(
        self,
        run: WindowRun,
        end: StreamEnd | None,
        error: tuple[str, str] | None,
        timing: tuple[int | None, int | None],
    ) -> None:
        now = time.monotonic()
        started = run.started_at is not None
        values: dict[str, Any] = {
            "started_at": run.started_at,
            "finished_at": utcnow(),
            "ttft_ms": run.ms_since_start(run.first_delta) if run.first_delta else None,
            "latency_ms": run.ms_since_start(now) if started else None,
            "decode_ms": (
                int((run.last_delta - run.first_delta) * 1000)
                if run.first_delta and run.last_delta and run.last_delta > run.first_delta
                else None
            ),
        }
        if end is not None and error is None:
            usage = end.usage
            values.update(
                status="succeeded",
                error_code=None,  # a stop asked for too late is no error
                error_message=None,
                finish_reason=end.finish_reason,
                prompt_tokens=usage.prompt_tokens if usage else None,
                completion_tokens=usage.completion_tokens if usage else None,
                total_tokens=usage.total_tokens if usage else None,
                ttft_ms=end.ttft_ms,
                latency_ms=end.latency_ms,
                decode_ms=end.decode_ms,
            )
        else:
            code, message = error or ("INTERNAL_ERROR", "no outcome")
            status = "cancelled" if code == "CANCELLED" else "failed"
            values.update(status=status, error_code=code, error_message=message[:500])
            if timing[1] is not None:
                values["ttft_ms"], values["latency_ms"] = timing
        values["cost"] = cost_of(
            run.model, values.get("prompt_tokens"), values.get("completion_tokens")
        )
        run.status = values["status"]
        turn_log = run.turn_log
        assert turn_log is not None
        seq = turn_log.next_seq()
        values["event_log"] = {"chunks": run.chunks, "end": seq}
        # The event goes out first so that ids stay in order in the log; the row follows.
        turn_log.append(end_event(seq, run.turn_id, {**values, **_ids(run)}))
        await self._write_final(
            ("result", run.result_id),
            turn_store.finalize_result,
            result_id=run.result_id,
            message_id=run.message_id,
            runner=self.runner,
            content=run.text(),
            values=values,
        )
        run.dirty = False
        _observe(run.model["name"], values)
        log.info(
            "result turn=%s window=%s model=%s status=%s code=%s ttft_ms=%s latency_ms=%s "
            "completion_tokens=%s",
            run.turn_id,
            run.window_id,
            run.model_id,
            values["status"],
            values.get("error_code"),
            values["ttft_ms"],
            values["latency_ms"],
            values.get("completion_tokens"),
        )

    async def _write_final(self, key: tuple[Any, ...], fn: Any, **kwargs: Any) -> None:
        """Write an outcome once; if the database refuses, keep it for the retries."""
        try:
            written = await self.db.write(fn, **kwargs)
        except Exception:
            log.exception("could not store %s %s; retrying with each checkpoint", *key)
            self._unwritten[key] = (fn, kwargs)
            return
        if written is False:
            log.warning(
                "%s %s: another server marked it INTERRUPTED (this one's lease had run "
                "out); its outcome was not stored",
                *key,
            )

    async def write_unwritten(self) -> None:
        for key, (fn, kwargs) in list(self._unwritten.items()):
            await self.db.write(fn, **kwargs)
            del self._unwritten[key]
            log.warning("stored %s %s after all", *key)

    # -- checkpoints --------------------------------------------------------------------

    def _dirty_runs(self) -> list[WindowRun]:
        return [
            run
            for turn in self.running.values()
            for run in turn.windows.values()
            if run.dirty and run.status in turn_store.ACTIVE
        ]

    async def checkpoint_now(self) -> None:
        """Write the progress of every streaming result changed since the last
        checkpoint, in one transaction. A result stays dirty until its write succeeds,
        so a failed checkpoint is retried by the next one."""
        runs = self._dirty_runs()
        if not runs:
            return
        items = []
        for run in runs:
            run.dirty = False
            items.append(
                {
                    "rid": run.result_id,
                    "mid": run.message_id,
                    "status": run.status,
                    "started_at": run.started_at,
                    "event_log": {"chunks": list(run.chunks), "end": None},
                    "content": "".join(run.parts),
                }
            )
        try:
            await self.db.write(turn_store.checkpoint, items)
        except BaseException:
            for run in runs:
                run.dirty = True
            raise

    async def stop_requested(self) -> None:
        """Stop the results that a user asked another server process to stop."""
        runs = {
            run.result_id: run
            for turn in self.running.values()
            for run in turn.windows.values()
            if run.task and not run.task.done() and run.cancel_reason is None and not run.ending
        }
        if not runs:
            return
        for result_id in await self.db.read(turn_store.cancel_requests, list(runs)):
            run = runs[result_id]
            if run.cancel_reason is None and run.task and not run.task.done():
                run.cancel_reason = "user"
                run.task.cancel()

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                await self.write_unwritten()
                await self.stop_requested()
                await self.checkpoint_now()
            except Exception:
                # Once per streak of failures, not every second.
                if not self._checkpoint_failures:
                    log.exception("checkpoint failed; retrying every %ss", CHECKPOINT_SECONDS)
                self._checkpoint_failures += 1
            else:
                if self._checkpoint_failures:
                    log.warning(
                        "checkpoints work again after %d failed attempts",
                        self._checkpoint_failures,
                    )
                self._checkpoint_failures = 0


@contextlib.contextmanager
def _counted(gauge: Any) -> Any:
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


def _observe(model: str, values: dict[str, Any]) -> None:
    """Prometheus figures of one finished result."""
    PROVIDER_REQUESTS.labels(model, values["status"], values.get("error_code") or "").inc()
    if values["status"] != "succeeded":
        return
    if values["latency_ms"] is not None:
        PROVIDER_LATENCY.labels(model).observe(values["latency_ms"] / 1000)
    if values["ttft_ms"] is not None:
        PROVIDER_TTFT.labels(model).observe(values["ttft_ms"] / 1000)
    for kind in ("prompt", "completion"):
        if values.get(f"{kind}_tokens"):
            PROVIDER_TOKENS.labels(model, kind).inc(values[f"{kind}_tokens"])


def _ids(run: WindowRun) -> dict[str, int]:
    return {"window_id": run.window_id, "model_id": run.model_id}
