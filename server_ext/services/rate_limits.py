"""Rate limits (DESIGN §12): requests and tokens per minute and concurrent streams, per
user and per personal API key, on board turns and gateway calls alike.

A limit of 0 is no limit. A user's limits are the settings' unless an admin set
overrides for them; a key's are the ``key_rate_limit_*`` settings, within its owner's.
Windows slide: "per minute" is the 60 seconds before the request. What counts is what
the database holds (``store/rate_limits.py``), so several server processes on one
database enforce one limit. :meth:`RateLimiter.admit` runs inside the transaction that
writes the turn's rows, after locking the user's row, so that two admissions of one user
cannot both take the last place. Over a limit is RATE_LIMITED (429) with the seconds to
wait (``retry_after``, sent as ``Retry-After``).

Tokens are counted when a reply reports them, so a call in flight does not count yet;
a user already over the tokens limit waits until enough of the window has passed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any

from ..config import Settings
from ..errors import ChatMoreError, validation
from ..store import rate_limits as limit_store
from ..store.db import Database, utcnow

WINDOW = dt.timedelta(seconds=60)
# Below this share of every limit, a caller is "roomy": its upstream call may start while
# the admission is written (it would take many concurrent calls to cross the limit
# meanwhile). Nearer the limit, the call waits for the admission.
ROOMY_SHARE = 0.5
MAX_LIMIT = 10**12


@dataclass(frozen=True)
class Limits:
    requests_per_minute: int
    tokens_per_minute: int
    concurrent_streams: int

    def over(self, overrides: dict[str, Any] | None) -> Limits:
        if not overrides:
            return self
        values = asdict(self)
        for name in limit_store.OVERRIDE_FIELDS:
            if overrides.get(name) is not None:
                values[name] = int(overrides[name])
        return Limits(**values)


def _retry_after(first: dt.datetime | None, at: dt.datetime) -> int:
    if first is None:
        return 1
    return max(1, math.ceil((first + WINDOW - at).total_seconds()))


def _check(
    usage: limit_store.Usage, limits: Limits, streams: int, at: dt.datetime, who: str
) -> float:
    """Raise RATE_LIMITED if one more request of ``streams`` streams is over a limit;
    return the largest share of a limit it uses."""
    share = 0.0
    if limits.requests_per_minute:
        if usage.requests + 1 > limits.requests_per_minute:
            raise ChatMoreError(
                "RATE_LIMITED",
                f"{who} may start {limits.requests_per_minute} requests per minute",
                limit="requests_per_minute",
                retry_after=_retry_after(usage.first_request_at, at),
            )
        share = max(share, (usage.requests + 1) / limits.requests_per_minute)
    if limits.tokens_per_minute:
        if usage.tokens >= limits.tokens_per_minute:
            raise ChatMoreError(
                "RATE_LIMITED",
                f"{who} may use {limits.tokens_per_minute} tokens per minute",
                limit="tokens_per_minute",
                retry_after=_retry_after(usage.first_token_at, at),
            )
        share = max(share, usage.tokens / limits.tokens_per_minute)
    if limits.concurrent_streams:
        if usage.streams + streams > limits.concurrent_streams:
            raise ChatMoreError(
                "RATE_LIMITED",
                f"{who} may have {limits.concurrent_streams} replies streaming at once",
                limit="concurrent_streams",
                retry_after=1,
            )
        share = max(share, (usage.streams + streams) / limits.concurrent_streams)
    return share


class RateLimiter:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.user_defaults = Limits(
            settings.rate_limit_requests_per_minute,
            settings.rate_limit_tokens_per_minute,
            settings.rate_limit_concurrent_streams,
        )
        self.key_limits = Limits(
            settings.key_rate_limit_requests_per_minute,
            settings.key_rate_limit_tokens_per_minute,
            settings.key_rate_limit_concurrent_streams,
        )
        # (user_id, key_id) -> whether its last admission left it far from every limit.
        self._roomy: dict[tuple[int, int | None], bool] = {}

    def roomy(self, user_id: int, key_id: int | None) -> bool:
        """Whether the caller's call may start before its admission is written."""
        return self._roomy.get((user_id, key_id), False)

    def admit(
        self, conn: Any, *, user_id: int, key_id: int | None, streams: int, at: dt.datetime
    ) -> None:
        """Admit one request of ``streams`` streams or raise RATE_LIMITED (in the write
        transaction of the request's rows)."""
        limit_store.lock_user(conn, user_id)
        since = at - WINDOW
        limits = self.user_defaults.over(limit_store.get_override(conn, user_id))
        share = 0.0
        try:
            if any(asdict(limits).values()):
                usage = limit_store.usage(conn, since=since, user_id=user_id, key_id=None)
                share = _check(usage, limits, streams, at, "this account")
            if key_id is not None and any(asdict(self.key_limits).values()):
                usage = limit_store.usage(conn, since=since, user_id=user_id, key_id=key_id)
                share = max(share, _check(usage, self.key_limits, streams, at, "this API key"))
        except ChatMoreError:
            self._remember(user_id, key_id, False)
            raise
        self._remember(user_id, key_id, share < ROOMY_SHARE)

    def _remember(self, user_id: int, key_id: int | None, roomy: bool) -> None:
        if len(self._roomy) > 10_000:
            self._roomy.clear()
        self._roomy[(user_id, key_id)] = roomy

    # -- overrides (admins) -------------------------------------------------------------

    async def limits_of(self, user_id: int) -> dict[str, Any]:
        overrides = await self.db.read(limit_store.get_override, user_id)
        shown = {name: (overrides or {}).get(name) for name in limit_store.OVERRIDE_FIELDS}
        return {
            "user_id": user_id,
            "defaults": asdict(self.user_defaults),
            "overrides": shown,
            "effective": asdict(self.user_defaults.over(overrides)),
            "per_key": asdict(self.key_limits),
        }

    async def set_overrides(self, user_id: int, body: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(body) - set(limit_store.OVERRIDE_FIELDS))
        if unknown:
            raise validation(
                f"unknown fields {unknown}; give {', '.join(limit_store.OVERRIDE_FIELDS)}",
                fields=unknown,
            )
        values: dict[str, int | None] = {}
        for name in limit_store.OVERRIDE_FIELDS:
            value = body.get(name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= MAX_LIMIT
            ):
                raise validation(
                    f"{name} must be a whole number of at least 0 (0: no limit) or null",
                    field=name,
                )
            values[name] = value
        if not await self.db.write(limit_store.set_override, user_id, values, utcnow()):
            raise ChatMoreError("NOT_FOUND", "no such user")
        self._roomy = {k: v for k, v in self._roomy.items() if k[0] != user_id}
        return await self.limits_of(user_id)
