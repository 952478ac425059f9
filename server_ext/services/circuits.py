"""Circuit breakers per model (DESIGN §12): a model that keeps failing is left alone for
a while instead of being called again and again.

After ``circuit_failures`` connect errors, timeouts or 5xx answers in a row (each within
``circuit_window`` of the first), the model's circuit opens: its calls — board windows
and gateway calls alike — fail at once with PROVIDER_CIRCUIT_OPEN. When
``circuit_cooldown`` has passed, exactly one call (across processes) goes through as a
probe: an answer closes the circuit, another failure opens it for a new cool-down. Any
answer from the provider (a reply, a 4xx, a refused key) ends a run of failures; a
cancelled call or a reply that broke midway counts neither way.

The state lives in the database (``store/circuits.py``), shared by every process; each
process trusts what it read for :data:`CACHE_SECONDS` (its own changes at once), so a
circuit another process opened is seen within that time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from ..config import Settings
from ..errors import ChatMoreError
from ..metrics import CIRCUIT_STATE
from ..store import circuits as circuit_store
from ..store.db import Database, utcnow
from .provider_client import ProviderError

log = logging.getLogger("chatmore.circuits")

T = TypeVar("T")

CACHE_SECONDS = 1.0
STATE_VALUES = {"closed": 0, "half_open": 1, "open": 2}
# Failures that say the provider is down, rather than that it refused this one request.
DOWN_CODES = frozenset({"PROVIDER_UNREACHABLE", "PROVIDER_TIMEOUT"})


def outcome_of(error: BaseException | None) -> str:
    """``success``, ``failure`` or ``neutral`` for the breaker, from how a call ended."""
    if error is None:
        return "success"
    if isinstance(error, ProviderError):
        if error.code in DOWN_CODES or (error.http_status or 0) >= 500:
            return "failure"
        if error.code == "PROVIDER_BAD_RESPONSE":
            return "neutral"
        return "success"  # the provider answered (a 4xx, a refused key, a 429)
    return "neutral"


class CircuitBreakers:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.threshold = settings.circuit_failures
        self.window = dt.timedelta(seconds=settings.circuit_window)
        self.cooldown = dt.timedelta(seconds=settings.circuit_cooldown)
        self._rows: dict[int, tuple[dict[str, Any] | None, float]] = {}

    @property
    def enabled(self) -> bool:
        return self.threshold > 0

    def _remember(self, model_id: int, name: str, row: dict[str, Any] | None) -> None:
        self._rows[model_id] = (row, time.monotonic() + CACHE_SECONDS)
        CIRCUIT_STATE.labels(name).set(STATE_VALUES[row["state"] if row else "closed"])

    async def _row(self, model_id: int, name: str) -> dict[str, Any] | None:
        cached = self._rows.get(model_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        row = await self.db.read(circuit_store.get, model_id)
        self._remember(model_id, name, row)
        return row

    def _refusal(self, name: str, row: dict[str, Any], now: dt.datetime) -> ChatMoreError:
        opened = row["opened_at"] or now
        wait = max(1, int((opened + self.cooldown - now).total_seconds() + 0.999))
        return ChatMoreError(
            "PROVIDER_CIRCUIT_OPEN",
            f"the model {name!r} failed {self.threshold} times in a row; it is called "
            f"again after a cool-down (about {wait} s)",
            retry_after=wait,
        )

    async def allow(self, model_id: int, name: str) -> bool:
        """Let a call through (True: it is the probe of an open circuit) or raise
        PROVIDER_CIRCUIT_OPEN."""
        if not self.enabled:
            return False
        row = await self._row(model_id, name)
        if row is None or row["state"] == "closed":
            return False
        now = utcnow()
        if row["state"] == "open" and row["opened_at"] + self.cooldown > now:
            raise self._refusal(name, row, now)
        if await self.db.write(circuit_store.take_probe, model_id, now, cooldown=self.cooldown):
            self._remember(model_id, name, {**row, "state": "half_open"})
            return True
        self._rows.pop(model_id, None)  # another call probes: read its verdict next time
        raise self._refusal(name, {**row, "opened_at": row["opened_at"] or now}, now)

    async def report(
        self, model_id: int, name: str, error: BaseException | None, *, probe: bool
    ) -> None:
        """How a call that was let through ended."""
        if not self.enabled:
            return
        outcome = outcome_of(error)
        now = utcnow()
        if outcome == "failure":
            row = await self.db.write(
                circuit_store.record_failure,
                model_id,
                now,
                threshold=self.threshold,
                window=self.window,
            )
            self._remember(model_id, name, row)
        elif outcome == "success":
            cached = self._rows.get(model_id)
            row = cached[0] if cached else None
            if probe or (row is not None and (row["failures"] or row["state"] != "closed")):
                await self.db.write(circuit_store.record_success, model_id, now)
                self._remember(model_id, name, None)
        elif probe:
            await self.db.write(circuit_store.release_probe, model_id, now)
            self._rows.pop(model_id, None)

    async def guard(self, model: dict[str, Any], call: Coroutine[Any, Any, T]) -> T:
        """Run ``call`` (a provider call of ``model``) behind the model's breaker."""
        try:
            probe = await self.allow(model["id"], model["name"])
        except BaseException:
            call.close()
            raise
        try:
            result = await call
        except BaseException as exc:  # a cancellation counts neither way
            await self._report_aside(model, exc, probe=probe)
            raise
        await self._report_aside(model, None, probe=probe)
        return result

    async def _report_aside(
        self, model: dict[str, Any], error: BaseException | None, *, probe: bool
    ) -> None:
        """Report the call's end; the breaker's bookkeeping never changes how the call
        ended (a database that fails to record it is logged, the call's error stands)."""
        try:
            await asyncio.shield(self.report(model["id"], model["name"], error, probe=probe))
        except Exception:
            log.warning(
                "circuit of model %s: the call's end could not be recorded",
                model["name"],
                exc_info=True,
            )

    async def states(self) -> dict[int, dict[str, Any]]:
        """Every model's circuit as stored (models never failed are closed, absent)."""
        rows = await self.db.read(circuit_store.get_all)
        now = utcnow()
        shown = {}
        for model_id, row in rows.items():
            retry_at = None
            if row["state"] == "open" and row["opened_at"] is not None:
                retry_at = max(now, row["opened_at"] + self.cooldown)
            shown[model_id] = {
                "state": row["state"],
                "failures": row["failures"],
                "opened_at": row["opened_at"],
                "retry_at": retry_at,
            }
        return shown
