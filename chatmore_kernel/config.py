"""Where ``cm.connect()`` finds the server and the credentials when it is given none.

The server URL comes from ``CHATMORE_URL``, which the ChatMore server extension sets for
the kernels it starts. Credentials come, in this order, from ``CHATMORE_EMAIL`` and
``CHATMORE_PASSWORD``, from the JSON file named by ``CHATMORE_CREDENTIALS`` (``chatmore
lab`` sets it), or from the quick start's file in the ChatMore data directory
(``$CHATMORE_DATA_DIR/credentials.json``, else ``<Jupyter data dir>/chatmore/
credentials.json``, where the server keeps its data).
"""

from __future__ import annotations

import json
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

from widgets.i18n import t

from .errors import ChatMoreError

URL_ENV = "CHATMORE_URL"
EMAIL_ENV = "CHATMORE_EMAIL"
PASSWORD_ENV = "CHATMORE_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
CREDENTIALS_ENV = "CHATMORE_CREDENTIALS"
DATA_DIR_ENV = "CHATMORE_DATA_DIR"


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str
    source: str  # where they came from, for messages (never the password)

    def __repr__(self) -> str:
        return f"Credentials(email={self.email!r}, source={self.source!r})"


def server_url(url: str | None) -> str:
    """The server's base URL with a trailing slash (``http://host:8888/base/``).

    A URL that already points at the API (``…/chatmore/``) is accepted too.
    """
    url = url or os.environ.get(URL_ENV, "")
    if not url.strip():
        raise ChatMoreError(
            "NOT_CONFIGURED",
            t("error.no_server_url", env=URL_ENV),
        )
    url = url.strip().rstrip("/") + "/"
    if url.endswith("/chatmore/"):
        url = url[: -len("chatmore/")]
    if not url.startswith(("http://", "https://")):
        raise ChatMoreError("NOT_CONFIGURED", t("error.bad_server_url", url=repr(url)))
    return url


def default_credentials_file() -> Path:
    """The quick start's credentials file, where the server writes it."""
    data_dir = os.environ.get(DATA_DIR_ENV, "").strip()
    if data_dir:
        return Path(data_dir).expanduser() / "credentials.json"
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "chatmore" / "credentials.json"


def read_credentials_file(path: Path) -> Credentials:
    """``{"email", "password"}`` from a JSON file; warns when others may read it."""
    try:
        mode = path.stat().st_mode
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ChatMoreError(
            "NOT_CONFIGURED", t("error.credentials_unreadable", path=path, reason=exc.strerror)
        ) from None
    except ValueError:
        raise ChatMoreError("NOT_CONFIGURED", t("error.credentials_not_json", path=path)) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.warn(
            t("error.credentials_readable", path=path),
            UserWarning,
            stacklevel=4,
        )
    if not isinstance(data, dict) or not data.get("email") or not data.get("password"):
        raise ChatMoreError("NOT_CONFIGURED", t("error.credentials_incomplete", path=path))
    return Credentials(str(data["email"]), str(data["password"]), str(path))


def find_credentials(email: str | None, password: str | None) -> Credentials:
    """Credentials from the arguments, the environment or a credentials file."""
    if email and password:
        return Credentials(email, password, "arguments")
    env_email = email or os.environ.get(EMAIL_ENV)
    env_password = password or os.environ.get(PASSWORD_ENV)
    if env_email and env_password:
        return Credentials(env_email, env_password, "environment")
    named = os.environ.get(CREDENTIALS_ENV, "").strip()
    path = Path(named).expanduser() if named else default_credentials_file()
    if named or path.is_file():
        found = read_credentials_file(path)
        if email and email != found.email:
            raise ChatMoreError(
                "NOT_CONFIGURED",
                t("error.credentials_other_email", email=email, path=path, found=found.email),
            )
        return found
    raise ChatMoreError(
        "NOT_CONFIGURED",
        t(
            "error.no_credentials",
            email_env=EMAIL_ENV,
            password_env=PASSWORD_ENV,
            file_env=CREDENTIALS_ENV,
            example='{"email": ..., "password": ...}',
            path=path,
        ),
    )
