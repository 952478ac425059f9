"""The two pages the dashboard serves without a kernel: the sign-in form and "busy".

Plain, self-contained HTML (no script or style from elsewhere), in the visitor's
language (``language.py``). The sign-in form (Enter submits it, as any form) posts to
``dashboard/sign-in`` and reloads the page, which then starts the visitor's kernel; the
reload keeps the page's address, and with it the conversation it names. Its language
switch keeps the choice in a cookie (the server reads it) and in localStorage (the board
reads it), then reloads.
"""

from __future__ import annotations

import html
import json

from widgets.i18n import LANGUAGES, t_in

from .language import HTML_LANG, LOCALE_COOKIE

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans CJK SC","Microsoft YaHei",
sans-serif;background:#f6f7f9;margin:0;display:flex;min-height:100vh;align-items:center;
justify-content:center;color:#202124}
main{background:#fff;border:1px solid #dadce0;border-radius:8px;padding:28px 32px;width:320px}
h1{font-size:22px;margin:0 0 6px}p{margin:0 0 16px;color:#5f6368}
label{display:block;font-size:14px;margin:10px 0 4px}
input{width:100%;box-sizing:border-box;padding:8px;border:1px solid #c4c7c5;border-radius:4px}
button{margin-top:16px;width:100%;padding:9px;background:#1a73e8;color:#fff;border:0;
border-radius:4px;font-size:15px;cursor:pointer}button:disabled{opacity:.6}
#message{margin-top:12px;font-size:14px;color:#b3261e;min-height:1em}
#note{color:#1e7b34}
nav{margin-top:18px;font-size:13px;text-align:center;color:#5f6368}
nav button{all:unset;cursor:pointer;color:#1a73e8;margin:0 6px}
nav button[aria-pressed=true]{color:#202124;font-weight:600;cursor:default}
"""

# Keeps the visitor's language (the server reads the cookie, the board localStorage).
_SWITCH_SCRIPT = f"""
for (const choice of document.querySelectorAll("nav [data-locale]")) {{
  choice.addEventListener("click", () => {{
    const language = choice.dataset.locale;
    document.cookie = `{LOCALE_COOKIE}=${{language}}; path=/; max-age=31536000; samesite=lax`;
    try {{ localStorage.setItem("chatmore.locale", language); }} catch {{}}
    window.location.reload();
  }});
}}
"""

_SIGN_IN_SCRIPT = """
const said = JSON.parse(document.getElementById("said").textContent);
const form = document.getElementById("sign-in");
const message = document.getElementById("message");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  const body = {email: form.email.value.trim(), password: form.password.value};
  form.password.value = "";
  if (!body.email || !body.password) {
    message.textContent = said.missing;
    return;
  }
  button.disabled = true;
  message.textContent = "";
  try {
    const answer = await fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Requested-With": "ChatMore"},
      body: JSON.stringify(body),
    });
    if (answer.ok) {
      window.location.reload();
      return;
    }
    // The server's message, in the page's language (a lockout's says when to try again).
    const error = (await answer.json().catch(() => ({}))).error || {};
    message.textContent = error.message || said.failed;
  } catch (err) {
    message.textContent = said.unreachable;
  }
  button.disabled = false;
});
"""


def _switch(language: str) -> str:
    """English · 中文, each named in its own language."""
    choices = " · ".join(
        f'<button type="button" data-locale="{other}" lang="{HTML_LANG[other]}" '
        f'aria-pressed="{"true" if other == language else "false"}">'
        f"{html.escape(t_in(other, 'language.name'))}</button>"
        for other in LANGUAGES
    )
    label = html.escape(t_in(language, "language.switch"))
    return f'<nav aria-label="{label}">{choices}</nav>'


def _page(language: str, title: str, body: str, script: str = "") -> str:
    tail = f"<script>{script}{_SWITCH_SCRIPT}</script>"
    return (
        f'<!DOCTYPE html><html lang="{HTML_LANG[language]}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}{_switch(language)}</main>{tail}</body></html>"
    )


def _script_data(value: object) -> str:
    """``value`` as JSON that cannot end its <script> element."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def sign_in_page(base_url: str, language: str, note: str = "") -> str:
    action = html.escape(f"{base_url}dashboard/sign-in")
    shown = f'<p id="note">{html.escape(note)}</p>' if note else ""
    said = {
        "missing": t_in(language, "signin.missing"),
        "failed": t_in(language, "signin.failed"),
        "unreachable": t_in(language, "signin.unreachable"),
    }
    body = (
        f"<h1>ChatMore</h1><p>{html.escape(t_in(language, 'signin.lead'))}</p>{shown}"
        f'<form id="sign-in" action="{action}" method="post">'
        f'<label for="email">{html.escape(t_in(language, "signin.email"))}</label>'
        '<input id="email" name="email" type="email" autocomplete="username" required>'
        f'<label for="password">{html.escape(t_in(language, "signin.password"))}</label>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required>'
        f'<button type="submit">{html.escape(t_in(language, "signin.submit"))}</button>'
        '<div id="message" role="alert"></div></form>'
        f'<script type="application/json" id="said">{_script_data(said)}</script>'
    )
    return _page(language, t_in(language, "signin.title"), body, _SIGN_IN_SCRIPT)


def busy_page(language: str, reason: str) -> str:
    body = (
        f"<h1>{html.escape(t_in(language, 'busy.heading'))}</h1>"
        f"<p>{html.escape(reason)}</p>"
        f"<p>{html.escape(t_in(language, 'busy.advice'))}</p>"
        '<button type="button" onclick="window.location.reload()">'
        f"{html.escape(t_in(language, 'busy.retry'))}</button>"
    )
    return _page(language, t_in(language, "busy.title"), body)
