"""What a provider's error may tell a user: ChatMore's own code, and a known upstream code.

A provider's error body is not trusted. Its ``error.code`` / ``error.type`` is shown only
when it is one of :data:`KNOWN_UPSTREAM_CODES` (plain, harmless names that help a user
act, such as ``context_length_exceeded``), and some of them pick a more precise
``PROVIDER_*`` code than the HTTP status alone would. The provider's own message is never
shown. As a last guard, :func:`redact` drops any message that holds the model's API key
or a long piece of it, in any letter case, before it is shown, stored or logged.

Both ways of calling a provider (the board's turns in ``provider_client.py``, the
gateway's pass-through in ``provider_passthrough.py``) read a provider's refusals with
the functions below, so that one answer means one code and one message wherever it came.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Known upstream codes (OpenAI, Azure, Anthropic, Mistral, vLLM …) and the ChatMore code
# each one means; None keeps the code the HTTP status gives.
KNOWN_UPSTREAM_CODES: dict[str, str | None] = {
    "rate_limit_exceeded": "PROVIDER_RATE_LIMITED",
    "rate_limit_error": "PROVIDER_RATE_LIMITED",
    "requests": "PROVIDER_RATE_LIMITED",
    "tokens": "PROVIDER_RATE_LIMITED",
    "insufficient_quota": "PROVIDER_QUOTA_EXCEEDED",
    "billing_hard_limit_reached": "PROVIDER_QUOTA_EXCEEDED",
    "context_length_exceeded": "PROVIDER_CONTEXT_TOO_LONG",
    "string_above_max_length": "PROVIDER_CONTEXT_TOO_LONG",
    "invalid_api_key": "PROVIDER_AUTH_FAILED",
    "authentication_error": "PROVIDER_AUTH_FAILED",
    "permission_error": "PROVIDER_AUTH_FAILED",
    "permission_denied": "PROVIDER_AUTH_FAILED",
    "model_not_found": "PROVIDER_MODEL_NOT_FOUND",
    "invalid_request_error": None,
    "not_found_error": None,
    "server_error": None,
    "api_error": None,
    "overloaded": None,
    "overloaded_error": None,
    "engine_overloaded": None,
    "timeout": None,
    "content_filter": None,
    "content_policy_violation": None,
}

# Finish reasons a reply may be stored with; any other value is stored as "other".
KNOWN_FINISH_REASONS = frozenset(
    {"stop", "length", "content_filter", "tool_calls", "function_call", "eos", "end_turn"}
)

# A piece of the key this long, found anywhere in a message, counts as the key.
KEY_FRAGMENT = 8


def known_upstream_code(error: Any) -> str | None:
    """The first of ``error.code`` / ``error.type`` that is a known code, else None."""
    if not isinstance(error, dict):
        return None
    for field in ("code", "type"):
        value = error.get(field)
        if isinstance(value, str) and value in KNOWN_UPSTREAM_CODES:
            return value
    return None


def code_in_body(body: bytes) -> str | None:
    """The known upstream code of an OpenAI-shaped error body, if any."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return known_upstream_code(parsed.get("error")) if isinstance(parsed, dict) else None


def chatmore_code(upstream: str | None, default: str) -> str:
    """The PROVIDER_* code for an upstream code, ``default`` when it says nothing more."""
    return (KNOWN_UPSTREAM_CODES.get(upstream) if upstream else None) or default


def finish_reason(value: object) -> str | None:
    if value is None or value == "":
        return None
    return value if value in KNOWN_FINISH_REASONS else "other"


def holds_key(text: str, key: str | None) -> bool:
    """Whether ``text`` holds ``key``, or a piece of it KEY_FRAGMENT characters long,
    in any letter case."""
    if not key or not text:
        return False
    haystack, needle = text.lower(), key.lower()
    if len(needle) <= KEY_FRAGMENT:
        return needle in haystack
    return any(
        needle[i : i + KEY_FRAGMENT] in haystack for i in range(len(needle) - KEY_FRAGMENT + 1)
    )


def redact(message: str, key: str | None, fallback: str) -> str:
    """``message``, or ``fallback`` when it holds the key."""
    return fallback if holds_key(message, key) else message


# -- what a provider's answer means --------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """An error status read: its code, a message a user may see, and whether another
    attempt may cure it (after ``retry_after_s`` when the provider asked for a pause)."""

    code: str
    message: str
    retryable: bool = False
    retry_after_s: float | None = None


def refusal(status: int, body: bytes, headers: Mapping[str, str]) -> Refusal:
    """What an answer with a status other than 2xx means (``body``: its first bytes)."""
    if 300 <= status < 400:
        return Refusal(
            "PROVIDER_HTTP_ERROR",
            f"the provider answered HTTP {status}, a redirect, which ChatMore does not "
            "follow; check the base URL",
        )
    upstream = code_in_body(body)
    detail = f" ({upstream})" if upstream else ""
    if status in (401, 403):
        return Refusal(
            "PROVIDER_AUTH_FAILED", f"the provider refused the API key (HTTP {status}){detail}"
        )
    code = chatmore_code(
        upstream, "PROVIDER_RATE_LIMITED" if status == 429 else "PROVIDER_HTTP_ERROR"
    )
    if code == "PROVIDER_RATE_LIMITED":
        return Refusal(
            code,
            f"the provider is rate limiting (HTTP {status}){detail}",
            retryable=True,
            retry_after_s=retry_after_s(headers),
        )
    message = f"the provider answered HTTP {status}{detail}"
    if status >= 500 and code == "PROVIDER_HTTP_ERROR":
        return Refusal(code, message, retryable=True, retry_after_s=retry_after_s(headers))
    return Refusal(code, message)


def reported_error(error: Any, where: str) -> tuple[str, str]:
    """The code and message of an ``error`` object a provider sent in an event
    (``where``: "mid-reply") or in place of an answer."""
    upstream = known_upstream_code(error)
    detail = f" ({upstream})" if upstream else ""
    return (
        chatmore_code(upstream, "PROVIDER_BAD_RESPONSE"),
        f"the provider reported an error {where}{detail}",
    )


def not_a_stream(content_type: str, body: bytes) -> tuple[str, str]:
    """The code and message of a success status whose body is not an event stream."""
    upstream = code_in_body(body)
    if upstream:
        return (
            chatmore_code(upstream, "PROVIDER_BAD_RESPONSE"),
            f"the provider answered with an error ({upstream})",
        )
    shown = content_type.split(";")[0].strip() or "no content type"
    return "PROVIDER_BAD_RESPONSE", f"the provider answered {shown}, not an event stream"


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """OpenAI's ``retry-after-ms``, else ``Retry-After`` in seconds or as an HTTP date."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


TIMEOUT_MESSAGES = {
    "first-token": "the provider sent no reply token within {s} (first-token limit)",
    "idle": "the provider went silent for {s} in the middle of the reply (idle limit)",
    "total": "the reply did not finish within the model's {s} time limit (total limit)",
    "connect": "could not connect to the provider within {s} (connect limit)",
}


def timeout_message(limit: str, seconds: float) -> str:
    return TIMEOUT_MESSAGES[limit].format(s=f"{seconds:g} s")


KEY_NOT_HEADER_SAFE = (
    "the API key has characters an HTTP header cannot carry (spaces or line breaks?)"
)
