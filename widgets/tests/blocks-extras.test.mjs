// Task lists and code blocks with their header: what they render, and that a streamed
// reply made of them ends as a fresh render.
import assert from "node:assert/strict";
import { test } from "node:test";
import { JSDOM } from "jsdom";

import { codeOfButton } from "../src/render/code.js";
import { createMarkdown, createMarkdownRenderer } from "../src/render/markdown.js";
import { StreamingMarkdown } from "../src/render/streaming.js";

const { window } = new JSDOM("<!doctype html><body></body>");
const render = createMarkdownRenderer({ window });
const markdown = createMarkdown({ window });

function dom(text) {
  const container = window.document.createElement("div");
  container.innerHTML = render(text);
  return container;
}

test("task list items show disabled checkboxes, ticked or not", () => {
  const container = dom(
    "- [ ] to do\n- [x] done\n- [X] also done\n- plain item\n- [link](https://example.org)",
  );
  const items = [...container.querySelectorAll("li")];
  const boxes = items.map((li) => li.querySelector(":scope > input"));
  assert.deepEqual(
    boxes.map((box) => box && box.checked),
    [false, true, true, null, null],
  );
  for (const box of boxes.filter(Boolean)) {
    assert.equal(box.type, "checkbox");
    assert.ok(box.disabled, "a reply's checkbox cannot be ticked");
  }
  assert.deepEqual(
    items.map((li) => li.classList.contains("cm-task")),
    [true, true, true, false, false],
  );
  assert.equal(items[0].textContent.trim(), "to do");
  assert.equal(items[4].querySelector("a")?.getAttribute("href"), "https://example.org");
});

test("a loose task list and an ordered one have checkboxes too; brackets elsewhere do not", () => {
  const loose = dom("- [x] one\n\n- [ ] two\n");
  assert.equal(loose.querySelectorAll("li > p > input[type=checkbox]").length, 2);
  assert.equal(dom("1. [x] first\n2. [ ] second").querySelectorAll("input").length, 2);
  assert.equal(dom("[ ] not in a list\n\n- [ ]not a task").querySelectorAll("input").length, 0);
});

test("a model's own form controls are not kept", () => {
  // Raw HTML is text; and a checkbox the renderer did not make would be disabled anyway.
  const container = dom('<input type="text" value="x"> <button type="submit">Go</button>');
  assert.equal(container.querySelectorAll("input, button").length, 0);
  const purified = markdown.sanitize(
    '<input type="text" onfocus="alert(1)"><button type="submit" formaction="https://x">b</button>',
  );
  assert.equal(purified, '<input type="checkbox" disabled=""><button type="button">b</button>');
});

test("a fenced block shows its language and a copy button for its code", () => {
  const container = dom("```python title=x.py\nprint('<hi>')\n\n```\n");
  const block = container.querySelector(".cm-code");
  assert.equal(block.querySelector(".cm-code-lang").textContent, "python");
  const button = block.querySelector("button.cm-code-copy");
  assert.equal(button.textContent, "Copy");
  assert.equal(button.getAttribute("type"), "button");
  assert.equal(codeOfButton(button), "print('<hi>')\n");
  assert.ok(block.querySelector("pre > code.language-python .hljs-built_in"));
});

test("a block with no language, or an indented one, has a copy button and no label", () => {
  for (const text of ["```\nplain\n```", "    indented\n    code"]) {
    const block = dom(text).querySelector(".cm-code");
    assert.equal(block.querySelector(".cm-code-lang"), null, text);
    assert.ok(codeOfButton(block.querySelector(".cm-code-copy")).length > 0);
  }
  const label = dom("```<img src=x onerror=alert(1)>\nx\n```").querySelector(".cm-code-lang");
  assert.equal(label.textContent, "<img");
});

test("code blocks and task lists streamed a character at a time end as a fresh render", () => {
  const text =
    "Steps:\n\n- [x] install\n- [ ] run `make`\n\n```js\nconst a = 1;\n\nconsole.log(a);\n```\n\n" +
    "    indented\n\n1. [ ] last\n";
  const el = window.document.createElement("div");
  const reply = new StreamingMarkdown(el, markdown);
  let shown = "";
  for (const char of text) {
    shown += char;
    reply.update(shown);
    if (char === "\n") assert.equal(el.innerHTML, render(shown), JSON.stringify(shown));
  }
  assert.equal(reply.verify(), false);
  assert.equal(el.querySelectorAll(".cm-code").length, 2);
  assert.equal(el.querySelectorAll("input[type=checkbox]").length, 3);
});
