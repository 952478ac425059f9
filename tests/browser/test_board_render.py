"""What a reply shows in a real JupyterLab and Chromium: copy buttons that put the reply's
Markdown and a code block's code on the clipboard; math typeset by the bundled KaTeX
(its fonts loaded from the bundle, never fetched); task lists; a long prompt cut to its
first lines with a toggle; and every text of the board readable (4.5:1) in JupyterLab's
light and dark themes, with code blocks that stand out from the column in both.

The board's model repeats the prompt verbatim (the demo provider's ``echo``), so each test
sends exactly the Markdown it wants drawn."""

from __future__ import annotations

import nbformat
import pytest

from tests.browser.conftest import REPO, Browser, Lab, unique
from tests.browser.test_workbench import run_all_cells, wait_statuses

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

CODE = 'items = [1, 2, 3]\nprint(items[::-1])  # reversed, "quoted" & <tagged>'
COPY_REPLY = f"Reverse a list:\n\n```python\n{CODE}\n```\n\nThat is all: $x^2$."

MATH_REPLY = r"""Euler: $e^{i\pi} + 1 = 0$, and \(a_1\) inline; it costs $5 and $10.

$$
\int_0^1 x^2\,dx = \frac{1}{3}
$$

\[
\sqrt{a^2 + b^2}
\]

- [x] typeset
- [ ] checked by hand

Not a link: $\href{javascript:alert(1)}{click}$."""

LONG_PROMPT = "\n".join(f"line {i} of a long prompt" for i in range(1, 21))

CONTRAST_REPLY = r"""# A heading

A paragraph with a [link](https://example.org/docs), `inline code`, **bold** and *em*.

> A quote, in the muted colour.

| name | value |
|------|------:|
| pi   | 3.14  |

- a list item
- [x] a task done
- [ ] a task to do

```python
import math

@cache
def area(r: float) -> float:
    '''Circle area.'''
    return math.pi * r ** 2  # a comment
print(area(2), True, None, "text", [1, 2.5])
```

Inline $e^{i\pi} + 1 = 0$ and on its own:

$$
\int_0^1 x^2\,dx = \frac{1}{3}
$$
"""

# Every element with text of its own, on screen: its text colour over the background it
# is painted on (the first opaque one up its ancestors, with the translucent ones in
# between composited), as WCAG's contrast ratio. Colours are read back through a canvas,
# which resolves any CSS colour syntax (color-mix, light-dark, rgba). Skipped: what is not
# painted (hidden, or clipped to a pixel, as KaTeX's MathML copy for screen readers is),
# and disabled controls, which WCAG exempts.
CONTRAST_SCRIPT = """
(root) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "#000";
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = ([r, g, b, a], [R, G, B]) =>
    [r * a + R * (1 - a), g * a + G * (1 - a), b * a + B * (1 - a), 1];
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const color = rgba(getComputedStyle(node).backgroundColor);
      if (color[3] > 0) layers.push(color);
      if (color[3] >= 1) break;
    }
    let base = [255, 255, 255, 1];
    for (const layer of layers.reverse()) base = layer[3] >= 1 ? layer : over(layer, base);
    return base;
  };
  const luminance = ([r, g, b]) => {
    const linear = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const painted = (el) => {
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
    for (let node = el; node && node !== root.parentElement; node = node.parentElement) {
      const box = node.getBoundingClientRect();
      if (box.width <= 1 || box.height <= 1) return false;
    }
    return true;
  };
  const results = [];
  for (const el of root.querySelectorAll("*")) {
    const text = [...el.childNodes]
      .filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent)
      .join("")
      .replace(/[\\s\\u200b]+/g, " ")
      .trim();
    if (!text || !painted(el) || el.closest(":disabled")) continue;
    const bg = background(el);
    const fg = over(rgba(getComputedStyle(el).color), bg);
    const classes = typeof el.className === "string" ? el.className : "";
    results.push({
      element: [el.tagName.toLowerCase(), ...classes.split(" ").filter(Boolean)].join("."),
      text: text.slice(0, 40),
      color: fg.slice(0, 3).map(Math.round),
      background: bg.slice(0, 3).map(Math.round),
      ratio: Math.round(ratio(fg, bg) * 100) / 100,
    });
  }
  const code = root.querySelector(".cm-reply .cm-code");
  const column = root.querySelector(".cm-column-body");
  return {
    results,
    codeBackground: background(code).slice(0, 3),
    columnBackground: background(column).slice(0, 3),
    codeAgainstColumn: ratio(background(code), background(column)),
  };
}
"""


def open_echo_board(lab: Lab, browser: Browser, name: str, windows: list[dict]):
    """A notebook of its own with a board of echo models; returns the board's locator."""
    book = nbformat.v4.new_notebook(
        metadata=nbformat.read(REPO / "notebooks" / "workbench.ipynb", as_version=4).metadata
    )
    book.cells = [
        nbformat.v4.new_code_cell("import chatmore_kernel as cm\n\nsession = cm.connect()"),
        nbformat.v4.new_code_cell(
            f"board = cm.board(windows={windows!r}, title='Render', height=900)\nboard"
        ),
    ]
    nbformat.write(book, lab.root / f"{name}.ipynb")
    page = browser.page
    # `reset`: a fresh workspace, so no notebook of an earlier test opens beside this one.
    page.goto(lab.url(f"lab/tree/{name}.ipynb") + "&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    run_all_cells(page)
    board = page.locator('[data-testid="chatmore-board"]').first
    board.wait_for(timeout=120_000)
    return board


def send(page, board, text: str, turns: int) -> None:
    """Type `text` in the shared input, send it, and wait until every column has answered."""
    board.locator('[data-testid="shared-input"]').fill(text)
    board.locator('[data-testid="send-button"]').click()
    columns = board.locator('[data-testid="column"]').count()
    page.wait_for_function(
        """([board, turns]) => [...board.querySelectorAll('[data-testid="column"]')].every(
            (c) => c.querySelectorAll('[data-testid="exchange"][data-status="succeeded"]')
                .length >= turns)""",
        arg=[board.element_handle(), turns],
        timeout=120_000,
    )
    wait_statuses(page, board, ["succeeded"] * columns)


def echo_model(lab: Lab) -> str:
    name = unique("Echo")
    lab.create_model(name, "echo;echo=1;tps=0")
    return name


def clipboard(page) -> str:
    return page.evaluate("() => navigator.clipboard.readText()")


def test_copy_buttons_copy_the_replys_markdown_and_a_blocks_code(
    lab: Lab, browser: Browser
) -> None:
    page = browser.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    board = open_echo_board(lab, browser, "copy", [{"model": echo_model(lab)}])
    send(page, board, COPY_REPLY, turns=1)
    exchange = board.locator('[data-testid="exchange"]').last
    reply = exchange.locator('[data-testid="reply"]')
    block = reply.locator(".cm-code")
    block.scroll_into_view_if_needed()
    assert block.locator(".cm-code-lang").text_content() == "python"
    assert block.locator("pre code .hljs-built_in").count() > 0  # highlighted as python

    copy_reply = exchange.locator('[data-testid="copy-reply"]')
    assert copy_reply.text_content() == "Copy"
    copy_reply.click()
    copy_reply.filter(has_text="Copied").wait_for(timeout=30_000)
    browser.shot("render-01-reply-copied")
    assert clipboard(page) == COPY_REPLY  # the Markdown source, not the HTML
    copy_reply.filter(has_text="Copy").filter(has_not_text="Copied").wait_for(timeout=30_000)

    copy_code = block.locator(".cm-code-copy")
    copy_code.click()
    copy_code.filter(has_text="Copied").wait_for(timeout=30_000)
    browser.shot("render-02-code-copied")
    assert clipboard(page) == CODE
    assert browser.foreign_requests() == []


def test_math_and_task_lists_render_and_a_long_prompt_folds(lab: Lab, browser: Browser) -> None:
    page = browser.page
    board = open_echo_board(lab, browser, "math", [{"model": echo_model(lab)}])
    send(page, board, MATH_REPLY, turns=1)
    reply = board.locator('[data-testid="reply"]').last

    # Typeset: inline and display formulas, with the MathML copy for screen readers.
    annotations = reply.locator("annotation").all_text_contents()
    assert annotations == [
        r"e^{i\pi} + 1 = 0",
        "a_1",
        r"\int_0^1 x^2\,dx = \frac{1}{3}",
        r"\sqrt{a^2 + b^2}",
        r"\href{javascript:alert(1)}{click}",
    ]
    assert reply.locator(".katex-display").count() == 2
    assert reply.locator("math").count() == 5
    assert reply.locator(".katex svg path").count() >= 1  # the root sign, drawn
    assert "it costs $5 and $10." in (reply.text_content() or "")
    assert reply.locator("a").count() == 0  # \href without trust is no link
    # KaTeX's own fonts, from the bundle: loaded, and no font was requested from anywhere.
    page.wait_for_function("() => document.fonts.check('16px KaTeX_Main')", timeout=30_000)
    font_family = reply.locator(".katex .mord").first.evaluate(
        "(el) => getComputedStyle(el).fontFamily"
    )
    assert "KaTeX_Main" in font_family or "KaTeX_Math" in font_family
    assert [url for url in browser.requests if ".woff" in url or ".ttf" in url] == []

    # Task list items: disabled checkboxes, one ticked.
    boxes = reply.locator("li.cm-task > input[type=checkbox]")
    assert boxes.count() == 2
    assert [box.is_checked() for box in boxes.all()] == [True, False]
    assert all(box.is_disabled() for box in boxes.all())
    board.scroll_into_view_if_needed()
    browser.shot("render-03-math-and-tasks")

    # A long prompt shows its first lines and a toggle; a short one has none.
    send(page, board, LONG_PROMPT, turns=2)
    exchange = board.locator('[data-testid="exchange"]').last
    prompt = exchange.locator('[data-testid="prompt"]')
    toggle = exchange.locator('[data-testid="prompt-toggle"]')
    toggle.filter(has_text="Show all").wait_for(timeout=30_000)

    def cut() -> bool:
        return prompt.evaluate("(el) => el.scrollHeight > el.clientHeight + 1")

    assert cut()
    assert prompt.text_content() == LONG_PROMPT  # all of it is there, for copy and search
    prompt.scroll_into_view_if_needed()
    browser.shot("render-04-long-prompt-folded")
    toggle.click()
    toggle.filter(has_text="Show less").wait_for(timeout=30_000)
    assert toggle.get_attribute("aria-expanded") == "true"
    assert not cut()
    assert prompt.inner_text() == LONG_PROMPT
    browser.shot("render-05-long-prompt-shown")
    toggle.click()
    toggle.filter(has_text="Show all").wait_for(timeout=30_000)
    assert cut()
    send(page, board, "A short prompt.", turns=3)
    short = board.locator('[data-testid="exchange"]').last
    short.locator('[data-testid="reply"]').scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # measured after layout
    assert short.locator('[data-testid="prompt-toggle"]').is_hidden()
    assert browser.foreign_requests() == []
    assert browser.dialogs == []


def switch_theme(page, theme: str, light: bool) -> None:
    """Settings > Theme > `theme`, as a user picks it; wait until the page has it."""
    page.locator(".lm-MenuBar-item", has_text="Settings").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
    page.locator(".lm-Menu-itemLabel", has_text=theme).first.click()
    page.wait_for_selector(
        f'body[data-jp-theme-light="{str(light).lower()}"][data-jp-theme-name="{theme}"]',
        state="attached",
        timeout=60_000,
    )
    page.wait_for_timeout(500)  # the theme's stylesheet applied


def assert_readable(page, board, theme: str) -> None:
    measured = board.evaluate(CONTRAST_SCRIPT)
    results = measured["results"]
    texts = " ".join(r["text"] for r in results)
    # What was measured: the reply's parts, the prompt, the chips, the footer, the buttons.
    for seen in ("A heading", "link", "inline code", "quote", "3.14", "a task done"):
        assert seen in texts, f"{theme}: {seen!r} was not measured"
    elements = " ".join(r["element"] for r in results)
    for part in (
        "hljs-keyword",
        "hljs-string",
        "hljs-comment",
        "hljs-number",
        "hljs-title",
        "mord",
        "cm-chip",
        "cm-code-lang",
        "cm-code-copy",
        "cm-reply-copy",
        "cm-prompt",
        "cm-status",
        "cm-send",
    ):
        assert part in elements, f"{theme}: no {part} was measured"
    assert [r for r in results if r["text"].startswith("latency")], f"{theme}: footer"
    low = [r for r in results if r["ratio"] < 4.5]
    assert not low, f"{theme}: text under 4.5:1: {low}"
    # A code block keeps a background of its own against the column's.
    assert measured["codeBackground"] != measured["columnBackground"]
    assert measured["codeAgainstColumn"] >= 1.1, measured


def test_every_text_of_the_board_is_readable_in_light_and_dark(lab: Lab, browser: Browser) -> None:
    page = browser.page
    windows = [
        {
            "model": echo_model(lab),
            "name": "Echo warm",
            "params": {"temperature": 0.3},
            "system_prompt": "Repeat what you are told.",
        },
        {"model": echo_model(lab), "name": "Echo"},
    ]
    board = open_echo_board(lab, browser, "contrast", windows)
    send(page, board, CONTRAST_REPLY, turns=1)
    page.wait_for_function("() => document.fonts.check('16px KaTeX_Main')", timeout=30_000)
    board.scroll_into_view_if_needed()
    assert page.locator('body[data-jp-theme-light="true"]').count() == 1
    assert board.locator('[data-testid="param-chip"]').count() == 1
    # A draft in the input: the send button is enabled (a disabled control is exempt).
    board.locator('[data-testid="shared-input"]').fill("A draft")
    browser.shot("render-06-light")
    assert_readable(page, board, "light")

    switch_theme(page, "JupyterLab Dark", light=False)
    board.scroll_into_view_if_needed()
    browser.shot("render-07-dark")
    assert_readable(page, board, "dark")

    switch_theme(page, "JupyterLab Light", light=True)
