"""The read-only page of a shared conversation, rendered in the server as plain HTML.

Columns as on the board: one per window (its name and model), and a row per turn — the
prompt across the top, each window's reply below it with its status, latency and tokens.
Replies are Markdown rendered with raw HTML escaped, then sanitised by an allowlist (no
images, no scripts, no event handlers or styles; links only http, https and mailto). The
page carries no script at all, and its Content-Security-Policy (set by the handler) would
refuse one; it names no user and no model address.
"""

from __future__ import annotations

import html
from typing import Any

import bleach
import mistune

ALLOWED_TAGS = frozenset(
    {
        "a", "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote",
        "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "code": ["class"], "th": ["align"], "td": ["align"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

_markdown = mistune.create_markdown(escape=True, plugins=["strikethrough", "table"])

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1f1f1f;background:#f6f7f9}
header{padding:16px 24px;background:#fff;border-bottom:1px solid #e0e0e0}
header h1{font-size:20px;margin:0}header p{margin:4px 0 0;color:#5f6368;font-size:13px}
main{padding:16px 24px}
.grid{display:grid;gap:12px;grid-template-columns:repeat(var(--columns),minmax(260px,1fr))}
.column-head{font-weight:600;padding:8px 12px;background:#fff;border:1px solid #e0e0e0;
border-radius:6px}.column-head small{display:block;font-weight:400;color:#5f6368}
.prompt{grid-column:1/-1;background:#e8f0fe;border-radius:6px;padding:8px 12px;
white-space:pre-wrap}
.reply{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:8px 12px;
overflow-wrap:anywhere}.reply pre{overflow-x:auto;background:#f1f3f4;padding:8px}
.facts{color:#5f6368;font-size:12px}.failed .facts{color:#b3261e}
footer{padding:16px 24px;color:#5f6368;font-size:12px}
"""


def render_markdown(text: str) -> str:
    rendered = str(_markdown(text or ""))
    return bleach.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
    )


def _facts(result: dict[str, Any]) -> str:
    parts = [result["status"] + (f" ({result['error_code']})" if result["error_code"] else "")]
    if result["latency_ms"] is not None:
        parts.append(f"{result['latency_ms']:,} ms")
    if result["ttft_ms"] is not None:
        parts.append(f"first token {result['ttft_ms']:,} ms")
    if result["completion_tokens"] is not None:
        parts.append(f"{result['completion_tokens']:,} tokens")
    return " · ".join(parts)


def render_page(conversation: dict[str, Any], history: list[dict[str, Any]]) -> str:
    windows = conversation["windows"]
    title = html.escape(conversation["title"] or "Shared conversation")
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width,initial-scale=1">',
        '<meta name=robots content="noindex"><link rel=icon href="data:,">',
        f"<title>{title} · ChatMore</title><style>{STYLE}</style></head><body>",
        f"<header><h1>{title}</h1><p>A read-only copy of a ChatMore comparison.</p></header>",
        f'<main><div class=grid style="--columns:{len(windows)}" data-testid=columns>',
    ]
    for w in windows:
        name, model = html.escape(w["name"] or w["model_name"]), html.escape(w["model_name"])
        out.append(f"<div class=column-head>{name}<small>{model}</small></div>")
    for turn in history:
        out.append(f"<div class=prompt data-testid=prompt>{html.escape(turn['input_text'])}</div>")
        by_window = {r["window_id"]: r for r in turn["results"]}
        for w in windows:
            result = by_window.get(w["id"])
            if result is None:
                out.append("<div></div>")
                continue
            failed = " failed" if result["status"] != "succeeded" else ""
            out.append(
                f"<div class='reply{failed}' data-testid=reply>"
                f"<div class=facts>{html.escape(_facts(result))}</div>"
                f"{render_markdown(result['reply'] or '')}</div>"
            )
    out.append("</div></main><footer>Shared from ChatMore.</footer></body></html>")
    return "".join(out)
