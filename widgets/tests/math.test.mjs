// TeX math in a reply: typeset by KaTeX, kept by the sanitiser, inert whatever the TeX,
// and never mistaken for prices.
import assert from "node:assert/strict";
import { test } from "node:test";
import { JSDOM } from "jsdom";

import { createMarkdown, createMarkdownRenderer } from "../src/render/markdown.js";
import { scanBlocks } from "../src/render/blocks.js";
import { filterKatexStyle } from "../src/render/sanitize.js";
import { StreamingMarkdown } from "../src/render/streaming.js";

const { window } = new JSDOM("<!doctype html><body></body>");
const render = createMarkdownRenderer({ window });
const markdown = createMarkdown({ window });

function dom(text) {
  const container = window.document.createElement("div");
  container.innerHTML = render(text);
  return container;
}

/** The TeX source of each formula shown, from the MathML KaTeX writes for it. */
const formulas = (container) =>
  [...container.querySelectorAll(".katex annotation")].map((a) => a.textContent);

test("$…$ and \\(…\\) are inline formulas, $$…$$ and \\[…\\] display ones", () => {
  const container = dom(
    "Inline $a_1 + b^2$ and \\(\\sqrt{x}\\); display $$\\sum_i i$$ and \\[\\frac{1}{2}\\] here.",
  );
  assert.deepEqual(formulas(container), ["a_1 + b^2", "\\sqrt{x}", "\\sum_i i", "\\frac{1}{2}"]);
  assert.equal(container.querySelectorAll(".katex-display").length, 2);
  assert.equal(container.querySelectorAll("p").length, 1, "all of it in one paragraph");
});

test("a $$ block spans lines, blank ones included, and interrupts a paragraph", () => {
  const container = dom("Where:\n$$\nE = mc^2\n\n\\int_0^1 x\\,dx\n$$\nAfter.");
  assert.deepEqual(formulas(container), ["E = mc^2\n\n\\int_0^1 x\\,dx"]);
  const [before, after] = container.querySelectorAll("p");
  assert.equal(before.textContent, "Where:");
  assert.equal(after.textContent, "After.");
  assert.ok(container.querySelector(":scope > .katex-display"), "a block of its own");
});

test("\\[ … \\] on lines of their own is a display block", () => {
  const container = dom("\\[\nx^2\n\\]\n\ntext");
  assert.deepEqual(formulas(container), ["x^2"]);
  assert.equal(container.querySelector("p").textContent, "text");
});

test("prices and other dollars stay text", () => {
  for (const text of [
    "It costs $5 and $10.",
    "Between $5-$10 a month.",
    "Pay $ 5 or 6 $ now.",
    "An escaped \\$x\\$ stays.",
    "US$5 and US$10.",
  ]) {
    const container = dom(text);
    assert.equal(container.querySelectorAll(".katex").length, 0, text);
  }
  assert.equal(dom("Costs $5 and $10.").textContent.trim(), "Costs $5 and $10.");
  assert.equal(dom("\\(a\\) is \\$5").querySelectorAll(".katex").length, 1);
});

test("an unclosed $$ runs to the end of the text, like an unclosed fence", () => {
  const container = dom("Text.\n\n$$\nx + 1\n\nstill math");
  assert.deepEqual(formulas(container), ["x + 1\n\nstill math"]);
  assert.equal(container.querySelectorAll("p").length, 1);
  // For the streaming renderer: the open formula is the last block, its open tail.
  const { blocks } = scanBlocks(markdown.md, "Text.\n\n$$\nx + 1\n\nstill\n");
  assert.deepEqual(
    blocks.map((block) => block.type),
    ["paragraph_open", "math_block"],
  );
});

test("a formula streamed line by line ends as a fresh render, and the block after it too", () => {
  const el = window.document.createElement("div");
  const reply = new StreamingMarkdown(el, markdown);
  const text = "Intro.\n\n$$\na^2 + b^2\n\n= c^2\n$$\n\nPrice $5, not $x$.\n";
  let shown = "";
  for (const char of text) {
    shown += char;
    reply.update(shown);
    if (char === "\n") assert.equal(el.innerHTML, render(shown), JSON.stringify(shown));
  }
  assert.equal(reply.verify(), false);
  assert.deepEqual(formulas(el), ["a^2 + b^2\n\n= c^2", "x"]);
});

test("the sanitiser keeps KaTeX's spans, styles, SVG and MathML", () => {
  const container = dom("$$\\sqrt{\\frac{a}{b}} \\overrightarrow{AB} \\color{red}{x}$$");
  assert.ok(container.querySelector(".katex-html .mfrac .frac-line"));
  assert.ok(container.querySelector(".katex-mathml math semantics mrow msqrt mfrac"));
  assert.equal(container.querySelector("annotation").getAttribute("encoding"), "application/x-tex");
  assert.ok(container.querySelector(".katex svg path[d]"), "the root sign is drawn");
  const styled = [...container.querySelectorAll("[style]")].map((e) => e.getAttribute("style"));
  assert.ok(
    styled.some((style) => /^height:[\d.]+em/.test(style)),
    styled.join(" | "),
  );
  assert.ok(styled.some((style) => style.includes("color:red")));
});

test("TeX cannot link, load, script or style its way out", () => {
  const container = dom(
    [
      "$\\href{javascript:alert(1)}{click}$",
      "$\\url{javascript:alert(2)}$",
      "$\\includegraphics{https://tracker.example/p.png}$",
      "$\\htmlStyle{position:fixed;inset:0}{x}$",
      "$\\htmlData{x=1}{y}$",
      "$\\text{<img src=x onerror=alert(3)>}$",
      "$\\textcolor{red;background:url(https://x.example)}{z}$",
      "$\\rule{9999em}{9999em}$",
    ].join(" "),
  );
  for (const node of container.querySelectorAll("*")) {
    for (const attribute of node.attributes) {
      assert.ok(!/^on/i.test(attribute.name), `${attribute.name} survived`);
      assert.ok(!["href", "src"].includes(attribute.name), `${attribute.name} survived`);
      assert.ok(!/^\s*javascript:/i.test(attribute.value), attribute.value);
      if (attribute.name === "style") {
        assert.ok(!/url\(|expression|fixed|inset/i.test(attribute.value), attribute.value);
      }
    }
  }
  for (const tag of ["a", "img", "script", "style", "iframe", "foreignObject"]) {
    assert.equal(container.querySelectorAll(tag).length, 0, `a <${tag}> survived`);
  }
  assert.match(container.textContent, /<img src=x onerror=alert\(3\)>/, "shown as text");
  const rule = [...container.querySelectorAll(".rule")].map((e) => e.getAttribute("style"));
  assert.ok(
    rule.every((style) => !/9999/.test(style)),
    "user sizes are capped",
  );
});

test("styles outside KaTeX's output are dropped", () => {
  const purify = createMarkdown({ window });
  const html = purify.sanitize(
    '<span style="color:red">a</span><p style="height:1em">b</p>' +
      '<span class="katex"><span style="height:1em;position:fixed;top:0">c</span></span>',
  );
  assert.equal(
    html,
    '<span>a</span><p>b</p><span class="katex"><span style="height:1em;top:0">c</span></span>',
  );
});

test("a KaTeX style keeps only plain lengths, colours and keywords", () => {
  assert.equal(
    filterKatexStyle("height:0.9em;vertical-align:-0.25em;margin-right:0.05em"),
    "height:0.9em;vertical-align:-0.25em;margin-right:0.05em",
  );
  assert.equal(
    filterKatexStyle("width:calc(100% - 0.1111em);position:relative"),
    "width:calc(100% - 0.1111em);position:relative",
  );
  assert.equal(
    filterKatexStyle("border:0.04em solid red;color:#cc0000"),
    "border:0.04em solid red;color:#cc0000",
  );
  for (const bad of [
    "position:fixed",
    "position:absolute",
    "background-image:url(https://x.example/p.png)",
    "color:var(--secret)",
    "color:expression(alert(1))",
    "width:calc(100vw)",
    "z-index:9999",
    "height:1em !important",
    "content:'x'",
  ]) {
    assert.equal(filterKatexStyle(bad), "", bad);
  }
});

test("a formula KaTeX cannot read shows its source, marked as an error", () => {
  const container = dom("Broken $\\frac{1}{$ formula.");
  const error = container.querySelector(".katex-error");
  assert.ok(error);
  assert.equal(error.textContent, "\\frac{1}{");
  assert.match(error.getAttribute("title"), /ParseError/);
});
