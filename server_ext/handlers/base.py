"""What every ChatMore handler shares: JSON in and out, errors, CORS, the runtime.

Handlers are plain tornado handlers so that the same routes serve inside Jupyter server
and in the standalone dashboard server. They carry their own authentication (JWT, see
``handlers/auth_decorators.py``), so Jupyter's token check and XSRF cookie do not apply
to them; every method is marked ``@allow_unauthenticated`` for Jupyter's start-up audit.
Domain errors (:class:`ChatMoreError`) become JSON answers here and nowhere else.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import allow_unauthenticated
from tornado import web

from ..errors import ChatMoreError, validation
from ..jsonutil import dumps
from ..metrics import HTTP_DURATION, HTTP_REQUESTS

if TYPE_CHECKING:
    from ..runtime import Runtime

log = logging.getLogger("chatmore.http")

MAX_JSON_BODY = 1024 * 1024


class ApiHandler(web.RequestHandler):
    """Base of the JSON API handlers."""

    # The route's template ("/chatmore/api/turns/{id}"), the label of its metrics.
    route = "unmatched"
    # Streams are long by design; their duration says nothing about the server's speed.
    streaming = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # ChatMore authenticates its own routes; tell Jupyter's handler audit so.
        for method in cls.SUPPORTED_METHODS:
            fn = cls.__dict__.get(method.lower())
            if fn is not None:
                setattr(cls, method.lower(), allow_unauthenticated(fn))

    def initialize(self, route: str = "unmatched") -> None:
        self.route = route

    @property
    def runtime(self) -> Runtime:
        return self.settings["chatmore_runtime"]

    def on_finish(self) -> None:
        status = str(self.get_status())
        HTTP_REQUESTS.labels(self.route, self.request.method or "", status).inc()
        if not self.streaming:
            HTTP_DURATION.labels(self.route).observe(self.request.request_time())

    def check_xsrf_cookie(self) -> None:
        """Jupyter's XSRF cookie guards its cookie-authenticated pages. ChatMore's API is
        authenticated by a bearer header, which a cross-site page cannot make a browser
        send; its two cookie-authenticated calls (refresh, logout) carry their own
        cross-site check (``auth_decorators.same_site_only``)."""

    # -- response helpers ------------------------------------------------------------------

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self._set_cors_headers()

    def _set_cors_headers(self) -> None:
        origin = self.request.headers.get("Origin")
        allowed = self.settings["chatmore_runtime"].settings.cors_allowed_origins
        if origin and origin in allowed:
            self.set_header("Access-Control-Allow-Origin", origin)
            self.set_header("Access-Control-Allow-Credentials", "true")
            self.set_header("Vary", "Origin")

    def compute_etag(self) -> None:
        """No ETag: answers are per caller and per moment, and hashing a large page of
        results for nothing costs milliseconds."""
        return None

    def send(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(dumps(data))

    # -- request helpers -------------------------------------------------------------------

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object, or VALIDATION_FAILED."""
        body = self.request.body
        if not body:
            return {}
        if len(body) > MAX_JSON_BODY:
            raise validation("the request body is too large")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise validation("the request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise validation("the request body must be a JSON object")
        return data

    def query_int(self, name: str, default: int, *, lo: int = 0, hi: int | None = None) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise validation(f"{name} must be a whole number", field=name) from None
        if value < lo or (hi is not None and value > hi):
            limit = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
            raise validation(f"{name} must be {limit}", field=name)
        return value

    # -- errors ----------------------------------------------------------------------------

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ChatMoreError):
            error, status = exc, exc.status
        elif status_code == 404:
            error, status = ChatMoreError("NOT_FOUND"), 404
        elif status_code == 405:
            error, status = ChatMoreError("METHOD_NOT_ALLOWED"), 405
        elif status_code < 500:
            # tornado's own 4xx (a missing argument, a body too large): keep its status
            error, status = ChatMoreError("VALIDATION_FAILED", self._reason), status_code
        else:
            error, status = ChatMoreError("INTERNAL_ERROR"), 500
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(dumps(error.to_json()))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # Domain errors are answers, not faults; only unexpected ones carry a traceback.
        if isinstance(value, ChatMoreError):
            return
        if isinstance(value, web.HTTPError):
            return
        log.error(
            "unhandled error in %s %s",
            self.request.method,
            type(self).__name__,
            exc_info=(typ, value, tb),
        )

    # -- CORS preflight --------------------------------------------------------------------

    @allow_unauthenticated
    def options(self, *_args: Any) -> None:
        if self.request.headers.get("Origin") in self.runtime.settings.cors_allowed_origins:
            self.set_header(
                "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            )
            self.set_header(
                "Access-Control-Allow-Headers",
                "Authorization, Content-Type, Last-Event-ID, X-Requested-With",
            )
            self.set_header("Access-Control-Max-Age", "600")
        self.set_status(204)
        self.finish()


class NotFoundHandler(ApiHandler):
    """Unknown paths under ``chatmore/`` answer in ChatMore's error format."""

    def prepare(self) -> None:
        raise ChatMoreError("NOT_FOUND")
