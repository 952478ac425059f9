"""``GET chatmore/openapi.json``: the OpenAPI 3.1 description of every route. No auth.

Written from the route table (``handlers/__init__.py``) and each method's
``@operation`` declaration (``handlers/operations.py``), whose body schemas are the ones
``json_body`` checks: what is described is what is enforced.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from tornado import web

from .. import __version__
from ..services import schemas as s
from .base import ApiHandler
from .operations import Operation, operation, operation_of

# CORS preflights are answered alike everywhere and are not part of the API proper.
UNDESCRIBED_METHODS = frozenset({"OPTIONS", "HEAD"})

SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "public": [],
    "user": [{"bearer": []}],
    "admin": [{"bearer": []}],
    "cookie": [{"refreshCookie": []}],
    "cookie_if_any": [{"refreshCookie": []}, {}],
    "ticket": [{"streamTicket": []}],
    "metrics": [{"bearer": []}],
    "api_key": [{"apiKey": []}],
}

SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "the access token of auth/login (or, for metrics, the metrics token)",
    },
    "refreshCookie": {"type": "apiKey", "in": "cookie", "name": "chatmore_refresh"},
    "streamTicket": {"type": "apiKey", "in": "query", "name": "st"},
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "a personal cm-… API key (api/keys): the gateway under v1/ only",
    },
}

CSRF_HEADER = {
    "name": "X-Requested-With",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
    "description": "any value: a cross-site form cannot send it",
}


def methods_of(handler: type) -> list[str]:
    """The HTTP methods ``handler`` itself answers (those tornado's base does not)."""
    return [
        method
        for method in handler.SUPPORTED_METHODS
        if method not in UNDESCRIBED_METHODS
        and getattr(handler, method.lower(), None)
        is not getattr(web.RequestHandler, method.lower(), None)
    ]


def openapi_path(pattern: str, prefix: str) -> str:
    """``/chatmore/api/turns/(\\d+)/cancel`` → ``/api/turns/{id}/cancel``."""
    path = pattern.removeprefix(prefix).replace("\\.", ".")
    return re.sub(r"\(\\d\+\)", "{id}", path)


def _ref(schema: s.Schema) -> s.Schema:
    """A named shape by reference, any other inline."""
    try:
        return {"$ref": f"#/components/schemas/{s.name_of(schema)}"}
    except KeyError:
        return schema


def _answers(declared: Operation) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for status, shape in declared.answers.items():
        answer: dict[str, Any] = {"description": declared.summary}
        if isinstance(shape, tuple):  # one of several media types
            answer["content"] = {media: {"schema": {}} for media in shape}
        elif isinstance(shape, str):
            if shape != "none":
                answer["content"] = {shape: {"schema": {"type": "string"}}}
        else:
            answer["content"] = {"application/json": {"schema": _ref(shape)}}
        answers[str(status)] = answer
    answers["default"] = {
        "description": "an error (see the error codes in the README)",
        "content": {"application/json": {"schema": _ref(declared.errors or s.ERROR)}},
    }
    return answers


def _operation(declared: Operation, path: str) -> dict[str, Any]:
    described: dict[str, Any] = {
        "summary": declared.summary,
        "security": SECURITY[declared.access],
        "responses": _answers(declared),
    }
    if declared.description:
        described["description"] = declared.description
    parameters: list[dict[str, Any]] = []
    if "{id}" in path:
        parameters.append({"name": "id", "in": "path", "required": True, "schema": s.ID})
    for query in declared.query:
        parameters.append(
            {
                "name": query.name,
                "in": "query",
                "required": False,
                "schema": query.schema,
                **({"description": query.description} if query.description else {}),
            }
        )
    if declared.access in ("cookie", "cookie_if_any"):
        parameters.append(CSRF_HEADER)
    if parameters:
        described["parameters"] = parameters
    if declared.body is not None:
        described["requestBody"] = {
            "required": bool(declared.body.get("required")),
            "content": {"application/json": {"schema": _ref(declared.body)}},
        }
    return described


def build_document(routes: list[tuple], prefix: str) -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (pattern, handler[, kwargs]) under ``prefix``."""
    paths: dict[str, dict[str, Any]] = {}
    for pattern, handler, *_ in routes:
        for method in methods_of(handler):
            declared = operation_of(handler, method)
            if declared is None:
                continue
            path = openapi_path(pattern, prefix)
            paths.setdefault(path, {})[method.lower()] = _operation(declared, path)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ChatMore",
            "version": __version__,
            "description": "Compare LLMs side by side, every turn recorded. Errors are "
            '{"error": {"code", "message"}}.',
        },
        "servers": [{"url": prefix}],
        "paths": paths,
        "components": {"schemas": s.COMPONENTS, "securitySchemes": SECURITY_SCHEMES},
    }


@cache
def _document_json(base_url: str, demo: bool) -> str:
    from ..jsonutil import dumps
    from . import PREFIX, routes

    return dumps(build_document(routes(demo=demo), f"{base_url}{PREFIX}"))


class OpenApiHandler(ApiHandler):
    @operation(
        "This description (OpenAPI 3.1)",
        access="public",
        answers={200: {"type": "object"}},
    )
    async def get(self) -> None:
        base_url = self.settings.get("base_url", "/")
        self.set_header("Cache-Control", "public, max-age=60")
        self.finish(_document_json(base_url, self.runtime.settings.demo))
