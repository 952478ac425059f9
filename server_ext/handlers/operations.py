"""What each handler method takes and answers, declared on the method itself.

``@operation(...)`` records an :class:`Operation`: its body schema (which
``ApiHandler.json_body`` checks), its query parameters, its answers and who may call it.
``handlers/openapi.py`` writes the OpenAPI description from these records and the route
table, so the description and the checks come from the same declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from ..services.schemas import ID, Schema

F = TypeVar("F", bound=Callable[..., Any])

# Who may call: nobody in particular, a bearer token, an admin's bearer token, the
# refresh cookie (with the cross-site header), the cookie if there is one (logout),
# a stream ticket, or the metrics token.
Access = Literal[
    "public", "user", "admin", "cookie", "cookie_if_any", "ticket", "metrics", "api_key"
]

ATTRIBUTE = "__chatmore_operation__"


@dataclass(frozen=True)
class Query:
    """A query-string parameter."""

    name: str
    schema: Schema
    description: str = ""


@dataclass(frozen=True)
class Operation:
    summary: str
    access: Access
    # status -> a schema of a JSON answer, a media type (e.g. "text/event-stream"), or a
    # tuple of media types it may answer in
    answers: dict[int, Schema | str | tuple[str, ...]]
    body: Schema | None = None
    query: tuple[Query, ...] = ()
    # The code a path id that no row can have answers with.
    not_found: str = "NOT_FOUND"
    description: str = ""
    # The shape of its errors: ChatMore's own unless given (the gateway's are OpenAI's).
    errors: Schema | None = None


def operation(
    summary: str,
    *,
    access: Access,
    answers: dict[int, Schema | str | tuple[str, ...]],
    body: Schema | None = None,
    query: tuple[Query, ...] = (),
    not_found: str = "NOT_FOUND",
    description: str = "",
    errors: Schema | None = None,
) -> Callable[[F], F]:
    """Declare a handler method's contract (see the module docstring)."""

    def decorate(method: F) -> F:
        setattr(
            method,
            ATTRIBUTE,
            Operation(summary, access, answers, body, query, not_found, description, errors),
        )
        return method

    return decorate


def operation_of(handler: type, method: str) -> Operation | None:
    """The declared operation of ``handler``'s HTTP ``method``, if any."""
    fn = getattr(handler, method.lower(), None)
    return getattr(fn, ATTRIBUTE, None)


def query_id(name: str, description: str = "") -> Query:
    return Query(name, ID, description)
