"""What a provider's error may tell a user: ChatMore's own code, and a known upstream code.

A provider's error body is not trusted. Its ``error.code`` / ``error.type`` is shown only
when it is one of :data:`KNOWN_UPSTREAM_CODES` (plain, harmless names that help a user
act, such as ``context_length_exceeded``), and some of them pick a more precise
``PROVIDER_*`` code than the HTTP status alone would. The provider's own message is never
shown. As a last guard, :func:`redact` drops any message that holds the model's API key
or a long piece of it, in any letter case, before it is shown, stored or logged.
"""

from __future__ import annotations

import json
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
