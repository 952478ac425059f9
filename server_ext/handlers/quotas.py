"""``chatmore/api/users/{id}/quota``: a user's monthly budgets (admins)."""

from __future__ import annotations

from .auth_decorators import authenticated
from .base import ApiHandler


class UserQuotaHandler(ApiHandler):
    @authenticated(role="admin")
    async def get(self, user_id: str) -> None:
        self.send(await self.runtime.quotas.get(int(user_id)))

    @authenticated(role="admin")
    async def put(self, user_id: str) -> None:
        self.send(await self.runtime.quotas.set(int(user_id), self.json_body()))
