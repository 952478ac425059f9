"""The kernel side's language: the notebook API's, the board's and the dashboard's
messages come from the same catalogs as the board's front end (``locales/<lang>.json``
beside this module, bundled into the board by esbuild): English and Chinese.

The kernel learns the language from the front end (the board's ``locale`` trait, the
dashboard's page) through :func:`set_locale`; until then from JupyterLab's language
setting (the user settings file), then the ``LANG`` environment variable.
"""

from __future__ import annotations

import json
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
    text = catalog(locale()).get(key) or catalog("en").get(key) or key
    if not params:
        return text
    return _PLACEHOLDER.sub(
        lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), text
    )


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
