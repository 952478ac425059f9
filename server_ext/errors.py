"""Every error code ChatMore answers with, in one place.

An API error is JSON ``{"error": {"code": ..., "message": ...}}`` with the HTTP status
listed here. Services raise :class:`ChatMoreError`; the handler base class turns it into
that answer. The README's error table is checked against :data:`ERROR_CODES` by a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    meaning: str


ERROR_CODES: dict[str, ErrorSpec] = {
    # auth
    "AUTH_INVALID_CREDENTIALS": ErrorSpec(401, "wrong email or password"),
    "AUTH_ACCOUNT_LOCKED": ErrorSpec(401, "too many failed logins; try again later"),
    "AUTH_TOKEN_MISSING": ErrorSpec(401, "no access token was sent"),
    "AUTH_TOKEN_INVALID": ErrorSpec(401, "the token is malformed, forged or of the wrong kind"),
    "AUTH_TOKEN_EXPIRED": ErrorSpec(401, "the token has expired"),
    "AUTH_TOKEN_REVOKED": ErrorSpec(401, "the refresh token or ticket was revoked or used"),
    "AUTH_REGISTER_DISABLED": ErrorSpec(403, "self-registration is turned off"),
    "AUTH_EMAIL_TAKEN": ErrorSpec(409, "an account with that email exists"),
    "AUTH_CROSS_SITE": ErrorSpec(403, "a cookie-authenticated call came from another site"),
    "FORBIDDEN": ErrorSpec(403, "the caller's role does not allow this"),
    "AUTH_API_KEY_INVALID": ErrorSpec(
        401, "the personal API key is missing, unknown, revoked or expired"
    ),
    "API_KEY_NOT_FOUND": ErrorSpec(404, "no such API key"),
    "RATE_LIMITED": ErrorSpec(429, "over a rate limit; retry after the Retry-After seconds"),
    # models and providers
    "MODEL_NOT_FOUND": ErrorSpec(404, "no such model, or it is disabled"),
    "MODEL_NAME_TAKEN": ErrorSpec(409, "a model with that name exists"),
    "MODEL_KEY_UNREADABLE": ErrorSpec(
        500, "the stored API key cannot be decrypted with the configured keys"
    ),
    "PROVIDER_TIMEOUT": ErrorSpec(504, "the provider did not answer in time"),
    "PROVIDER_UNREACHABLE": ErrorSpec(502, "the provider could not be reached"),
    "PROVIDER_URL_REFUSED": ErrorSpec(
        400, "the provider address is not allowed (link-local, metadata or private)"
    ),
    "PROVIDER_AUTH_FAILED": ErrorSpec(502, "the provider refused the API key"),
    "PROVIDER_RATE_LIMITED": ErrorSpec(429, "the provider is rate limiting"),
    "PROVIDER_QUOTA_EXCEEDED": ErrorSpec(402, "the provider account's quota or credit is used up"),
    "PROVIDER_CONTEXT_TOO_LONG": ErrorSpec(
        400, "the conversation is longer than the model's context window"
    ),
    "PROVIDER_MODEL_NOT_FOUND": ErrorSpec(502, "the provider does not know the upstream model"),
    "PROVIDER_HTTP_ERROR": ErrorSpec(502, "the provider answered with an error status"),
    "PROVIDER_BAD_RESPONSE": ErrorSpec(502, "the provider's answer was malformed or incomplete"),
    "PROVIDER_CIRCUIT_OPEN": ErrorSpec(
        503, "the model failed repeatedly; calls are refused until its cool-down ends"
    ),
    # conversations and turns
    "CONVERSATION_NOT_FOUND": ErrorSpec(404, "no such conversation"),
    "TURN_NOT_FOUND": ErrorSpec(404, "no such turn"),
    "VOTE_NOT_FOUND": ErrorSpec(404, "no such vote"),
    "RESULT_NOT_FOUND": ErrorSpec(404, "no such result"),
    "SCORER_FAILED": ErrorSpec(
        422, "the scorer could not score (a regex ran past its time limit, say)"
    ),
    "WINDOW_BUSY": ErrorSpec(409, "a window still has a reply streaming"),
    "CANCELLED": ErrorSpec(499, "the reply was cancelled"),
    "INTERRUPTED": ErrorSpec(500, "the server stopped while the reply was streaming"),
    # experiments
    "EXPERIMENT_NOT_FOUND": ErrorSpec(404, "no such experiment"),
    "EXPERIMENT_RUNNING": ErrorSpec(409, "the experiment is running; cancel it first"),
    "QUOTA_EXCEEDED": ErrorSpec(429, "this month's token or cost budget is used up"),
    "TEMPLATE_NOT_FOUND": ErrorSpec(404, "no such prompt template"),
    "TEMPLATE_NAME_TAKEN": ErrorSpec(409, "you have a prompt template of that name"),
    "SHARE_LINK_NOT_FOUND": ErrorSpec(404, "no such share link, or it was revoked or has expired"),
    # common
    "NOT_FOUND": ErrorSpec(404, "no such endpoint"),
    "METHOD_NOT_ALLOWED": ErrorSpec(405, "the endpoint does not take this method"),
    "VALIDATION_FAILED": ErrorSpec(400, "the request is malformed or a field is invalid"),
    "DATABASE_UNAVAILABLE": ErrorSpec(503, "the database does not answer"),
    "INTERNAL_ERROR": ErrorSpec(500, "an unexpected server error"),
}


class ChatMoreError(Exception):
    """A domain error with a code from :data:`ERROR_CODES`.

    ``details`` carries structured, non-secret context (field names, ids) for the client.
    """

    def __init__(self, code: str, message: str | None = None, **details: Any) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown error code {code!r}")
        self.code = code
        self.message = message or ERROR_CODES[code].meaning
        self.details = details
        super().__init__(f"{code}: {self.message}")

    @property
    def status(self) -> int:
        return ERROR_CODES[self.code].status

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


def validation(message: str, **details: Any) -> ChatMoreError:
    """Shorthand for the most common error."""
    return ChatMoreError("VALIDATION_FAILED", message, **details)
