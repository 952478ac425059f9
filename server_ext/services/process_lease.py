"""This server process's lease on the work it runs (DESIGN §8, "Ownership and several
processes").

The process registers itself when it starts and renews its lease every quarter of the
lease's length. Each renewal also sweeps: results whose process stopped heartbeating
become INTERRUPTED (their checkpointed text kept), and expired stream tickets are
forgotten. Start-up sweeps once before serving, so what a crashed process left running
is settled at once when the crashed process was on this host, and within the lease
otherwise — but never the work of a process that is still alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket

from ..store import processes as process_store
from ..store.db import Database

log = logging.getLogger("chatmore")


class ProcessLease:
    def __init__(self, db: Database, lease_seconds: float) -> None:
        self.db = db
        self.lease_seconds = lease_seconds
        self.host = socket.gethostname()[:200]
        self.pid = os.getpid()
        self.id = f"{self.host}:{self.pid}:{secrets.token_hex(4)}"
        self._task: asyncio.Task | None = None

    @property
    def period(self) -> float:
        return self.lease_seconds / 4

    def register_sync(self) -> None:
        """Register and settle what stopped processes left running (before serving)."""
        self.db.write_sync(
            process_store.register, self.id, self.host, self.pid, self.lease_seconds
        )
        self._report(self.db.write_sync(process_store.sweep, self.host))

    def start(self) -> None:
        self._task = asyncio.create_task(self._beat(), name="process-lease")

    async def stop(self) -> None:
        """Stop renewing and leave: call once this process's results are finalised."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.db.write(process_store.deregister, self.id)
        except Exception:
            log.warning("could not remove this server from server_processes", exc_info=True)

    async def renew(self) -> None:
        """One heartbeat: renew the lease, sweep, prune spent tickets."""
        kept = await self.db.write(
            process_store.renew, self.id, self.host, self.pid, self.lease_seconds
        )
        if not kept:
            log.warning(
                "this server's lease had run out (a pause of over %ss?); registered again",
                self.lease_seconds,
            )
        self._report(await self.db.write(process_store.sweep, self.host))
        await self.db.write(process_store.prune_tickets)

    async def _beat(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.period)
            try:
                await self.renew()
            except Exception:
                if not failing:  # once per streak
                    log.exception("could not renew this server's lease; retrying")
                failing = True
            else:
                failing = False

    @staticmethod
    def _report(interrupted: int) -> None:
        if interrupted:
            log.warning(
                "%d replies were left streaming by a server that stopped: INTERRUPTED",
                interrupted,
            )
