"""The two pages the dashboard serves without a kernel: the sign-in form and "busy".

Plain, self-contained HTML (no script or style from elsewhere). The sign-in form (Enter
submits it, as any form) posts to ``dashboard/sign-in`` and reloads the page, which then
starts the visitor's kernel; the reload keeps the page's address, and with it the
conversation it names.
"""

from __future__ import annotations

import html

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f6f7f9;
margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center;color:#202124}
main{background:#fff;border:1px solid #dadce0;border-radius:8px;padding:28px 32px;width:320px}
h1{font-size:22px;margin:0 0 6px}p{margin:0 0 16px;color:#5f6368}
label{display:block;font-size:14px;margin:10px 0 4px}
input{width:100%;box-sizing:border-box;padding:8px;border:1px solid #c4c7c5;border-radius:4px}
button{margin-top:16px;width:100%;padding:9px;background:#1a73e8;color:#fff;border:0;
border-radius:4px;font-size:15px;cursor:pointer}button:disabled{opacity:.6}
#message{margin-top:12px;font-size:14px;color:#b3261e;min-height:1em}
#note{color:#1e7b34}
"""

_SIGN_IN_SCRIPT = """
const form = document.getElementById("sign-in");
const message = document.getElementById("message");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  const body = {email: form.email.value.trim(), password: form.password.value};
  form.password.value = "";
  if (!body.email || !body.password) {
    message.textContent = "Enter your email and your password.";
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
    const error = (await answer.json().catch(() => ({}))).error || {};
    // The server's message as a sentence (a lockout's says when to try again).
    const said = error.message || "signing in failed; try again";
    message.textContent = said.charAt(0).toUpperCase() + said.slice(1) + ".";
  } catch (err) {
    message.textContent = "The server cannot be reached; try again.";
  }
  button.disabled = false;
});
"""


def _page(title: str, body: str, script: str = "") -> str:
    tail = f"<script>{script}</script>" if script else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main>{tail}</body></html>"
    )


def sign_in_page(base_url: str, note: str = "") -> str:
    action = html.escape(f"{base_url}dashboard/sign-in")
    shown = f'<p id="note">{html.escape(note)}</p>' if note else ""
    body = (
        f"<h1>ChatMore</h1><p>Sign in to compare models side by side.</p>{shown}"
        f'<form id="sign-in" action="{action}" method="post">'
        '<label for="email">Email</label>'
        '<input id="email" name="email" type="email" autocomplete="username" required>'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required>'
        '<button type="submit">Sign in</button>'
        '<div id="message" role="alert"></div></form>'
    )
    return _page("ChatMore · sign in", body, _SIGN_IN_SCRIPT)


def busy_page(reason: str) -> str:
    body = (
        "<h1>ChatMore is busy</h1>"
        f"<p>{html.escape(reason)}</p>"
        "<p>Close a ChatMore tab you no longer use, or try again in a minute.</p>"
        '<button type="button" onclick="window.location.reload()">Try again</button>'
    )
    return _page("ChatMore · busy", body)
