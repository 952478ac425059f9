"""``chatmore/api/models``: list, create, change and test upstream models."""

from __future__ import annotations

from ..services import schemas as s
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import operation


class ModelsHandler(ApiHandler):
    @operation(
        "Models: every one for admins, the enabled ones for users",
        access="user",
        answers={200: s.MODELS},
    )
    @authenticated()
    async def get(self) -> None:
        models = await self.runtime.models.list(admin=self.user.is_admin)
        self.send({"models": models})

    @operation("Add a model", access="admin", body=s.MODEL_CREATE, answers={201: s.MODEL})
    @authenticated(role="admin")
    async def post(self) -> None:
        self.send(await self.runtime.models.create(self.json_body()), status=201)


class ModelHandler(ApiHandler):
    @operation("A model", access="user", answers={200: s.MODEL}, not_found="MODEL_NOT_FOUND")
    @authenticated()
    async def get(self, model_id: int) -> None:
        self.send(await self.runtime.models.get(model_id, admin=self.user.is_admin))

    @operation(
        "Change a model",
        access="admin",
        body=s.MODEL_UPDATE,
        answers={200: s.MODEL},
        not_found="MODEL_NOT_FOUND",
    )
    @authenticated(role="admin")
    async def patch(self, model_id: int) -> None:
        self.send(await self.runtime.models.update(model_id, self.json_body()))


class ModelTestHandler(ApiHandler):
    @operation(
        "Call the model once (one token): does it answer?",
        access="admin",
        answers={200: s.MODEL_TEST},
        not_found="MODEL_NOT_FOUND",
    )
    @authenticated(role="admin")
    async def post(self, model_id: int) -> None:
        result = await self.runtime.models.test(model_id)
        answer: dict[str, object] = {"ok": result.ok, "latency_ms": result.latency_ms}
        if result.error:
            answer["error"] = result.error
        self.send(answer)
