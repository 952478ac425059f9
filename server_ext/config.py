"""ChatMore's settings: every option in one table, read once into a frozen :class:`Settings`.

Each option is a trait of the extension app (``c.ChatMoreApp.<name>`` in
``jupyter_config.py``) and is also read from the environment names of the design.
Precedence: a value set in Jupyter config, then the environment, then the built-in
default. A value that does not parse stops start-up with a :class:`ConfigError` naming
the setting. The README's configuration table is checked against :data:`OPTIONS`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from jupyter_core.paths import jupyter_data_dir
from sqlalchemy.engine import URL, make_url
from traitlets import Any as AnyTrait
from traitlets.config import Configurable


class ConfigError(Exception):
    """A setting has a value ChatMore cannot use."""

    def __init__(self, option: Option, value: object, reason: str) -> None:
        self.option = option
        envs = " / ".join(option.env)
        super().__init__(
            f"ChatMore setting {option.name} ({envs}) has an unusable value {value!r}: {reason}"
        )


# -- parsers: each takes text (from the environment) or a native value (from config) ----------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> float:
    """``15m``, ``336h``, ``60s``, ``1h30m``, ``250ms`` or a number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration such as 15m, 336h, 60s or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        else:
            pos, seconds = 0, 0.0
            for match in _DURATION_PART.finditer(text):
                if match.start() != pos:
                    break
                seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
                pos = match.end()
            if pos != len(text) or not text:
                raise ValueError("a duration such as 15m, 336h, 60s or a number of seconds")
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


def parse_duration_or_zero(value: object) -> float:
    """A duration as :func:`parse_duration`, or 0 (``0``, ``0s``: turned off)."""
    if str(value).strip().lower() in {"0", "0s", "0ms", "0.0"} or value == 0:
        return 0.0
    return parse_duration(value)


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("true or false")


def parse_positive_int(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("a whole number")
    number = int(str(value).strip()) if not isinstance(value, int) else value
    if number < 1:
        raise ValueError("a whole number of at least 1")
    return number


def parse_limit(value: object) -> int:
    """A whole number of at least 0; 0 means no limit."""
    if isinstance(value, bool):
        raise ValueError("a whole number (0: no limit)")
    number = int(str(value).strip()) if not isinstance(value, int) else value
    if number < 0:
        raise ValueError("a whole number of at least 0 (0: no limit)")
    return number


def parse_non_negative_int(value: object) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError("a whole number, 0 or more")
    number = int(str(value).strip()) if not isinstance(value, int | float) else int(value)
    if number < 0:
        raise ValueError("a whole number, 0 or more")
    return number


def parse_non_negative_float(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("a number, 0 or more")
    number = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
    if not 0 <= number < float("inf"):
        raise ValueError("a number, 0 or more")
    return number


def parse_bcrypt_cost(value: object) -> int:
    cost = parse_positive_int(value)
    if not 4 <= cost <= 31:
        raise ValueError("bcrypt's cost is between 4 and 31")
    return cost


def parse_list(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(part.strip() for part in str(value).split(",") if part.strip())


def parse_samesite(value: object) -> str:
    text = str(value).strip().capitalize()
    if text not in {"Lax", "Strict", "None"}:
        raise ValueError("Lax, Strict or None")
    return text


def parse_cookie_secure(value: object) -> str:
    """``auto`` (Secure when the request came over https), ``true`` or ``false``."""
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    return "true" if parse_bool(text) else "false"


def parse_text(value: object) -> str:
    return str(value).strip()


def parse_secret_keys(value: object) -> str:
    """Empty (generate a key file) or ``kid:base64`` pairs of 32-byte keys."""
    from .security.secret_box import SecretBox

    text = str(value).strip()
    if text:
        SecretBox.from_config(text)
    return text


def parse_path(value: object) -> str:
    text = str(value).strip()
    return str(Path(text).expanduser()) if text else ""


_GO_DSN = re.compile(
    r"^(?P<user>[^:@/]*)(?::(?P<password>[^@]*))?@(?:tcp\((?P<host>[^)]*)\)|(?P<bare>[^/]*))"
    r"/(?P<db>[^?]*)(?:\?(?P<query>.*))?$"
)


def parse_database_url(value: object) -> str:
    """A SQLAlchemy URL (``sqlite:///…``, ``mysql+pymysql://…``, ``mysql://…``) or the Go
    driver's DSN of the design (``user:pass@tcp(host:3306)/chat?parseTime=true``).

    MySQL URLs always use pymysql with utf8mb4. Returns the URL as text; an empty value
    means "SQLite in the data directory".
    """
    text = str(value).strip()
    if not text:
        return ""
    if "://" not in text:
        match = _GO_DSN.match(text)
        if not match:
            raise ValueError(
                "a SQLAlchemy URL (sqlite:///…, mysql+pymysql://…) or a DSN like "
                "user:pass@tcp(host:3306)/chat?parseTime=true"
            )
        hostport = match.group("host") or match.group("bare") or "localhost:3306"
        host, _, port = hostport.partition(":")
        query = parse_qs(match.group("query") or "")
        url = URL.create(
            "mysql+pymysql",
            username=unquote(match.group("user")) or None,
            password=unquote(match.group("password")) if match.group("password") else None,
            host=host or "localhost",
            port=int(port) if port else 3306,
            database=match.group("db"),
            query={"charset": "utf8mb4", **_kept_query(query)},
        )
        return url.render_as_string(hide_password=False)
    url = make_url(text)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.render_as_string(hide_password=False)
    if backend in {"mysql", "mariadb"}:
        if url.get_driver_name() not in {"pymysql", ""} and url.drivername not in {
            "mysql",
            "mariadb",
        }:
            raise ValueError("MySQL is reached with the pymysql driver (mysql+pymysql://…)")
        url = url.set(drivername=f"{backend}+pymysql")
        url = url.update_query_dict({"charset": "utf8mb4"})
        return url.render_as_string(hide_password=False)
    raise ValueError(f"unknown database scheme {url.drivername!r}: use sqlite:// or mysql://")


def _kept_query(query: dict[str, list[str]]) -> dict[str, str]:
    # parseTime/loc belong to Go's driver; nothing to carry over to pymysql.
    return {k: v[-1] for k, v in query.items() if k not in {"parseTime", "loc", "charset"}}


# -- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    name: str
    env: tuple[str, ...]
    default: object
    parse: Callable[[object], Any]
    help: str

    def describe(self) -> str:
        return f"{self.help} Environment: {', '.join(self.env)}. Default: {self.default!r}."


OPTIONS: tuple[Option, ...] = (
    Option(
        "data_dir",
        ("CHATMORE_DATA_DIR",),
        "",
        parse_path,
        "Folder for the SQLite database and generated keys; empty means "
        "<Jupyter data dir>/chatmore.",
    ),
    Option(
        "db_url",
        ("CHATMORE_DB_URL", "MYSQL_DSN"),
        "",
        parse_database_url,
        "Database: a SQLAlchemy URL or a MySQL DSN (user:pass@tcp(host:3306)/chat); empty "
        "means SQLite in the data directory.",
    ),
    Option(
        "db_threads",
        ("CHATMORE_DB_THREADS",),
        8,
        parse_positive_int,
        "Threads (and pooled connections) that run database work off the event loop.",
    ),
    Option("jwt_access_ttl", ("JWT_ACCESS_TTL",), "15m", parse_duration, "Access token lifetime."),
    Option(
        "jwt_refresh_ttl",
        ("JWT_REFRESH_TTL",),
        "336h",
        parse_duration,
        "Refresh token lifetime.",
    ),
    Option(
        "jwt_stream_ttl",
        ("JWT_STREAM_TTL",),
        "60s",
        parse_duration,
        "Stream ticket lifetime.",
    ),
    Option("jwt_issuer", ("JWT_ISSUER",), "chatmore", parse_text, "The iss claim of tokens."),
    Option("jwt_audience", ("JWT_AUDIENCE",), "chatmore", parse_text, "The aud claim."),
    Option(
        "jwt_private_key_file",
        ("JWT_PRIVATE_KEY_FILE",),
        "",
        parse_path,
        "PEM file of the RSA signing key; empty means a key generated into the data "
        "directory on first start.",
    ),
    Option(
        "secret_key",
        ("CHATMORE_SECRET_KEY",),
        "",
        parse_secret_keys,
        "Keys that encrypt provider API keys, as comma-separated kid:base64 pairs (32 "
        "bytes each), the first one active; empty means a key generated into the data "
        "directory on first start.",
    ),
    Option(
        "allow_self_register",
        ("AUTH_ALLOW_SELF_REGISTER",),
        False,
        parse_bool,
        "Whether POST auth/register creates accounts.",
    ),
    Option(
        "lockout_threshold",
        ("AUTH_LOCKOUT_THRESHOLD",),
        5,
        parse_positive_int,
        "Failed logins in a row that lock an account.",
    ),
    Option(
        "lockout_duration",
        ("AUTH_LOCKOUT_DURATION",),
        "15m",
        parse_duration,
        "How long a locked account stays locked.",
    ),
    Option(
        "refresh_grace",
        ("AUTH_REFRESH_GRACE",),
        "5s",
        parse_duration_or_zero,
        "How long a just-rotated refresh token still gets its live successor (two tabs "
        "refreshing at once) instead of revoking its family as a reuse; 0 turns it off.",
    ),
    Option(
        "bcrypt_cost",
        ("BCRYPT_COST",),
        12,
        parse_bcrypt_cost,
        "bcrypt work factor. Passwords stored at another cost are rehashed at the next "
        "login; until then every login takes the time of the highest cost stored.",
    ),
    Option(
        "cors_allowed_origins",
        ("CORS_ALLOWED_ORIGINS",),
        "",
        parse_list,
        "Origins (comma-separated) allowed to call the API from a browser.",
    ),
    Option(
        "cookie_secure",
        ("COOKIE_SECURE",),
        "auto",
        parse_cookie_secure,
        "Secure flag of the refresh cookie: auto (when the request is https), true or false.",
    ),
    Option(
        "cookie_samesite",
        ("COOKIE_SAMESITE",),
        "Lax",
        parse_samesite,
        "SameSite of the refresh cookie: Lax, Strict or None.",
    ),
    Option(
        "provider_allow_private",
        ("CHATMORE_PROVIDER_ALLOW_PRIVATE",),
        True,
        parse_bool,
        "Whether provider base URLs may resolve to loopback or private addresses "
        "(link-local and cloud metadata addresses are always refused).",
    ),
    Option(
        "provider_connect_timeout",
        ("CHATMORE_PROVIDER_CONNECT_TIMEOUT",),
        "10s",
        parse_duration,
        "Time allowed to connect to a provider.",
    ),
    Option(
        "provider_first_token_timeout",
        ("CHATMORE_PROVIDER_FIRST_TOKEN_TIMEOUT",),
        "60s",
        parse_duration,
        "Time allowed from the request to the first streamed token.",
    ),
    Option(
        "provider_idle_timeout",
        ("CHATMORE_PROVIDER_IDLE_TIMEOUT",),
        "30s",
        parse_duration,
        "Longest silence allowed between two chunks of a stream.",
    ),
    Option(
        "model_concurrency",
        ("CHATMORE_MODEL_CONCURRENCY",),
        16,
        parse_positive_int,
        "Requests one model may have in flight at once; more wait their turn.",
    ),
    Option(
        "experiment_max_concurrency",
        ("CHATMORE_EXPERIMENT_MAX_CONCURRENCY",),
        256,
        parse_positive_int,
        "Highest concurrency an experiment may ask for (calls in flight at once; the "
        "per-model limit applies too).",
    ),
    Option(
        "rate_limit_requests_per_minute",
        ("CHATMORE_RATE_LIMIT_RPM",),
        600,
        parse_limit,
        "Requests (board turns and gateway calls) a user may start in any 60 seconds; "
        "0 means no limit. Admins override it per user.",
    ),
    Option(
        "rate_limit_tokens_per_minute",
        ("CHATMORE_RATE_LIMIT_TPM",),
        2_000_000,
        parse_limit,
        "Tokens (prompt and completion, as providers count them) a user's calls may use "
        "in any 60 seconds before new ones wait; 0 means no limit.",
    ),
    Option(
        "rate_limit_concurrent_streams",
        ("CHATMORE_RATE_LIMIT_STREAMS",),
        64,
        parse_limit,
        "Replies a user may have streaming at once (a board turn counts one per window); "
        "0 means no limit.",
    ),
    Option(
        "key_rate_limit_requests_per_minute",
        ("CHATMORE_KEY_RATE_LIMIT_RPM",),
        0,
        parse_limit,
        "Gateway calls one personal API key may start in any 60 seconds (within its "
        "owner's limits); 0 means only the owner's limit applies.",
    ),
    Option(
        "key_rate_limit_tokens_per_minute",
        ("CHATMORE_KEY_RATE_LIMIT_TPM",),
        0,
        parse_limit,
        "Tokens one API key's calls may use in any 60 seconds; 0 means only the owner's "
        "limit applies.",
    ),
    Option(
        "key_rate_limit_concurrent_streams",
        ("CHATMORE_KEY_RATE_LIMIT_STREAMS",),
        0,
        parse_limit,
        "Calls one API key may have streaming at once; 0 means only the owner's limit applies.",
    ),
    Option(
        "circuit_failures",
        ("CHATMORE_CIRCUIT_FAILURES",),
        5,
        parse_limit,
        "Consecutive connect errors, timeouts or 5xx answers of a model (within the "
        "window) that open its circuit: calls then fail at once with "
        "PROVIDER_CIRCUIT_OPEN; 0 turns circuit breaking off.",
    ),
    Option(
        "circuit_window",
        ("CHATMORE_CIRCUIT_WINDOW",),
        "60s",
        parse_duration,
        "How close together a model's failures must come to count as consecutive.",
    ),
    Option(
        "circuit_cooldown",
        ("CHATMORE_CIRCUIT_COOLDOWN",),
        "30s",
        parse_duration,
        "How long an open circuit refuses calls before one probe call decides whether it closes.",
    ),
    Option(
        "sse_heartbeat",
        ("CHATMORE_SSE_HEARTBEAT",),
        "10s",
        parse_duration,
        "Longest silence on a turn's event stream before a keep-alive comment line.",
    ),
    Option(
        "process_lease",
        ("CHATMORE_PROCESS_LEASE",),
        "20s",
        parse_duration,
        "How long a server process's claim on the replies it runs lasts without a "
        "heartbeat (renewed every quarter of it); after that, any process sharing the "
        "database marks them INTERRUPTED.",
    ),
    Option(
        "dashboard_kernels_per_user",
        ("CHATMORE_DASHBOARD_KERNELS_PER_USER",),
        3,
        parse_positive_int,
        "Dashboard pages (each with its kernel, ~130 MB) one signed-in visitor may have "
        'open at once; one more gets a "busy" page.',
    ),
    Option(
        "dashboard_kernels_total",
        ("CHATMORE_DASHBOARD_KERNELS_TOTAL",),
        20,
        parse_positive_int,
        "Dashboard kernels the server runs at once, all visitors together; past it, "
        'visitors get a "busy" page.',
    ),
    Option(
        "dashboard_connect_timeout",
        ("CHATMORE_DASHBOARD_CONNECT_TIMEOUT",),
        "60s",
        parse_duration,
        "A dashboard kernel whose page has not connected to it within this time is "
        "shut down (a page fetched by a script, or closed while loading).",
    ),
    Option(
        "metrics_token",
        ("CHATMORE_METRICS_TOKEN",),
        "",
        parse_text,
        "A bearer token with which a Prometheus scraper reads chatmore/metrics (admins "
        "can always read them); empty means admins only.",
    ),
    Option(
        "quota_monthly_tokens",
        ("CHATMORE_QUOTA_MONTHLY_TOKENS",),
        0,
        parse_non_negative_int,
        "Each user's default budget of tokens per calendar month (UTC); a turn that would "
        "start past it is refused with QUOTA_EXCEEDED. 0: no limit. Admins set a user's "
        "own budget with PUT chatmore/api/users/{id}/quota.",
    ),
    Option(
        "quota_monthly_cost",
        ("CHATMORE_QUOTA_MONTHLY_COST",),
        0.0,
        parse_non_negative_float,
        "Each user's default budget of cost per calendar month (UTC), in the currency of "
        "the models' prices; 0: no limit.",
    ),
    Option(
        "demo",
        ("CHATMORE_DEMO",),
        False,
        parse_bool,
        "Serve the built-in demo provider and register its demo models.",
    ),
    Option(
        "log_content",
        ("CHATMORE_LOG_CONTENT",),
        False,
        parse_bool,
        "Debugging only: include prompts and replies in the logs.",
    ),
)

OPTIONS_BY_NAME = {option.name: option for option in OPTIONS}


def _traits() -> dict[str, AnyTrait]:
    return {
        option.name: AnyTrait(None, allow_none=True, help=option.describe()).tag(config=True)
        for option in OPTIONS
    }


# Traits generated from the table so that the table stays the only place a setting is named.
ConfigTraits: type[Configurable] = type(
    "ConfigTraits",
    (Configurable,),
    {"__doc__": "ChatMore's configurable settings (see server_ext.config.OPTIONS).", **_traits()},
)


@dataclass(frozen=True)
class Settings:
    """The parsed settings, one field per option of :data:`OPTIONS` (durations in
    seconds). Built by :func:`load_settings`; the defaults live in the table only."""

    data_dir: Path
    db_url: str
    db_threads: int
    jwt_access_ttl: float
    jwt_refresh_ttl: float
    jwt_stream_ttl: float
    jwt_issuer: str
    jwt_audience: str
    jwt_private_key_file: str
    secret_key: str
    allow_self_register: bool
    lockout_threshold: int
    lockout_duration: float
    refresh_grace: float
    bcrypt_cost: int
    cors_allowed_origins: tuple[str, ...]
    cookie_secure: str
    cookie_samesite: str
    provider_allow_private: bool
    provider_connect_timeout: float
    provider_first_token_timeout: float
    provider_idle_timeout: float
    model_concurrency: int
    experiment_max_concurrency: int
    rate_limit_requests_per_minute: int
    rate_limit_tokens_per_minute: int
    rate_limit_concurrent_streams: int
    key_rate_limit_requests_per_minute: int
    key_rate_limit_tokens_per_minute: int
    key_rate_limit_concurrent_streams: int
    circuit_failures: int
    circuit_window: float
    circuit_cooldown: float
    sse_heartbeat: float
    process_lease: float
    dashboard_kernels_per_user: int
    dashboard_kernels_total: int
    dashboard_connect_timeout: float
    metrics_token: str
    quota_monthly_tokens: int
    quota_monthly_cost: float
    demo: bool
    log_content: bool

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")


def load_settings(
    configured: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Resolve every option: ``configured`` (trait values, None when unset), then the
    environment, then the default. Raises :class:`ConfigError` on the first bad value."""
    configured = configured or {}
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for option in OPTIONS:
        raw = configured.get(option.name)
        if raw is None:
            raw = next((environ[e] for e in option.env if environ.get(e) is not None), None)
        if raw is None:
            raw = option.default
        try:
            values[option.name] = option.parse(raw)
        except (ValueError, TypeError) as exc:
            raise ConfigError(option, raw, str(exc)) from None
    data_dir = Path(values["data_dir"] or Path(jupyter_data_dir()) / "chatmore")
    values["data_dir"] = data_dir
    if not values["db_url"]:
        values["db_url"] = f"sqlite:///{data_dir / 'chatmore.db'}"
    if values["cookie_samesite"] == "None" and values["cookie_secure"] == "false":
        raise ConfigError(
            OPTIONS_BY_NAME["cookie_samesite"],
            "None",
            "browsers only accept SameSite=None cookies that are Secure",
        )
    return Settings(**values)


def settings_from_traits(obj: Configurable) -> Settings:
    return load_settings({option.name: getattr(obj, option.name) for option in OPTIONS})
