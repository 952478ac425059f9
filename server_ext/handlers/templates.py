"""``chatmore/api/templates``: prompt templates, and filling one in."""

from __future__ import annotations

from .auth_decorators import authenticated
from .base import ApiHandler


class TemplatesHandler(ApiHandler):
    @authenticated()
    async def get(self) -> None:
        self.send(await self.runtime.templates.list(self.user))

    @authenticated()
    async def post(self) -> None:
        self.send(await self.runtime.templates.create(self.user, self.json_body()), status=201)


class TemplateHandler(ApiHandler):
    @authenticated()
    async def patch(self, template_id: str) -> None:
        self.send(
            await self.runtime.templates.update(self.user, int(template_id), self.json_body())
        )

    @authenticated()
    async def delete(self, template_id: str) -> None:
        self.send(await self.runtime.templates.delete(self.user, int(template_id)))


class TemplateRenderHandler(ApiHandler):
    @authenticated()
    async def post(self, template_id: str) -> None:
        self.send(
            await self.runtime.templates.render(self.user, int(template_id), self.json_body())
        )
