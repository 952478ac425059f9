"""``chatmore/api/conversations/{id}/export`` and ``chatmore/api/conversations/import``:
a conversation as Markdown or JSON, and a JSON export brought back as a new one."""

from __future__ import annotations

import re

from ..jsonutil import dumps
from ..services import schemas as s
from ..services.validation import parse_json
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import Query, operation

# An export of a long conversation is larger than the API's usual 1 MiB bodies.
MAX_IMPORT_BYTES = 64 * 1024 * 1024
TYPES = {"md": "text/markdown; charset=utf-8", "json": "application/json; charset=utf-8"}


def _filename(title: str, conversation_id: str, extension: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", title).strip("-.")[:60] or "conversation"
    return f"{stem}-{conversation_id}.{extension}"


class ExportHandler(ApiHandler):
    @operation(
        "The conversation as Markdown or as JSON (which api/conversations/import takes)",
        access="user",
        answers={200: ("application/json", "text/markdown")},
        query=(Query("format", {"enum": list(TYPES)}),),
        not_found="CONVERSATION_NOT_FOUND",
        description="format=md answers text/markdown.",
    )
    @authenticated()
    async def get(self, conversation_id: int) -> None:
        format = self.get_query_argument("format", "json")
        exported = await self.runtime.transfer.export(self.user, conversation_id, format)
        if isinstance(exported, dict):
            title, body = exported["conversation"]["title"], dumps(exported)
        else:
            title, body = exported.split("\n", 1)[0].lstrip("# "), exported
        self.set_header("Content-Type", TYPES[format])
        self.set_header(
            "Content-Disposition",
            f'attachment; filename="{_filename(title, conversation_id, format)}"',
        )
        self.finish(body)


class ImportHandler(ApiHandler):
    @operation(
        "A new conversation of the caller's from a JSON export (models matched by name)",
        access="user",
        answers={201: s.OPEN_OBJECT},
    )
    @authenticated()
    async def post(self) -> None:
        # The limits of every body (depth, Unicode, finite numbers), a larger size.
        document = parse_json(self.request.body or b"{}", "the export", max_bytes=MAX_IMPORT_BYTES)
        created = await self.runtime.transfer.import_conversation(self.user, document)
        self.send(created, status=201)
