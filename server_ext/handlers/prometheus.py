"""``chatmore/metrics``: Prometheus metrics for admins and for a scraper with the
configured token (CHATMORE_METRICS_TOKEN). Without a token only admins may read them."""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from ..errors import ChatMoreError
from .base import ApiHandler
from .operations import operation


class MetricsHandler(ApiHandler):
    @operation(
        "Prometheus metrics (admins, or the metrics token as a bearer)",
        access="metrics",
        answers={200: "text/plain"},
    )
    async def get(self) -> None:
        header = self.request.headers.get("Authorization", "")
        token = self.runtime.settings.metrics_token
        presented = header.partition(" ")[2].strip()
        if not (token and presented and hmac.compare_digest(presented, token)):
            user = await self.runtime.auth.authenticate(header or None)
            if not user.is_admin:
                raise ChatMoreError("FORBIDDEN", "metrics are for admins and the scraper")
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(REGISTRY))
