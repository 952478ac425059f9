"""``chatmore/api/conversations/{id}/export`` and ``chatmore/api/conversations/import``:
a conversation as Markdown or JSON, and a JSON export brought back as a new one."""

from __future__ import annotations

import json
import re

from ..errors import validation
from ..jsonutil import dumps
from .auth_decorators import authenticated
from .base import ApiHandler

# An export of a long conversation is larger than the API's usual 1 MiB bodies.
MAX_IMPORT_BYTES = 64 * 1024 * 1024
TYPES = {"md": "text/markdown; charset=utf-8", "json": "application/json; charset=utf-8"}


def _filename(title: str, conversation_id: str, extension: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", title).strip("-.")[:60] or "conversation"
    return f"{stem}-{conversation_id}.{extension}"


class ExportHandler(ApiHandler):
    @authenticated()
    async def get(self, conversation_id: str) -> None:
        format = self.get_query_argument("format", "json")
        exported = await self.runtime.transfer.export(self.user, int(conversation_id), format)
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
    @authenticated()
    async def post(self) -> None:
        body = self.request.body
        if len(body) > MAX_IMPORT_BYTES:
            raise validation("the export is too large to import")
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise validation("the body is not a JSON export of a conversation") from None
        created = await self.runtime.transfer.import_conversation(self.user, document)
        self.send(created, status=201)
