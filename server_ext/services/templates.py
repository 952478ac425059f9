"""Prompt templates: named system prompts with ``{variables}`` (``chatmore/api/templates``).

A template is a user's own, or shared by an admin with everyone. Everyone lists their
own and the shared ones; only the owner changes or deletes theirs, and only admins share
one or change a shared one. Variables are names in braces, ``{audience}``; ``{{`` and
``}}`` write literal braces. Rendering fills every variable, once, however often it
appears; a missing one is VALIDATION_FAILED.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ChatMoreError, validation
from ..store import templates as template_store
from ..store.db import Database
from .auth import AuthUser
from .conversations import MAX_SYSTEM_PROMPT_CHARS, _text

VARIABLE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")
MAX_VARIABLE_CHARS = 10_000


def variables(body: str) -> list[str]:
    """The variable names of a template, in the order they first appear."""
    names = [m.group(1) for m in VARIABLE.finditer(body) if m.group(1)]
    return list(dict.fromkeys(names))


def render(body: str, values: dict[str, str]) -> str:
    def fill(found: re.Match[str]) -> str:
        token = found.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return values[found.group(1)]

    return VARIABLE.sub(fill, body)


def public_template(row: dict[str, Any], user: AuthUser) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "body": row["body"],
        "variables": variables(row["body"]),
        "shared": bool(row["shared"]),
        "mine": row["user_id"] == user.id,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _shared(value: object, user: AuthUser) -> bool:
    if not isinstance(value, bool):
        raise validation("shared must be true or false", field="shared")
    if value and not user.is_admin:
        raise ChatMoreError("FORBIDDEN", "only admins share templates with everyone")
    return value


class TemplateService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self, user: AuthUser) -> dict[str, Any]:
        rows = await self.db.read(template_store.list_templates, user.id)
        return {"templates": [public_template(row, user) for row in rows]}

    async def create(self, user: AuthUser, body: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(body) - {"name", "body", "shared"})
        if unknown:
            raise validation(f"unknown field {unknown[0]!r}", field=unknown[0])
        name = _text(body.get("name"), "name", 200, required=True)
        text = _text(body.get("body"), "body", MAX_SYSTEM_PROMPT_CHARS, required=True)
        shared = _shared(body.get("shared", False), user)
        try:
            row = await self.db.write(
                template_store.insert_template,
                user_id=user.id,
                name=(name or "").strip(),
                body=text,
                shared=shared,
            )
        except template_store.NameTaken:
            raise ChatMoreError("TEMPLATE_NAME_TAKEN") from None
        return public_template(row, user)

    async def update(
        self, user: AuthUser, template_id: int, body: dict[str, Any]
    ) -> dict[str, Any]:
        unknown = sorted(set(body) - {"name", "body", "shared"})
        if unknown or not body:
            raise validation("give name, body or shared", fields=unknown)
        changes: dict[str, Any] = {}
        if "name" in body:
            changes["name"] = (_text(body["name"], "name", 200, required=True) or "").strip()
        if "body" in body:
            changes["body"] = _text(body["body"], "body", MAX_SYSTEM_PROMPT_CHARS, required=True)
        if "shared" in body:
            changes["shared"] = _shared(body["shared"], user)

        def store(conn: Any) -> dict[str, Any]:
            row = template_store.get_template(conn, user.id, template_id)
            if row is None:
                raise ChatMoreError("TEMPLATE_NOT_FOUND")
            if row["user_id"] != user.id and not user.is_admin:
                raise ChatMoreError("FORBIDDEN", "only its owner or an admin changes a template")
            template_store.update_template(conn, template_id, changes)
            found = template_store.get_template(conn, user.id, template_id)
            assert found is not None
            return found

        try:
            return public_template(await self.db.write(store), user)
        except template_store.NameTaken:
            raise ChatMoreError("TEMPLATE_NAME_TAKEN") from None

    async def delete(self, user: AuthUser, template_id: int) -> dict[str, Any]:
        def store(conn: Any) -> None:
            row = template_store.get_template(conn, user.id, template_id)
            if row is None:
                raise ChatMoreError("TEMPLATE_NOT_FOUND")
            if row["user_id"] != user.id and not user.is_admin:
                raise ChatMoreError("FORBIDDEN", "only its owner or an admin deletes a template")
            template_store.delete_template(conn, template_id)

        await self.db.write(store)
        return {"id": template_id, "deleted": True}

    async def render(
        self, user: AuthUser, template_id: int, body: dict[str, Any]
    ) -> dict[str, Any]:
        values = body.get("variables", {})
        if not isinstance(values, dict) or not all(
            isinstance(v, str) and len(v) <= MAX_VARIABLE_CHARS for v in values.values()
        ):
            raise validation("variables must be an object of texts", field="variables")
        row = await self.db.read(template_store.get_template, user.id, template_id)
        if row is None:
            raise ChatMoreError("TEMPLATE_NOT_FOUND")
        missing = [name for name in variables(row["body"]) if name not in values]
        if missing:
            raise validation(f"give a value for {', '.join(missing)}", missing=missing)
        text = render(row["body"], values)
        if len(text) > MAX_SYSTEM_PROMPT_CHARS:
            raise validation("the filled template is too long for a system prompt")
        return {"id": template_id, "text": text}
