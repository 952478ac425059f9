"""The shapes of the API, declared once: request bodies (checked by
:func:`check_body` before a service sees them) and answers (described only).

The same dictionaries are the JSON Schemas of ``GET chatmore/openapi.json`` (OpenAPI
3.1 uses JSON Schema 2020-12, which is also the dialect :func:`check_body` applies), so
the description cannot drift from what the server accepts. Limits come from the
services' own constants. Services still check what a schema cannot say (a model that
exists, a URL's address, a password's rules).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from ..errors import ERROR_CODES, validation
from ..security.passwords import MAX_BYTES, MIN_LENGTH
from ..store.tables import CLIENT_SOURCES, SOURCES
from . import pricing, stats
from .accounts import EMAIL_PATTERN, ROLES
from .conversations import (
    MAX_PROMPT_CHARS,
    MAX_SYSTEM_PROMPT_CHARS,
    MAX_TAGS,
    MAX_TITLE_CHARS,
    MAX_WINDOWS,
)
from .models import TEXT_FIELDS
from .params import PARAMS
from .validation import MAX_DB_ID

Schema = dict[str, Any]


# -- building blocks ---------------------------------------------------------------------


def obj(
    properties: dict[str, Schema], *, required: tuple[str, ...] = (), closed: bool = True
) -> Schema:
    """An object; ``closed`` refuses keys it does not list."""
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def text(max_length: int, *, min_length: int = 0, nullable: bool = False) -> Schema:
    schema: Schema = {"type": ["string", "null"] if nullable else "string"}
    if min_length:
        schema["minLength"] = min_length
    schema["maxLength"] = max_length
    return schema


def nullable(schema: Schema) -> Schema:
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return {**schema, "type": [*kinds, "null"]}


ID: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_DB_ID}
TIME: Schema = {"type": ["string", "null"], "description": "UTC, ISO 8601 with a Z"}
BOOL: Schema = {"type": "boolean"}
NUMBER: Schema = {"type": ["number", "null"]}
COUNT: Schema = {"type": ["integer", "null"]}
ANY_OBJECT: Schema = {"type": "object"}


def _param(name: str) -> Schema:
    rule = PARAMS[name]
    schema: Schema = {
        "type": ["integer", "null"] if rule.kind is int else ["number", "null"],
        "maximum": rule.high,
    }
    schema["exclusiveMinimum" if rule.low_open else "minimum"] = rule.low
    return schema


PARAMS_SCHEMA: Schema = {
    **obj({name: _param(name) for name in PARAMS}),
    "type": ["object", "null"],
    "description": "generation parameters; null or a missing key keeps the default",
}
# Surrounding spaces are allowed: the address is trimmed (and lower-cased) when stored.
EMAIL: Schema = {**text(300, min_length=3), "pattern": rf"^\s*{EMAIL_PATTERN[1:-1]}\s*$"}
PASSWORD: Schema = text(1024)
# A password being set: bcrypt reads at most MAX_BYTES bytes (the service counts bytes).
NEW_PASSWORD: Schema = text(MAX_BYTES, min_length=MIN_LENGTH)
DISPLAY_NAME: Schema = text(200, nullable=True)


# -- request bodies ----------------------------------------------------------------------

LOGIN = obj({"email": text(1024), "password": PASSWORD}, required=("email", "password"))
REGISTER = obj(
    {"email": EMAIL, "password": NEW_PASSWORD, "display_name": DISPLAY_NAME},
    required=("email", "password"),
)
CHANGE_PASSWORD = obj(
    {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    required=("current_password", "new_password"),
)
TICKET_REQUEST = obj({"turn_id": ID}, required=("turn_id",))

TAGS: Schema = {
    "type": ["array", "null"],
    "maxItems": MAX_TAGS,
    "items": text(50, min_length=1),
}
METADATA: Schema = {"type": ["object", "null"], "description": "any JSON object, ≤ 16 KB"}
WINDOW_SPEC = obj(
    {
        "model_id": ID,
        "name": text(200, nullable=True),
        "params": PARAMS_SCHEMA,
        "system_prompt": text(MAX_SYSTEM_PROMPT_CHARS, nullable=True),
    },
    required=("model_id",),
)
CONVERSATION_CREATE = obj(
    {
        "title": text(MAX_TITLE_CHARS, nullable=True),
        "system_prompt": text(MAX_SYSTEM_PROMPT_CHARS, nullable=True),
        "windows": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_WINDOWS,
            "items": WINDOW_SPEC,
        },
        "tags": TAGS,
        "metadata": METADATA,
    },
    required=("windows",),
)
CONVERSATION_UPDATE = {
    **obj(
        {
            "title": text(MAX_TITLE_CHARS, nullable=True),
            "tags": TAGS,
            "metadata": METADATA,
            "archived": BOOL,
        }
    ),
    "minProperties": 1,
}
WINDOW_IDS: Schema = {"type": ["array", "null"], "minItems": 1, "items": ID}
REPLACES_TURN_ID: Schema = {
    **nullable(ID),
    "description": "a retry or an edited prompt: the turn this one replaces in its windows, "
    "where it must be the last turn; it stays stored and shown but leaves their context",
}
MESSAGE = obj(
    {
        "content": text(MAX_PROMPT_CHARS, min_length=1),
        "window_ids": WINDOW_IDS,
        "replaces_turn_id": REPLACES_TURN_ID,
        "source": {
            "enum": list(CLIENT_SOURCES),
            "description": "where the prompt comes from (DESIGN §11): a board (the "
            "default) or a one-off question (cm.ask)",
        },
    },
    required=("content",),
)
CANCEL = obj({"window_ids": WINDOW_IDS})

_MODEL_FIELDS: dict[str, Schema] = {
    "name": text(TEXT_FIELDS["name"], min_length=1),
    "provider_name": text(TEXT_FIELDS["provider_name"], nullable=True),
    "upstream_model": text(TEXT_FIELDS["upstream_model"], min_length=1),
    "notes": text(TEXT_FIELDS["notes"], nullable=True),
    "base_url": {**text(2048), "description": "http(s) URL of an OpenAI-compatible API"},
    "api_key": {**text(4096, nullable=True), "description": "write-only; null clears it"},
    "default_params": PARAMS_SCHEMA,
    "enabled": BOOL,
    "pricing": {
        **obj(
            {
                "input": {"type": "number", "minimum": 0, "maximum": pricing.MAX_PRICE},
                "output": {"type": "number", "minimum": 0, "maximum": pricing.MAX_PRICE},
                "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
            },
            required=("input", "output"),
        ),
        "type": ["object", "null"],
        "description": "per million tokens; null removes the prices",
    },
}
MODEL_CREATE = obj(_MODEL_FIELDS, required=("name", "base_url", "upstream_model"))
MODEL_UPDATE = {**obj(_MODEL_FIELDS), "minProperties": 1}

USER_CREATE = obj(
    {
        "email": EMAIL,
        "password": NEW_PASSWORD,
        "display_name": DISPLAY_NAME,
        "role": {"enum": list(ROLES)},
    },
    required=("email", "password"),
)
USER_UPDATE = {
    **obj(
        {
            "is_active": BOOL,
            "role": {"enum": list(ROLES)},
            "display_name": text(200, min_length=1),
        }
    ),
    "minProperties": 1,
}


# -- answers -----------------------------------------------------------------------------

ERROR = obj(
    {
        "error": obj(
            {
                "code": {"enum": sorted(ERROR_CODES)},
                "message": {"type": "string"},
                "details": ANY_OBJECT,
            },
            required=("code", "message"),
        )
    },
    required=("error",),
)
USER = obj(
    {
        "id": ID,
        "email": {"type": "string"},
        "display_name": {"type": "string"},
        "role": {"enum": list(ROLES)},
        "is_active": BOOL,
        "last_login_at": TIME,
        "created_at": TIME,
    },
    required=("id", "email", "display_name", "role"),
    closed=False,
)
SESSION = obj(
    {
        "access_token": {"type": "string"},
        "token_type": {"const": "Bearer"},
        "expires_in": {"type": "integer"},
        "user": USER,
    },
    required=("access_token", "token_type", "expires_in", "user"),
)
USERS = obj({"users": {"type": "array", "items": USER}}, required=("users",))
MODEL = obj(
    {
        "id": ID,
        "name": {"type": "string"},
        "provider_name": {"type": "string"},
        "base_url": {"type": "string"},
        "upstream_model": {"type": "string"},
        "default_params": ANY_OBJECT,
        "enabled": BOOL,
        "notes": {"type": ["string", "null"]},
        "api_key": obj(
            {"set": BOOL, "last4": {"type": ["string", "null"]}}, required=("set", "last4")
        ),
        "created_at": TIME,
        "updated_at": TIME,
    },
    required=("id", "name", "base_url", "upstream_model", "default_params", "enabled"),
    closed=False,  # and the prices, the circuit's state
)
MODELS = obj({"models": {"type": "array", "items": MODEL}}, required=("models",))
MODEL_TEST = obj(
    {"ok": BOOL, "latency_ms": {"type": "integer"}, "error": ANY_OBJECT},
    required=("ok", "latency_ms"),
)
WINDOW = obj(
    {
        "id": ID,
        "name": {"type": "string"},
        "model_id": ID,
        "model_name": {"type": "string"},
        "params": ANY_OBJECT,
        "effective_params": ANY_OBJECT,
        "params_diff": ANY_OBJECT,
        "system_prompt": {"type": ["string", "null"]},
        "sort_order": {"type": "integer"},
    },
    required=("id", "model_id", "params", "effective_params"),
)
CONVERSATION = obj(
    {
        "id": ID,
        "title": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "metadata": ANY_OBJECT,
        "system_prompt": {"type": ["string", "null"]},
        "archived_at": TIME,
        "last_message_at": TIME,
        "created_at": TIME,
        "updated_at": TIME,
        "windows": {"type": "array", "items": WINDOW},
        "first_prompt": {
            "type": ["string", "null"],
            "description": "in lists: the start of the first prompt (null before any turn)",
        },
    },
    required=("id", "title", "tags", "metadata", "windows"),
)
CONVERSATION_PAGE = obj(
    {
        "conversations": {"type": "array", "items": CONVERSATION},
        "next_cursor": {"type": ["string", "null"]},
    },
    required=("conversations", "next_cursor"),
)
TURN_STARTED = obj(
    {
        "turn_id": ID,
        "conversation_id": ID,
        "window_ids": {"type": "array", "items": ID},
        "mode": {"enum": ["broadcast", "single"]},
        "replaces_turn_id": REPLACES_TURN_ID,
        "status": {"type": "string"},
    },
    required=("turn_id", "window_ids", "mode"),
)
RESULT_FIELDS: dict[str, Schema] = {
    "status": {"enum": ["queued", "streaming", "succeeded", "failed", "cancelled"]},
    "error_code": {"type": ["string", "null"]},
    "error_message": {"type": ["string", "null"]},
    "finish_reason": {"type": ["string", "null"]},
    "prompt_tokens": COUNT,
    "completion_tokens": COUNT,
    "total_tokens": COUNT,
    "ttft_ms": COUNT,
    "latency_ms": COUNT,
    "decode_ms": COUNT,
    "tokens_per_second": NUMBER,
    "cost": NUMBER,
    "started_at": TIME,
    "finished_at": TIME,
}
TURN = obj(
    {
        "id": ID,
        "conversation_id": ID,
        "mode": {"type": "string"},
        "content": {"type": "string"},
        "replaces_turn_id": REPLACES_TURN_ID,
        "status": {"type": "string"},
        "created_at": TIME,
        "finished_at": TIME,
        "results": {
            "type": "array",
            "items": obj(
                {"window_id": ID, "model_id": ID, "reply": {"type": "string"}, **RESULT_FIELDS},
                required=("window_id", "model_id", "status"),
                closed=False,
            ),
        },
    },
    required=("id", "conversation_id", "status", "results"),
)
HISTORY = obj(
    {
        "conversation_id": ID,
        "windows": {
            "type": "array",
            "items": obj(
                {
                    "window_id": ID,
                    "messages": {
                        "type": "array",
                        "items": obj(
                            {
                                "id": ID,
                                "turn_id": ID,
                                "role": {"enum": ["system", "user", "assistant"]},
                                "content": {"type": "string"},
                                "created_at": TIME,
                                "replaces_turn_id": REPLACES_TURN_ID,
                                "result": obj(RESULT_FIELDS, closed=False),
                            },
                            required=("id", "role", "content"),
                        ),
                    },
                    "next_before": {"type": ["integer", "null"]},
                },
                required=("window_id", "messages", "next_before"),
            ),
        },
    },
    required=("conversation_id", "windows"),
)
CANCELLED = obj(
    {"turn_id": ID, "cancelled_window_ids": {"type": "array", "items": ID}},
    required=("turn_id", "cancelled_window_ids"),
)
TICKET = obj(
    {"stream_token": {"type": "string"}, "expires_in": {"type": "integer"}},
    required=("stream_token", "expires_in"),
)
COLUMNS: Schema = {"type": "object", "additionalProperties": {"type": "array"}}
RESULTS_PAGE = obj(
    {
        "results": COLUMNS,
        "turns": COLUMNS,
        "windows": COLUMNS,
        "models": COLUMNS,
        "conversations": COLUMNS,
        "next_after_id": {"type": ["integer", "null"]},
    },
    required=("results", "turns", "windows", "models", "next_after_id"),
)
USAGE = obj(
    {
        "from": TIME,
        "to": TIME,
        "group_by": {"enum": list(stats.GROUP_BY)},
        "source": {"enum": [*SOURCES, None]},
        "scope": {"enum": ["mine", "all"]},
        "usage": {
            "type": "array",
            "items": obj(
                {"model_id": ID, "model_name": {"type": "string"}, "calls": {"type": "integer"}},
                required=("model_id", "calls"),
                closed=False,
            ),
        },
    },
    required=("group_by", "scope", "usage"),
)
HEALTH = obj(
    {
        "status": {"enum": ["ok", "unavailable"]},
        "database": {"type": "string"},
        "reason": {"type": "string"},
    },
    required=("status", "database"),
)

OPEN_OBJECT: Schema = {"type": "object"}
# The gateway's errors are OpenAI's own.
OPENAI_ERROR = obj(
    {
        "error": obj(
            {
                "message": {"type": "string"},
                "type": {"type": ["string", "null"]},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
            required=("message", "type"),
            closed=False,
        )
    },
    required=("error",),
)
API_KEY_CREATE = obj(
    {
        "name": text(200, min_length=1),
        "expires_in_days": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 3650},
        "expires_at": TIME,
    },
    required=("name",),
)
API_KEY = obj({"id": ID, "name": {"type": "string"}}, required=("id",), closed=False)
API_KEYS = obj({"keys": {"type": "array", "items": API_KEY}}, required=("keys",))
LIMITS_UPDATE = obj(
    {
        name: {"type": ["integer", "null"], "minimum": 0}
        for name in ("requests_per_minute", "tokens_per_minute", "concurrent_streams")
    }
)
EXPERIMENT_CREATE = obj(
    {
        "name": text(300, nullable=True),
        "windows": {"type": "array", "minItems": 1, "maxItems": MAX_WINDOWS},
        "cases": {"type": ["array", "null"], "minItems": 1},
        "replay_conversation_id": {**ID, "type": ["integer", "null"]},
        "samples": {"type": ["integer", "null"], "minimum": 1},
        "concurrency": {"type": ["integer", "null"], "minimum": 1},
        "system_prompt": text(MAX_SYSTEM_PROMPT_CHARS, nullable=True),
        "template": text(MAX_PROMPT_CHARS, nullable=True),
    },
    required=("windows",),
)
EXPERIMENT = obj(
    {"id": ID, "name": {"type": "string"}, "status": {"type": "string"}},
    required=("id", "status"),
    closed=False,
)
EXPERIMENT_PAGE = obj(
    {"experiments": {"type": "array", "items": EXPERIMENT}},
    required=("experiments",),
    closed=False,
)
COLUMN_PAGE = obj(
    {"results": COLUMNS, "next_after_id": {"type": ["integer", "null"]}},
    required=("results", "next_after_id"),
)

# Named shapes, as they appear under ``components/schemas`` of the description.
COMPONENTS: dict[str, Schema] = {
    "Error": ERROR,
    "Login": LOGIN,
    "Register": REGISTER,
    "ChangePassword": CHANGE_PASSWORD,
    "Session": SESSION,
    "User": USER,
    "Users": USERS,
    "UserCreate": USER_CREATE,
    "UserUpdate": USER_UPDATE,
    "TicketRequest": TICKET_REQUEST,
    "Ticket": TICKET,
    "ConversationCreate": CONVERSATION_CREATE,
    "ConversationUpdate": CONVERSATION_UPDATE,
    "Conversation": CONVERSATION,
    "WindowCreate": WINDOW_SPEC,
    "ConversationPage": CONVERSATION_PAGE,
    "Message": MESSAGE,
    "TurnStarted": TURN_STARTED,
    "History": HISTORY,
    "Turn": TURN,
    "Cancel": CANCEL,
    "Cancelled": CANCELLED,
    "ResultsPage": RESULTS_PAGE,
    "Usage": USAGE,
    "Model": MODEL,
    "Models": MODELS,
    "ModelCreate": MODEL_CREATE,
    "ModelUpdate": MODEL_UPDATE,
    "ModelTest": MODEL_TEST,
    "Health": HEALTH,
    "ExperimentCreate": EXPERIMENT_CREATE,
    "Experiment": EXPERIMENT,
    "ExperimentPage": EXPERIMENT_PAGE,
    "ColumnPage": COLUMN_PAGE,
    "Object": OPEN_OBJECT,
    "OpenAIError": OPENAI_ERROR,
    "ApiKeyCreate": API_KEY_CREATE,
    "ApiKey": API_KEY,
    "ApiKeys": API_KEYS,
    "LimitsUpdate": LIMITS_UPDATE,
}


def name_of(schema: Schema) -> str:
    """The component name of one of the shapes above."""
    for name, known in COMPONENTS.items():
        if known is schema:
            return name
    raise KeyError("this schema is not a named component")


# -- checking ----------------------------------------------------------------------------


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(COMPONENTS[name])


def check_body(schema: Schema, body: object) -> Any:
    """``body`` if it matches ``schema``, else VALIDATION_FAILED naming the field.

    Messages say what is expected and never repeat the value (it may be a password or a
    key)."""
    error = best_match(_validator(name_of(schema)).iter_errors(body))
    if error is None:
        return body
    field = ".".join(str(part) for part in error.absolute_path)
    raise validation(_message(error, field or "the body"), field=field or None)


def _message(error: ValidationError, where: str) -> str:
    rule, limit = error.validator, error.validator_value
    if rule == "additionalProperties":
        instance = error.instance if isinstance(error.instance, dict) else {}
        unknown = sorted(set(instance) - set(error.schema.get("properties", {})))
        return f"{where} has unknown fields {unknown}"
    if rule == "required":
        missing = [name for name in limit if name not in (error.instance or {})]
        return f"missing {', '.join(missing)}" + ("" if where == "the body" else f" in {where}")
    if rule == "type":
        kinds = limit if isinstance(limit, list) else [limit]
        return f"{where} must be {' or '.join(_KIND_WORDS.get(k, k) for k in kinds)}"
    if rule == "maxLength":
        return f"{where} is too long: at most {limit} characters"
    if rule == "minLength":
        return (
            f"{where} must have at least {limit} characters"
            if limit > 1
            else f"{where} must not be empty"
        )
    if rule == "pattern":
        return f"{where} is not in the expected form"
    if rule in ("minimum", "maximum", "exclusiveMinimum"):
        low = error.schema.get("minimum", error.schema.get("exclusiveMinimum"))
        high = error.schema.get("maximum")
        if high is None:
            word = "above" if "exclusiveMinimum" in error.schema else "at least"
            return f"{where} must be {word} {_number(low)}"
        if low is None:
            return f"{where} must be at most {_number(high)}"
        bracket = "(" if "exclusiveMinimum" in error.schema else "["
        return f"{where} must be in {bracket}{_number(low)}, {_number(high)}]"
    if rule in ("maxItems", "minItems"):
        bound = "at most" if rule == "maxItems" else "at least"
        return f"{where} must have {bound} {limit} items"
    if rule in ("enum", "const"):
        allowed = limit if isinstance(limit, list) else [limit]
        return f"{where} must be one of {', '.join(map(str, allowed))}"
    if rule == "minProperties":
        return f"{where} must change at least one field"
    return f"{where} is not valid ({rule})"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


_KIND_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}
