"""``chatmore/api/models``: list, create, change and test upstream models."""

from __future__ import annotations

from .auth_decorators import authenticated
from .base import ApiHandler


class ModelsHandler(ApiHandler):
    @authenticated()
    async def get(self) -> None:
        models = await self.runtime.models.list(admin=self.user.is_admin)
        self.send({"models": models})

    @authenticated(role="admin")
    async def post(self) -> None:
        self.send(await self.runtime.models.create(self.json_body()), status=201)


class ModelHandler(ApiHandler):
    @authenticated()
    async def get(self, model_id: str) -> None:
        self.send(await self.runtime.models.get(int(model_id), admin=self.user.is_admin))

    @authenticated(role="admin")
    async def patch(self, model_id: str) -> None:
        self.send(await self.runtime.models.update(int(model_id), self.json_body()))


class ModelTestHandler(ApiHandler):
    @authenticated(role="admin")
    async def post(self, model_id: str) -> None:
        result = await self.runtime.models.test(int(model_id))
        answer: dict[str, object] = {"ok": result.ok, "latency_ms": result.latency_ms}
        if result.error:
            answer["error"] = result.error
        self.send(answer)
