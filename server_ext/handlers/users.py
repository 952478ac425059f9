"""``chatmore/api/users``: account administration (admins only)."""

from __future__ import annotations

from .auth_decorators import authenticated
from .base import ApiHandler


class UsersHandler(ApiHandler):
    @authenticated(role="admin")
    async def get(self) -> None:
        self.send({"users": await self.runtime.auth.list_users()})

    @authenticated(role="admin")
    async def post(self) -> None:
        self.send(await self.runtime.auth.create_user(self.json_body()), status=201)


class UserLimitsHandler(ApiHandler):
    """A user's rate limits: the defaults, the admin's overrides, what applies."""

    @authenticated(role="admin")
    async def get(self, user_id: str) -> None:
        self.send(await self.runtime.limits.limits_of(int(user_id)))

    @authenticated(role="admin")
    async def put(self, user_id: str) -> None:
        self.send(await self.runtime.limits.set_overrides(int(user_id), self.json_body()))


class UserHandler(ApiHandler):
    @authenticated(role="admin")
    async def patch(self, user_id: str) -> None:
        self.send(await self.runtime.auth.update_user(int(user_id), self.json_body()))
