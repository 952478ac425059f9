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
