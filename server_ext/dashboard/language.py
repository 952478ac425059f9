"""The dashboard visitor's language: English or Chinese.

The visitor's own choice (the language switch on the sign-in page and in the dashboard
writes it to the ``chatmore_locale`` cookie) wins; else the browser's ``Accept-Language``,
in its order of preference, the first language ChatMore speaks; else English. The page
handler passes it to the visitor's kernel (``X-ChatMore-Locale``, an environment variable
there, as Voilà does with request headers), so the notebook starts in the same language.
"""

from __future__ import annotations

import re

from widgets.i18n import LANGUAGES, language_of

LOCALE_COOKIE = "chatmore_locale"
LOCALE_HEADER = "X-ChatMore-Locale"
# HTML's lang attribute for each language.
HTML_LANG = {"en": "en", "zh": "zh-CN"}
_QUALITY = re.compile(r";\s*q\s*=\s*([^;,\s]*)", re.IGNORECASE)


def visitor_language(cookie: str | None, accept_language: str | None) -> str:
    """``cookie`` if it names a language ChatMore speaks, else the browser's first one."""
    if cookie in LANGUAGES:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for order, part in enumerate((accept_language or "").split(",")[:20]):
        tag = part.split(";", 1)[0].strip()
        found = _QUALITY.search(part)
        try:
            quality = float(found.group(1)) if found else 1.0
        except ValueError:
            continue
        if tag and quality > 0:
            ranked.append((-quality, order, tag))
    for _, _, tag in sorted(ranked):
        if tag.lower().startswith(("zh", "en")):
            return language_of(tag)
    return "en"
