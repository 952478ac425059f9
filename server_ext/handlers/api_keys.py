"""``chatmore/api/keys``: personal API keys for the gateway. Each user makes, lists and
revokes their own; admins list (``?scope=all``) and revoke anyone's."""

from __future__ import annotations

from ..errors import validation
from .auth_decorators import authenticated
from .base import ApiHandler


class ApiKeysHandler(ApiHandler):
    @authenticated()
    async def get(self) -> None:
        scope = self.get_query_argument("scope", "mine")
        if scope not in ("mine", "all"):
            raise validation("scope must be mine or all", field="scope")
        keys = await self.runtime.api_keys.list(self.user, everyone=scope == "all")
        self.send({"keys": keys})

    @authenticated()
    async def post(self) -> None:
        self.send(await self.runtime.api_keys.create(self.user, self.json_body()), status=201)


class ApiKeyHandler(ApiHandler):
    @authenticated()
    async def delete(self, key_id: str) -> None:
        self.send(await self.runtime.api_keys.revoke(self.user, int(key_id)))
