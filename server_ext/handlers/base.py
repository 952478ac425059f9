"""What every ChatMore handler shares: JSON in and out, errors, CORS, the runtime.

Handlers are plain tornado handlers so that the same routes serve inside Jupyter server
and in the standalone dashboard server. They carry their own authentication (JWT, see
``handlers/auth_decorators.py``), so Jupyter's token check and XSRF cookie do not apply
to them; every method is marked ``@allow_unauthenticated`` for Jupyter's start-up audit.
Domain errors (:class:`ChatMoreError`) become JSON answers here and nowhere else.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import allow_unauthenticated
from tornado import web

from ..errors import ChatMoreError, validation
from ..jsonutil import dumps
from ..metrics import HTTP_DURATION, HTTP_REQUESTS
from ..services.schemas import check_body
from ..services.validation import MAX_DB_ID, MAX_JSON_BYTES, parse_json, path_id
from .operations import operation_of

if TYPE_CHECKING:
    from ..runtime import Runtime

log = logging.getLogger("chatmore.http")


class ApiHandler(web.RequestHandler):
    """Base of the JSON API handlers."""

    # The route's template ("/chatmore/api/turns/{id}"), the label of its metrics.
    route = "unmatched"
    # Streams are long by design; their duration says nothing about the server's speed.
    streaming = False
    # Largest JSON body accepted.
    max_json_body = MAX_JSON_BYTES

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # ChatMore authenticates its own routes; tell Jupyter's handler audit so.
        for method in cls.SUPPORTED_METHODS:
            fn = cls.__dict__.get(method.lower())
            if fn is not None:
                setattr(cls, method.lower(), allow_unauthenticated(fn))

    def initialize(self, route: str = "unmatched") -> None:
        self.route = route

    def prepare(self) -> None:
        """Path ids (digits, by the routes' patterns) become ints here; one that no row
        can have (beyond the database's 64-bit ids) names nothing."""
        if not self.path_args:
            return
        ids = [path_id(arg) for arg in self.path_args]
        if None in ids:
            declared = operation_of(type(self), self.request.method or "")
            raise ChatMoreError(declared.not_found if declared else "NOT_FOUND")
        self.path_args = ids  # type: ignore[assignment]

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
        """The request body as a JSON object that matches the body schema the method
        declares (``@operation(body=...)``), or VALIDATION_FAILED. The limits of every
        body (size, depth, Unicode, finite numbers) are in ``services/validation.py``."""
        raw = self.request.body
        data = parse_json(raw, max_bytes=self.max_json_body) if raw else {}
        if not isinstance(data, dict):
            raise validation("the request body must be a JSON object")
        declared = operation_of(type(self), self.request.method or "")
        if declared is not None and declared.body is not None:
            check_body(declared.body, data)
        return data

    def query_int(self, name: str, default: int) -> int:
        """A whole number from the query string, within the bounds the method declares
        for it (``@operation(query=...)``); at most what the database's ids hold."""
        declared = operation_of(type(self), self.request.method or "")
        schema = next((q.schema for q in declared.query if q.name == name), {}) if declared else {}
        lo, hi = schema.get("minimum", 0), schema.get("maximum", MAX_DB_ID)
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        raw = raw.strip()
        if not (raw.isascii() and raw.lstrip("-").isdigit()) or len(raw) > 20:
            raise validation(f"{name} must be a whole number", field=name)
        value = int(raw)
        if not lo <= value <= hi:
            raise validation(f"{name} must be between {lo} and {hi}", field=name)
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
        retry_after = error.details.get("retry_after")
        if retry_after is not None:
            self.set_header("Retry-After", str(retry_after))
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

    catch_all = True  # answers only "not found": nothing to describe

    def prepare(self) -> None:
        raise ChatMoreError("NOT_FOUND")
