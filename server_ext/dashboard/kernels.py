"""Which dashboard kernels run for whom: caps per visitor and in total, and the cull of a
kernel whose page never connected.

A page's kernel (~130 MB) starts only for a signed-in visitor (``gate.py``). Before it
starts, the page handler reserves a place in the :class:`KernelLedger`; the kernel
manager binds the reservation to the kernel it starts, learns when the page connects,
and frees the place when the kernel goes. A kernel whose page has not connected within
``dashboard_connect_timeout`` of being served (a page fetched by a script, or closed
while loading) is shut down.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Any as AnyTrait

# The kernel environment variable that carries the page's reservation to the manager
# (Voilà passes the request header X-ChatMore-Reservation as HTTP_X_CHATMORE_RESERVATION);
# the manager takes it out before the kernel starts.
RESERVATION_HEADER = "X-ChatMore-Reservation"
RESERVATION_ENV = "HTTP_X_CHATMORE_RESERVATION"


@dataclass
class KernelLedger:
    """Places for kernels: at most ``per_user`` per visitor and ``total`` in all,
    counting the ones being started."""

    per_user: int
    total: int
    _pending: dict[str, int] = field(default_factory=dict)  # reservation → user id
    _owners: dict[str, int] = field(default_factory=dict)  # kernel id → user id
    _bound: dict[str, str] = field(default_factory=dict)  # reservation → kernel id
    _connected: set[str] = field(default_factory=set)

    def reserve(self, user_id: int) -> str | None:
        """A reservation for one more kernel of ``user_id``; None when a cap is reached."""
        users = [*self._pending.values(), *self._owners.values()]
        if len(users) >= self.total or users.count(user_id) >= self.per_user:
            return None
        reservation = secrets.token_urlsafe(12)
        self._pending[reservation] = user_id
        return reservation

    def bind(self, reservation: str | None, kernel_id: str) -> None:
        user_id = self._pending.pop(reservation or "", None)
        if user_id is not None and reservation:
            self._owners[kernel_id] = user_id
            self._bound[reservation] = kernel_id

    def settle(self, reservation: str) -> str | None:
        """The kernel started for ``reservation``, if any; a reservation no kernel was
        started for is given back."""
        self._pending.pop(reservation, None)
        return self._bound.pop(reservation, None)

    def connect(self, kernel_id: str) -> None:
        self._connected.add(kernel_id)

    def ever_connected(self, kernel_id: str) -> bool:
        return kernel_id in self._connected

    def release(self, kernel_id: str) -> None:
        self._owners.pop(kernel_id, None)
        self._connected.discard(kernel_id)

    def owner(self, kernel_id: str) -> int | None:
        return self._owners.get(kernel_id)

    def count(self, user_id: int | None = None) -> int:
        owners = self._owners.values()
        return len(owners) if user_id is None else sum(1 for u in owners if u == user_id)


class DashboardKernelManager(AsyncMappingKernelManager):
    """Jupyter's kernel manager, keeping the ledger and culling unconnected kernels."""

    ledger = AnyTrait(None, allow_none=True, help="The KernelLedger (set by the app).")
    connect_timeout = AnyTrait(60.0, help="Seconds a new kernel waits for its page.")

    async def start_kernel(  # type: ignore[override]
        self, *, kernel_id: str | None = None, path: Any = None, **kwargs: Any
    ) -> str:
        env = kwargs.get("env") or {}
        reservation = env.pop(RESERVATION_ENV, None)
        kernel_id = await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        if self.ledger is not None:
            self.ledger.bind(reservation, kernel_id)
        return kernel_id

    def expect_page(self, kernel_id: str) -> None:
        """The page of ``kernel_id`` was served: it must connect within the timeout."""
        loop = asyncio.get_running_loop()
        loop.call_later(
            float(self.connect_timeout),
            lambda: asyncio.ensure_future(self._cull_if_never_connected(kernel_id)),
        )

    def notify_connect(self, kernel_id: str) -> None:
        super().notify_connect(kernel_id)
        if self.ledger is not None:
            self.ledger.connect(kernel_id)

    async def shutdown_kernel(  # type: ignore[override]
        self, kernel_id: str, now: bool = False, restart: bool = False
    ) -> None:
        # The place frees up as the shutdown starts, not when the process is gone.
        if self.ledger is not None and not restart:
            self.ledger.release(kernel_id)
        await super().shutdown_kernel(kernel_id, now=now, restart=restart)

    def remove_kernel(self, kernel_id: str) -> Any:
        if self.ledger is not None:
            self.ledger.release(kernel_id)
        return super().remove_kernel(kernel_id)

    async def _cull_if_never_connected(self, kernel_id: str) -> None:
        if kernel_id not in self or self.ledger is None:
            return
        if self.ledger.ever_connected(kernel_id):
            return
        self.log.info(
            "Culling kernel %s: its page did not connect within %g s",
            kernel_id,
            float(self.connect_timeout),
        )
        await self.shutdown_kernel(kernel_id)
