// One exchange's controls: copy a reply's Markdown or a code block's code (with the
// fallback when the Clipboard API refuses), and a long prompt's "Show all" toggle.
import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";

import { installDom } from "./dom.mjs";

const env = installDom();
const { ExchangeView } = await import("../src/view/exchange.js");
const { copyText, copyFromButton } = await import("../src/render/copy.js");
const { PROMPT_LINES } = await import("../src/view/prompt.js");

const REPLY = "Here:\n\n```python\nprint(1)\n```\n\nand $x^2$.";

/** navigator.clipboard as the page sees it: what was written, or a refusal. */
function fakeClipboard({ refuse = false } = {}) {
  const written = [];
  const clipboard = {
    writeText: async (text) => {
      if (refuse) throw new env.window.DOMException("denied", "NotAllowedError");
      written.push(text);
    },
  };
  Object.defineProperty(globalThis, "navigator", {
    value: { clipboard },
    configurable: true,
    writable: true,
  });
  return written;
}

function exchange(fields = {}) {
  return { turn_id: 1, prompt: "Hi", reply: REPLY, status: "succeeded", error: null, ...fields };
}

function mountExchange(fields) {
  const view = new ExchangeView(exchange(fields));
  document.body.append(view.el);
  view.render(exchange(fields));
  return view;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => document.body.replaceChildren());
afterEach(() => mock.timers.reset());

test("a reply's copy button copies its Markdown source, then says so for a moment", async () => {
  const written = fakeClipboard();
  mock.timers.enable({ apis: ["setTimeout"] });
  const view = mountExchange();
  const button = view.el.querySelector("[data-testid=copy-reply]");
  assert.equal(button.textContent, "Copy");
  button.click();
  await flush();
  assert.deepEqual(written, [REPLY]);
  assert.equal(button.textContent, "Copied");
  mock.timers.tick(2000);
  assert.equal(button.textContent, "Copy");
});

test("a code block's copy button copies the code alone", async () => {
  const written = fakeClipboard();
  const view = mountExchange();
  const button = view.el.querySelector(".cm-code .cm-code-copy");
  assert.equal(view.el.querySelector(".cm-code-lang").textContent, "python");
  button.dispatchEvent(new env.window.MouseEvent("click", { bubbles: true }));
  await flush();
  assert.deepEqual(written, ["print(1)"]);
  assert.equal(button.textContent, "Copied");
});

test("an exchange with no reply yet has no copy button", () => {
  const view = mountExchange({ reply: "", status: "queued" });
  assert.ok(view.el.querySelector(".cm-reply-actions").hidden);
  view.render(exchange({ reply: "Hel", status: "streaming" }));
  assert.ok(!view.el.querySelector(".cm-reply-actions").hidden);
});

test("when the Clipboard API refuses, the text is copied through a selection", async () => {
  fakeClipboard({ refuse: true });
  const copied = [];
  document.execCommand = (command) => {
    const area = document.querySelector("textarea");
    copied.push([command, area.value.slice(area.selectionStart, area.selectionEnd)]);
    return true;
  };
  try {
    assert.equal(await copyText("fallback text"), true);
    assert.deepEqual(copied, [["copy", "fallback text"]]);
    assert.equal(document.querySelector("textarea"), null, "the helper is removed");
    document.execCommand = () => false;
    const button = document.createElement("button");
    button.textContent = "Copy";
    await copyFromButton(button, "x");
    assert.equal(button.textContent, "Copy failed");
  } finally {
    delete document.execCommand;
  }
});

test("a long prompt shows its first lines and a toggle to show it all, and back", () => {
  const long = Array.from({ length: PROMPT_LINES + 4 }, (_, i) => `line ${i + 1}`).join("\n");
  const view = mountExchange({ prompt: long });
  const prompt = view.el.querySelector("[data-testid=prompt]");
  const toggle = view.el.querySelector("[data-testid=prompt-toggle]");
  assert.equal(prompt.textContent, long, "the whole text is there, as typed");
  assert.ok(prompt.classList.contains("is-clamped"));
  assert.ok(!toggle.hidden);
  assert.equal(toggle.textContent, "Show all");
  assert.equal(toggle.getAttribute("aria-expanded"), "false");
  toggle.click();
  assert.ok(!prompt.classList.contains("is-clamped"));
  assert.equal(toggle.textContent, "Show less");
  assert.equal(toggle.getAttribute("aria-expanded"), "true");
  toggle.click();
  assert.ok(prompt.classList.contains("is-clamped"));
  assert.equal(toggle.textContent, "Show all");
});

test("a short prompt has no toggle", () => {
  const view = mountExchange({ prompt: "one\ntwo" });
  assert.ok(view.el.querySelector("[data-testid=prompt-toggle]").hidden);
});
