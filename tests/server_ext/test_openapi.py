"""``GET chatmore/openapi.json``: every route the extension registers is described, and
what is described is what the handlers check."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from tornado import web

from server_ext.handlers import DEMO_PREFIX, routes
from server_ext.handlers.openapi import methods_of, openapi_path
from server_ext.handlers.operations import operation_of
from server_ext.services.schemas import COMPONENTS
from tests.support.api import CSRF, new_client
from tests.support.servers import JupyterServer


def registered() -> list[tuple[str, type]]:
    """(pattern, handler) of every route the extension mounts, the demo provider's
    included (it is mounted with CHATMORE_DEMO=true)."""
    return [(pattern, handler) for pattern, handler, *_ in routes(demo=True)]


def test_every_registered_route_and_method_is_described() -> None:
    undescribed = []
    for pattern, handler in registered():
        if pattern.startswith(DEMO_PREFIX) or getattr(handler, "catch_all", False):
            # the built-in demo provider speaks OpenAI's API, not ChatMore's; the
            # catch-all only answers NOT_FOUND
            continue
        assert issubclass(handler, web.RequestHandler)
        methods = methods_of(handler)
        assert methods, f"{pattern} answers no method"
        undescribed += [(pattern, m) for m in methods if operation_of(handler, m) is None]
    assert undescribed == []


def test_the_description_is_served_without_auth_and_lists_every_route(
    server: JupyterServer,
) -> None:
    answer = server.client().get("openapi.json")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    spec = answer.json()
    assert spec["openapi"] == "3.1.0"
    assert spec["servers"] == [{"url": "/chatmore"}]
    described = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    expected = {
        (openapi_path(pattern, "/chatmore"), method)
        for pattern, handler in registered()
        if not pattern.startswith(DEMO_PREFIX) and not getattr(handler, "catch_all", False)
        for method in methods_of(handler)
    }
    assert described == expected
    assert ("/openapi.json", "GET") in described
    assert set(spec["components"]["schemas"]) == set(COMPONENTS)
    for schema in spec["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    # Every operation with a body names a component, and that component is checked.
    for ops in spec["paths"].values():
        for op in ops.values():
            if "requestBody" in op:
                ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                assert ref.removeprefix("#/components/schemas/") in COMPONENTS


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("api/conversations", {"windows": [{"model_id": 1}], "colour": "red"}, "unknown"),
        ("api/conversations", {"windows": [{"model_id": 1, "model": "x"}]}, "windows.0"),
        ("api/conversations", {"windows": [{"model_id": "1"}]}, "windows.0.model_id"),
        ("api/conversations", {"windows": []}, "windows"),
        ("streams/ticket", {"turn_id": 1.5}, "turn_id"),
        ("api/models", {"name": "x", "base_url": "http://x", "upstream_model": ""}, "admin"),
    ],
)
def test_bodies_are_checked_against_the_described_schema(
    server: JupyterServer, path: str, body: dict, words: str
) -> None:
    user = new_client(server)
    answer = user.post(path, json=body)
    if words == "admin":  # the role is checked before the body
        assert answer.status_code == 403
        return
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert words in error["message"]


def test_error_messages_never_repeat_the_value(server: JupyterServer) -> None:
    secret = "sk-" + "x" * 5000
    answer = server.client().post("auth/login", json={"email": secret, "password": "p"})
    assert answer.status_code == 400
    assert "xxxx" not in answer.text


def test_the_described_security_is_what_the_handlers_demand(server: JupyterServer) -> None:
    """Without credentials, every operation that names a scheme refuses with 401; the
    public ones (and logout, whose cookie is optional) do not ask."""
    spec = server.client().get("openapi.json").json()
    http = server.client(headers=CSRF)  # the described header of cookie calls
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            answer = http.request(method.upper(), path.lstrip("/").replace("{id}", "1"))
            optional = {} in op["security"]
            if op["security"] and not optional:
                assert answer.status_code == 401, (method, path, answer.text)
            else:
                assert answer.status_code not in (401, 403), (method, path, answer.text)
