"""``chatmore/api/users/{id}/quota``: a user's monthly budgets (admins)."""

from __future__ import annotations

from ..services import schemas as s
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import operation


class UserQuotaHandler(ApiHandler):
    @operation(
        "A user's monthly token and cost budgets, and this month's use",
        access="admin",
        answers={200: s.OPEN_OBJECT},
    )
    @authenticated(role="admin")
    async def get(self, user_id: int) -> None:
        self.send(await self.runtime.quotas.get(user_id))

    @operation(
        "Set a user's monthly budgets (null: the default; 0: no limit)",
        access="admin",
        body=s.OPEN_OBJECT,
        answers={200: s.OPEN_OBJECT},
    )
    @authenticated(role="admin")
    async def put(self, user_id: int) -> None:
        self.send(await self.runtime.quotas.set(user_id, self.json_body()))
