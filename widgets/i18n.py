"""The kernel side's language: the notebook API's, the board's and the dashboard's
messages come from the same catalogs as the board's front end (``locales/<lang>.json``
beside this module, bundled into the board by esbuild): English and Chinese.

The kernel learns the language from the front end (the board's ``locale`` trait, the
dashboard's page) through :func:`set_locale`; until then from JupyterLab's language
setting (the user settings file), then the ``LANG`` environment variable.
"""

from __future__ import annotations

import json
import math
import os
import re
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "zh")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_current: str | None = None


@cache
def catalog(language: str) -> dict[str, str]:
    """The messages of ``language`` ("en" or "zh"), by key."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalog for {language!r}")
    text = resources.files(__package__).joinpath("locales", f"{language}.json").read_text("utf-8")
    return json.loads(text)


def language_of(tag: str | None) -> str:
    """``zh``, ``zh-CN``, ``zh_CN.UTF-8`` → "zh"; anything else → "en"."""
    return "zh" if re.match(r"^zh(?:[-_.]|$)", (tag or "").strip(), re.IGNORECASE) else "en"


def _lab_setting() -> str | None:
    """The language chosen in JupyterLab's settings, if any (None: JupyterLab's default)."""
    try:
        from jupyter_core.paths import jupyter_config_dir
    except ImportError:  # pragma: no cover - jupyter_core comes with the kernel
        return None
    root = os.environ.get("JUPYTERLAB_SETTINGS_DIR") or str(
        Path(jupyter_config_dir()) / "lab" / "user-settings"
    )
    path = Path(root) / "@jupyterlab" / "translation-extension" / "plugin.jupyterlab-settings"
    try:
        # JupyterLab writes JSON5; its comments are whole lines starting with //.
        text = "\n".join(
            line
            for line in path.read_text("utf-8").splitlines()
            if not line.lstrip().startswith("//")
        )
        value = json.loads(text).get("locale")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value != "default" else None


def detect_locale() -> str:
    """The language without word from a front end: JupyterLab's setting, else ``LANG``."""
    setting = _lab_setting()
    if setting:
        return language_of(setting)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if os.environ.get(name):
            return language_of(os.environ[name])
    return "en"


def locale() -> str:
    """The language the kernel's messages are in ("en" or "zh")."""
    global _current
    if _current is None:
        _current = detect_locale()
    return _current


def set_locale(tag: str | None) -> str:
    """Speak the front end's language from now on (``zh-CN`` → "zh"); returns it."""
    global _current
    _current = language_of(tag) if tag else detect_locale()
    return _current


def t(key: str, /, **params: Any) -> str:
    """The message ``key`` in the kernel's language, its ``{name}`` placeholders filled."""
    return t_in(locale(), key, **params)


def t_in(language: str, key: str, /, **params: Any) -> str:
    """The message ``key`` in ``language`` (a server answering many visitors, each in
    their own language, cannot use the kernel's one)."""
    found = catalog(language if language in LANGUAGES else "en")
    text = found.get(key) or catalog("en").get(key) or key
    if not params:
        return text
    return _PLACEHOLDER.sub(
        lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), text
    )


def wait_in_words(seconds: float, language: str | None = None) -> str:
    """A wait as a person says it, rounded up: "40 seconds", "4 minutes", "2 小时"."""
    language = language or locale()
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        amount, unit = whole, "second"
    elif whole < 2 * 3600:
        amount, unit = math.ceil(whole / 60), "minute"
    else:
        amount, unit = math.ceil(whole / 3600), "hour"
    named = unit if amount == 1 else f"{unit}s"
    return t_in(language, f"wait.{named}", n=amount)


def describe_error(
    code: str, message: str, details: dict[str, Any] | None = None, language: str | None = None
) -> str:
    """An API error as a sentence for a person, in ``language`` (default: the kernel's).

    English keeps the server's own message (it names the field, the model, the wait);
    Chinese says what the code means (``errorcode.<CODE>``), with the wait when the
    server gave one and the server's words where they carry the specifics
    (VALIDATION_FAILED names the field).
    """
    language = language or locale()
    details = details or {}
    if language == "en" and message:
        return sentence(message)
    if f"errorcode.{code}" not in catalog("en"):
        return sentence(message or code)
    retry = details.get("retry_after")
    wait = wait_in_words(float(retry), language) if isinstance(retry, int | float) else ""
    text = t_in(language, f"errorcode.{code}", wait=wait or t_in(language, "wait.later"))
    if code == "VALIDATION_FAILED" and message:
        text = t_in(language, "errorcode.with_detail", text=text, detail=message)
    return text


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?。！？" else f"{text}."


def format_number(value: float, decimals: int | None = None) -> str:
    """A number the locale's way: grouped thousands, ``decimals`` places if given.

    English and Chinese both group by thousands with "," and use "." for decimals.
    """
    if decimals is None:
        return f"{value:,}" if isinstance(value, int) else f"{value:,.6g}"
    return f"{value:,.{decimals}f}"


def format_date(value: datetime | date) -> str:
    """A date (and time) the locale's way: "Jan 5, 2025, 15:04" / "2025年1月5日 15:04"."""
    has_time = isinstance(value, datetime)
    if locale() == "zh":
        text = f"{value.year}年{value.month}月{value.day}日"
        return f"{text} {value:%H:%M}" if has_time else text
    text = f"{value:%b} {value.day}, {value.year}"
    return f"{text}, {value:%H:%M}" if has_time else text
