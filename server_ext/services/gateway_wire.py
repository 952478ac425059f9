"""The gateway's side of OpenAI's Chat Completions wire format: which requests it takes,
what goes upstream, and errors in OpenAI's shape.

A request's fields go upstream as the client wrote them, over the model's default
parameters; only ``model`` is replaced (by the upstream name). What ChatMore cannot
honour is refused with a 400 naming the field: ``n`` other than 1 (a call is recorded as
one reply). Errors are ``{"error": {"message", "type", "param", "code"}}`` with the
status OpenAI would use, mapped here from ChatMore's codes (``errors.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ChatMoreError, validation
from ..jsonutil import dumps_bytes
from .params import UPSTREAM_PARAMS

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
MAX_CONVERSATION_HEADER = 255
CONVERSATION_HEADER = "X-ChatMore-Conversation"

# ChatMore's code -> (HTTP status, OpenAI error type, OpenAI error code).
OPENAI_ERRORS: dict[str, tuple[int, str, str | None]] = {
    # a used-up monthly budget, as OpenAI answers a used-up quota
    "QUOTA_EXCEEDED": (429, "insufficient_quota", "insufficient_quota"),
    "AUTH_API_KEY_INVALID": (401, "invalid_request_error", "invalid_api_key"),
    "MODEL_NOT_FOUND": (404, "invalid_request_error", "model_not_found"),
    "CONVERSATION_NOT_FOUND": (404, "invalid_request_error", "conversation_not_found"),
    "VALIDATION_FAILED": (400, "invalid_request_error", None),
    "NOT_FOUND": (404, "invalid_request_error", "unknown_url"),
    "METHOD_NOT_ALLOWED": (405, "invalid_request_error", "method_not_allowed"),
    "RATE_LIMITED": (429, "requests", "rate_limit_exceeded"),
    "PROVIDER_CIRCUIT_OPEN": (503, "server_error", "circuit_open"),
    "PROVIDER_RATE_LIMITED": (429, "requests", "upstream_rate_limited"),
    # the conversation is the client's to shorten, as OpenAI says it
    "PROVIDER_CONTEXT_TOO_LONG": (400, "invalid_request_error", "context_length_exceeded"),
    "PROVIDER_QUOTA_EXCEEDED": (429, "insufficient_quota", "upstream_quota_exceeded"),
    "PROVIDER_MODEL_NOT_FOUND": (502, "server_error", "upstream_model_not_found"),
    "PROVIDER_TIMEOUT": (504, "server_error", "upstream_timeout"),
    "PROVIDER_UNREACHABLE": (502, "server_error", "upstream_unreachable"),
    "PROVIDER_AUTH_FAILED": (502, "server_error", "upstream_auth_failed"),
    "PROVIDER_URL_REFUSED": (502, "server_error", "upstream_url_refused"),
    "PROVIDER_HTTP_ERROR": (502, "server_error", "upstream_error"),
    "PROVIDER_BAD_RESPONSE": (502, "server_error", "upstream_bad_response"),
    "MODEL_KEY_UNREADABLE": (500, "server_error", "upstream_key_unreadable"),
    "DATABASE_UNAVAILABLE": (503, "server_error", "database_unavailable"),
}


def openai_error(exc: ChatMoreError) -> tuple[int, dict[str, Any]]:
    """The status and body OpenAI's clients expect for a ChatMore error."""
    status, kind, code = OPENAI_ERRORS.get(exc.code, (500, "server_error", None))
    upstream_status = getattr(exc, "http_status", None)
    if exc.code == "PROVIDER_HTTP_ERROR" and upstream_status and 400 <= upstream_status < 500:
        # The provider refused the request itself (a bad tool schema, an unknown field):
        # the client's to fix, as OpenAI would say.
        status, kind, code = 400, "invalid_request_error", "upstream_rejected"
    if exc.code == "RATE_LIMITED" and exc.details.get("limit") == "tokens_per_minute":
        kind = "tokens"
    param = exc.details.get("field") if exc.details else None
    return status, error_body(exc.message, kind, code, param)


def error_body(
    message: str, kind: str, code: str | None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_event(exc: ChatMoreError) -> bytes:
    """An error in the middle of a stream, as OpenAI sends it (the SDKs raise on it)."""
    _status, body = openai_error(exc)
    return b"data: " + dumps_bytes(body) + b"\n\n"


@dataclass(frozen=True)
class GatewayRequest:
    model: str
    stream: bool
    include_usage: bool
    fields: dict[str, Any]  # the client's request without model
    prompt: str  # the last user message's text, the turn's input

    def upstream_body(self, defaults: dict[str, Any]) -> dict[str, Any]:
        """The request over the model's defaults (only the upstream ones)."""
        base = {k: defaults[k] for k in UPSTREAM_PARAMS if defaults.get(k) is not None}
        if "max_completion_tokens" in self.fields:
            base.pop("max_tokens", None)
        return {**base, **self.fields}


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def parse_request(body: dict[str, Any]) -> GatewayRequest:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise validation("you must provide a model parameter", field="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise validation("messages must be a non-empty list of messages", field="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise validation(
                f"messages[{i}] must be an object with a role of {sorted(ROLES)}",
                field=f"messages[{i}].role",
            )
    stream = body.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise validation("stream must be true or false", field="stream")
    options = body.get("stream_options")
    if options is not None:
        if not stream:
            raise validation(
                "stream_options is only allowed when stream is true", field="stream_options"
            )
        if not isinstance(options, dict):
            raise validation("stream_options must be an object", field="stream_options")
    n = body.get("n")
    if n is not None and n != 1:
        raise validation(
            "ChatMore records one reply per call: n must be 1 (make n calls instead)",
            field="n",
        )
    users = [m for m in messages if m.get("role") == "user"]
    prompt = _text_of(users[-1].get("content")) if users else _text_of(messages[-1].get("content"))
    fields = {k: v for k, v in body.items() if k != "model"}
    return GatewayRequest(
        model=model.strip(),
        stream=stream,
        include_usage=bool(options and options.get("include_usage")),
        fields=fields,
        prompt=prompt,
    )


def conversation_choice(header: str | None) -> tuple[int | None, str | None]:
    """From ``X-ChatMore-Conversation``: an existing conversation's id (digits), or a
    title that groups calls; (None, None) without the header."""
    if header is None or not header.strip():
        return None, None
    value = header.strip()
    if len(value) > MAX_CONVERSATION_HEADER:
        raise validation(
            f"{CONVERSATION_HEADER} is at most {MAX_CONVERSATION_HEADER} characters",
            field=CONVERSATION_HEADER,
        )
    if value.isdigit():
        return int(value), None
    return None, value
