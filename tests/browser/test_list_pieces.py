"""A long list that streams is kept in pieces (widgets/src/render/streaming.js: elements
like the list's, marked ``data-cm-continues`` / ``data-cm-continued``, an ordered list's
numbers going on with ``start``). In Chromium, with the board's own stylesheet, the pieces
must look exactly like the one list a fresh render has: same pixels, bullets, numbers and
spacing, tight or loose."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import sync_playwright

from tests.support import chromium
from tests.support.chromium import REPO

pytestmark = [pytest.mark.browser]

PIECE = 64  # items per piece, as the board streams them


def items(n: int, loose: bool) -> list[str]:
    body = (
        "<p>point {i} with <em>some</em> words</p>"
        if loose
        else "point {i} with <em>some</em> words"
    )
    return [f"<li>{body.format(i=i)}</li>" for i in range(n)]


def whole(tag: str, start: int, lis: list[str]) -> str:
    attrs = f' start="{start}"' if tag == "ol" and start != 1 else ""
    return f"<p>Intro.</p>\n<{tag}{attrs}>\n" + "\n".join(lis) + f"\n</{tag}>\n<p>After.</p>"


def pieces(tag: str, start: int, lis: list[str]) -> str:
    parts = [lis[i : i + PIECE] for i in range(0, len(lis), PIECE)]
    out = ["<p>Intro.</p>"]
    for index, part in enumerate(parts):
        attrs = []
        if tag == "ol" and (index or start != 1):
            attrs.append(f'start="{start + index * PIECE}"')
        if index:
            attrs.append("data-cm-continued")
        if index < len(parts) - 1:
            attrs.append("data-cm-continues")
        opening = " ".join([tag, *attrs])
        out.append(f"<{opening}>\n" + "\n".join(part) + f"\n</{tag}>")
    return "\n".join(out) + "\n<p>After.</p>"


CASES: list[tuple[str, Callable[[], tuple[str, str]]]] = [
    (
        "tight bullets",
        lambda: (whole("ul", 1, items(150, False)), pieces("ul", 1, items(150, False))),
    ),
    (
        "loose bullets",
        lambda: (whole("ul", 1, items(150, True)), pieces("ul", 1, items(150, True))),
    ),
    (
        "numbers from 5",
        lambda: (whole("ol", 5, items(150, False)), pieces("ol", 5, items(150, False))),
    ),
]


def test_a_lists_pieces_look_like_one_list() -> None:
    css = (REPO / "widgets" / "static" / "board.css").read_text()
    page_html = (
        "<!doctype html><html><head><style>" + css + "</style></head><body>"
        '<div class="chatmore-board"><div id="reply" class="cm-markdown cm-reply"'
        ' style="width: 360px"></div></div></body></html>'
    )
    with sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        try:
            page = chromium.new_context(browser, 600, 9000).new_page()
            page.set_content(page_html)
            reply = page.locator("#reply")
            for name, make in CASES:
                one, split = make()
                shots = []
                for html in (one, split):
                    page.evaluate(
                        "html => { document.getElementById('reply').innerHTML = html }", html
                    )
                    shots.append(reply.screenshot())
                counts = page.evaluate(
                    "() => [...document.querySelectorAll('#reply ul, #reply ol')].length"
                )
                assert counts == 3, f"{name}: the split version has its pieces"
                assert shots[0] == shots[1], f"{name}: the pieces look different from one list"
        finally:
            browser.close()
