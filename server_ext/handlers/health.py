"""``GET chatmore/healthz``: is the server up and does its database answer? No auth."""

from __future__ import annotations

from ..services import schemas as s
from ..store.db import describe_db_error
from .base import ApiHandler
from .operations import operation


class HealthHandler(ApiHandler):
    @operation(
        "Is the server up and does its database answer?",
        access="public",
        answers={200: s.HEALTH, 503: s.HEALTH},
    )
    async def get(self) -> None:
        try:
            await self.runtime.db.ping()
        except Exception as exc:  # any failure to answer is "unavailable"
            self.send(
                {
                    "status": "unavailable",
                    "database": "unreachable",
                    "reason": describe_db_error(exc),
                },
                status=503,
            )
            return
        self.send({"status": "ok", "database": "ok"})
