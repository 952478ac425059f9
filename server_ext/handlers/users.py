"""``chatmore/api/users``: account administration (admins only)."""

from __future__ import annotations

from ..services import schemas as s
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import operation


class UsersHandler(ApiHandler):
    @operation("Every account", access="admin", answers={200: s.USERS})
    @authenticated(role="admin")
    async def get(self) -> None:
        self.send({"users": await self.runtime.auth.list_users()})

    @operation("Create an account", access="admin", body=s.USER_CREATE, answers={201: s.USER})
    @authenticated(role="admin")
    async def post(self) -> None:
        self.send(await self.runtime.auth.create_user(self.json_body()), status=201)


class UserLimitsHandler(ApiHandler):
    """A user's rate limits: the defaults, the admin's overrides, what applies."""

    @operation(
        "A user's rate limits: defaults, overrides, what applies",
        access="admin",
        answers={200: s.OPEN_OBJECT},
        not_found="NOT_FOUND",
    )
    @authenticated(role="admin")
    async def get(self, user_id: int) -> None:
        self.send(await self.runtime.limits.limits_of(user_id))

    @operation(
        "Override a user's rate limits (null: the default; 0: no limit)",
        access="admin",
        body=s.LIMITS_UPDATE,
        answers={200: s.OPEN_OBJECT},
        not_found="NOT_FOUND",
    )
    @authenticated(role="admin")
    async def put(self, user_id: int) -> None:
        self.send(await self.runtime.limits.set_overrides(user_id, self.json_body()))


class UserHandler(ApiHandler):
    @operation(
        "Activate, deactivate, rename or change the role of an account",
        access="admin",
        body=s.USER_UPDATE,
        answers={200: s.USER},
    )
    @authenticated(role="admin")
    async def patch(self, user_id: int) -> None:
        self.send(await self.runtime.auth.update_user(user_id, self.json_body()))
