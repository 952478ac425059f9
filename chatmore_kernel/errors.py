"""The one exception of the notebook API: :class:`ChatMoreError`.

Every failure of a call reaches the notebook as a ``ChatMoreError``: the server's error
answers keep their code (``server_ext/errors.py`` lists them) and HTTP status; problems
met before or around a call get a code of the client's own, listed in
:data:`CLIENT_ERROR_CODES` (their ``status`` is None).
"""

from __future__ import annotations

from typing import Any

import httpx

from widgets.i18n import t

# Codes raised by the client itself, beside the server's.
CLIENT_ERROR_CODES: dict[str, str] = {
    "NOT_CONFIGURED": "no server URL or no credentials were found",
    "SERVER_UNREACHABLE": "the ChatMore server could not be reached",
    "TIMEOUT": "the server did not answer, or a turn did not finish, in time",
    "BAD_RESPONSE": "the server's answer was not what the API promises",
    "SESSION_CLOSED": "the session was closed or logged out; connect again",
}


class ChatMoreError(Exception):
    """An API error: ``code`` (the server's, or one of :data:`CLIENT_ERROR_CODES`),
    ``message``, ``status`` (the HTTP status, None when no answer came) and ``details``
    (structured context the server gave, e.g. field names)."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}

    def __repr__(self) -> str:
        return f"ChatMoreError(code={self.code!r}, message={self.message!r}, status={self.status})"


def from_response(response: httpx.Response) -> ChatMoreError:
    """The error a failed answer carries (``{"error": {"code", "message"}}``)."""
    try:
        body = response.json()
        error = body["error"]
        return ChatMoreError(
            str(error["code"]),
            str(error.get("message") or ""),
            response.status_code,
            error.get("details") if isinstance(error.get("details"), dict) else None,
        )
    except (ValueError, KeyError, TypeError):
        # Not ChatMore's error format: a proxy, or a path outside the API.
        text = response.text[:200].strip()
        return ChatMoreError(
            "BAD_RESPONSE",
            t(
                "error.not_chatmore",
                status=response.status_code,
                path=response.request.url.path,
                text=text,
            ),
            response.status_code,
        )


def from_transport(exc: httpx.TransportError, url: str) -> ChatMoreError:
    """A connection that failed or timed out, as a ChatMoreError."""
    if isinstance(exc, httpx.TimeoutException):
        return ChatMoreError("TIMEOUT", t("error.timeout", url=url, kind=type(exc).__name__))
    return ChatMoreError("SERVER_UNREACHABLE", t("error.unreachable", url=url, reason=exc))
