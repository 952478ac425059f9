"""``chatmore/api/templates``: prompt templates, and filling one in."""

from __future__ import annotations

from ..services import schemas as s
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import operation

_FOUND = "TEMPLATE_NOT_FOUND"


class TemplatesHandler(ApiHandler):
    @operation(
        "The caller's prompt templates and the shared ones", access="user",
        answers={200: s.OPEN_OBJECT},
    )  # fmt: skip
    @authenticated()
    async def get(self) -> None:
        self.send(await self.runtime.templates.list(self.user))

    @operation(
        "A named system prompt with {variables} (shared with everyone: admins only)",
        access="user",
        body=s.OPEN_OBJECT,
        answers={201: s.OPEN_OBJECT},
    )
    @authenticated()
    async def post(self) -> None:
        self.send(await self.runtime.templates.create(self.user, self.json_body()), status=201)


class TemplateHandler(ApiHandler):
    @operation(
        "Change a template", access="user", body=s.OPEN_OBJECT,
        answers={200: s.OPEN_OBJECT}, not_found=_FOUND,
    )  # fmt: skip
    @authenticated()
    async def patch(self, template_id: int) -> None:
        self.send(await self.runtime.templates.update(self.user, template_id, self.json_body()))

    @operation("Delete a template", access="user", answers={200: s.OPEN_OBJECT}, not_found=_FOUND)
    @authenticated()
    async def delete(self, template_id: int) -> None:
        self.send(await self.runtime.templates.delete(self.user, template_id))


class TemplateRenderHandler(ApiHandler):
    @operation(
        "The template with its variables filled in", access="user", body=s.OPEN_OBJECT,
        answers={200: s.OPEN_OBJECT}, not_found=_FOUND,
    )  # fmt: skip
    @authenticated()
    async def post(self, template_id: int) -> None:
        self.send(await self.runtime.templates.render(self.user, template_id, self.json_body()))
