"""``chatmore/api/keys``: personal API keys for the gateway. Each user makes, lists and
revokes their own; admins list (``?scope=all``) and revoke anyone's."""

from __future__ import annotations

from ..errors import validation
from ..services import schemas as s
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import Query, operation


class ApiKeysHandler(ApiHandler):
    @operation(
        "The caller's API keys (admins: everyone's with scope=all); never the keys",
        access="user",
        answers={200: s.API_KEYS},
        query=(Query("scope", {"enum": ["mine", "all"]}, "all: admins only"),),
    )
    @authenticated()
    async def get(self) -> None:
        scope = self.get_query_argument("scope", "mine")
        if scope not in ("mine", "all"):
            raise validation("scope must be mine or all", field="scope")
        keys = await self.runtime.api_keys.list(self.user, everyone=scope == "all")
        self.send({"keys": keys})

    @operation(
        "A new cm-… key for chatmore/v1/, shown once",
        access="user",
        body=s.API_KEY_CREATE,
        answers={201: s.API_KEY},
    )
    @authenticated()
    async def post(self) -> None:
        self.send(await self.runtime.api_keys.create(self.user, self.json_body()), status=201)


class ApiKeyHandler(ApiHandler):
    @operation(
        "Revoke a key (admins: anyone's)",
        access="user",
        answers={200: s.API_KEY},
        not_found="API_KEY_NOT_FOUND",
    )
    @authenticated()
    async def delete(self, key_id: int) -> None:
        self.send(await self.runtime.api_keys.revoke(self.user, key_id))
