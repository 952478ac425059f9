// A reply drawn block by block shows what a fresh render of its text shows: at every
// line end while it streams, and whole once finished, wherever the chunks were cut.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { JSDOM } from "jsdom";

import { createMarkdown } from "../src/render/markdown.js";
import { StreamingMarkdown } from "../src/render/streaming.js";

const { window } = new JSDOM("<!doctype html><body></body>");
const { document } = window;
const markdown = createMarkdown({ window });
const fresh = (text) => markdown.sanitize(markdown.md.render(text));
/**
 * The same parser without the sanitiser (jsdom's is slow): for the exhaustive cuts. The
 * same blocks come back cut after cut: each HTML is parsed once, then its nodes cloned.
 */
const parsed = new Map();
const unsanitised = {
  ...markdown,
  fragment(html) {
    let template = parsed.get(html);
    if (!template) {
      template = document.createElement("template");
      template.innerHTML = html;
      parsed.set(html, template);
    }
    return template.content.cloneNode(true);
  },
};

const fixture = (name) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
/** Markdown with fences (open and closed), lists (tight, loose, nested), tables, math, HTML. */
const CORPUS = fixture("corpus.md");
/** The demo provider's replies, as the tokens it streams (tests/widgets/reply_samples.py). */
const DEMO = JSON.parse(fixture("demo-replies.json"));

function stream(parts = markdown) {
  const el = document.createElement("div");
  return { el, reply: new StreamingMarkdown(el, parts) };
}

/**
 * Stream `chunks` one by one; check every line end (a long open list's pieces joined:
 * they show as one list); return the streamer.
 */
/** Stream `chunks`, comparing with a fresh render at every `every`-th line end (a check
 * renders the whole text again: on a reply of 400 lines, checking each one took 40 s). */
function streamChecked(chunks, label, every = 1) {
  const { el, reply } = stream();
  let text = "";
  let lineEnds = 0;
  for (const chunk of chunks) {
    text += chunk;
    reply.update(text);
    if (text.endsWith("\n") && ++lineEnds % every === 0) {
      assert.equal(joined(el), fresh(text), `${label}: after ${JSON.stringify(text.slice(-60))}`);
    }
  }
  assert.equal(joined(el), fresh(text), `${label}: at the end`);
  return { el, reply, text };
}

test("the corpus streamed a character at a time matches a fresh render at every line end", () => {
  const { el, reply } = streamChecked([...CORPUS], "corpus");
  assert.equal(el.innerHTML, fresh(CORPUS));
  assert.equal(reply.verify(), false, "the final check found nothing to redraw");
});

/** A fresh render through `unsanitised`, serialised. */
function freshUnsanitised(text) {
  const holder = document.createElement("div");
  holder.append(unsanitised.fragment(markdown.md.render(text)));
  return holder.innerHTML;
}

test("the corpus cut in two at every character, streamed, then finished, matches", () => {
  // Where the text is cut is the parser's business; the sanitiser is checked above.
  const whole = freshUnsanitised(CORPUS);
  for (let cut = 1; cut < CORPUS.length; cut++) {
    const { el, reply } = stream(unsanitised);
    reply.update(CORPUS.slice(0, cut));
    reply.update(CORPUS);
    assert.equal(
      el.innerHTML,
      whole,
      `cut at ${cut}: ${JSON.stringify(CORPUS.slice(cut - 30, cut))}`,
    );
  }
});

test("the demo's replies streamed token by token match at every line end and at the end", () => {
  for (const [index, tokens] of DEMO.entries()) {
    const { el, reply, text } = streamChecked(tokens, `reply ${index}`);
    assert.equal(el.innerHTML, fresh(text), `reply ${index}`);
    assert.equal(reply.verify(), false);
  }
});

test("the demo's replies cut in two at every token, streamed, then finished, match", () => {
  for (const [index, tokens] of DEMO.entries()) {
    const text = tokens.join("");
    const whole = freshUnsanitised(text);
    let prefix = "";
    for (const token of tokens.slice(0, -1)) {
      prefix += token;
      const { el, reply } = stream(unsanitised);
      reply.update(prefix);
      reply.update(text);
      assert.equal(
        el.innerHTML,
        whole,
        `reply ${index} cut after ${JSON.stringify(prefix.slice(-40))}`,
      );
    }
  }
});

test("frozen blocks are never touched again: only the open tail is redrawn", () => {
  const { el, reply } = stream();
  reply.update("# Title\n\nFirst paragraph.\n\nSecond");
  const heading = el.querySelector("h1");
  reply.update("# Title\n\nFirst paragraph.\n\nSecond paragraph, longer.\n\n- a\n- b\n- c\n");
  assert.equal(el.querySelector("h1"), heading);
  const first = el.querySelector("p");
  const [a, b] = el.querySelectorAll("li");
  reply.update("# Title\n\nFirst paragraph.\n\nSecond paragraph, longer.\n\n- a\n- b\n- c\n- d\n");
  const items = el.querySelectorAll("li");
  assert.equal(items[0], a, "a list's closed items stay");
  assert.equal(items[1], b);
  assert.equal(items.length, 4);
  assert.equal(el.querySelector("h1"), heading, "closed blocks stay");
  assert.equal(el.querySelector("p"), first);
});

test("a list that turns loose redraws its items with paragraphs", () => {
  const { el, reply } = stream();
  reply.update("- a\n- b\n- c\n");
  assert.equal(el.querySelectorAll("li p").length, 0);
  reply.update("- a\n- b\n- c\n\n- d\n");
  assert.equal(el.querySelectorAll("li p").length, 4);
  assert.equal(el.innerHTML, fresh("- a\n- b\n- c\n\n- d\n"));
});

test("a link defined below its use is drawn as a link", () => {
  const { el, reply } = stream();
  reply.update("See [the docs].\n\nMore text.\n\n");
  reply.update("See [the docs].\n\nMore text.\n\n[the docs]: https://example.org\n");
  assert.equal(el.querySelector("a")?.getAttribute("href"), "https://example.org");
});

test("a reply that restarts (a replayed stream) is drawn from scratch", () => {
  const { el, reply } = stream();
  reply.update("Old text.\n\nMore old text.\n\n");
  reply.update("New");
  assert.equal(el.innerHTML, fresh("New"));
});

test("the final check redraws what differs from a fresh render", () => {
  const { el, reply } = stream();
  reply.update("Some text.\n\n");
  el.append(document.createElement("hr")); // something else touched the reply
  assert.equal(reply.verify(), true);
  assert.equal(el.innerHTML, fresh("Some text.\n\n"));
});

test("the final check goes in steps, a list item at a time, and finds what differs anywhere", () => {
  const items = Array.from({ length: 400 }, (_, i) => `- item ${i} with **bold** and \`code\``);
  const text = `# A long list\n\nIntro.\n\n${items.join("\n")}\n\nThe end.\n`;
  // Streaming a long list line by line is checked in the tests of list pieces; here a
  // check every 25 lines is enough to start from a board that streamed right.
  const { el, reply } = streamChecked(text.split(/(?<=\n)/), "long list", 25);
  // Each step stops once it took STEP_MS: a clock that moves 1 ms a call makes many.
  const realNow = performance.now;
  let now = 0;
  performance.now = () => (now += 1);
  try {
    const countSteps = () => {
      const steps = reply.verifySteps();
      let count = 1;
      let step = steps.next();
      while (!step.done) {
        count += 1;
        step = steps.next();
      }
      return { count, redrawn: step.value };
    };
    const first = el.querySelector("li");
    const { count, redrawn } = countSteps();
    assert.equal(redrawn, false);
    assert.ok(count > 10, `${count} steps`);
    assert.equal(el.querySelector("li"), first, "nothing redrawn");

    for (const tamper of [
      () => el.querySelectorAll("li")[200].append("!"), // an item inside the list
      () => el.querySelector("ul").append(document.createElement("li")), // one too many
      () => el.querySelector("ul").setAttribute("class", "x"), // the list itself
      () => el.lastChild.remove(), // the end
    ]) {
      tamper();
      assert.notEqual(el.innerHTML, fresh(text));
      assert.equal(countSteps().redrawn, true);
      assert.equal(el.innerHTML, fresh(text));
    }
  } finally {
    performance.now = realNow;
  }
});

test("plain words added to the open paragraph go into its text node, as a fresh render has them", () => {
  const cases = [
    ["Some words", " and more words", "\n"],
    ["- an item", " goes on", " and on, 'quoted' \"too\"?", "\n- next"],
    ["## A head", "ing", " here", "\n\nText"],
    ["Ends with spaces   ", "then words", "  ", "!", "\n"],
    ["**bold** and", " then plain", "\n"],
    // Not plain: each of these draws the open part again.
    ["Visit example", ".com today", "\n"],
    ["See foo.", "com", "\n"],
    ["1", ". an ordered item", "\n"],
    ["Use e", ".g. this", "\n"],
    ["A &copy", ";", "\n"],
    ["**bold", " still", "**", "\n"],
    ["[a link", " text](https://example.org)", "\n"],
    ["x = $a", " + b$", "\n"],
  ];
  for (const parts of cases) {
    const { el, reply } = stream();
    let text = "";
    for (const part of parts) {
      text += part;
      reply.update(text);
      assert.equal(
        el.innerHTML,
        fresh(text),
        `${JSON.stringify(parts)} at ${JSON.stringify(text)}`,
      );
    }
  }
  const { el, reply } = stream();
  reply.update("First paragraph.\n\nThe second one");
  const node = el.querySelectorAll("p")[1].firstChild;
  reply.update("First paragraph.\n\nThe second one grows");
  assert.equal(el.querySelectorAll("p")[1].firstChild, node, "the same text node");
  assert.equal(node.data, "The second one grows");
});

test("adding plain words the cheap way draws what drawing the open part again draws", () => {
  // Every cut of the corpus and the demo's replies, in random steps of up to 40 characters:
  // the same nodes with and without the cheap way, at every step.
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const texts = [CORPUS, ...DEMO.map((tokens) => tokens.join(""))];
  let cheap = 0;
  for (let round = 0; round < 4; round += 1) {
    for (const text of texts) {
      const a = stream(unsanitised);
      const b = stream(unsanitised);
      b.reply.appendPlain = () => false;
      for (let at = 0; at < text.length;) {
        at = Math.min(text.length, at + 1 + Math.floor(random() * 40));
        const before = a.reply.end?.node;
        a.reply.update(text.slice(0, at));
        b.reply.update(text.slice(0, at));
        if (before && a.reply.end?.node === before) cheap += 1;
        assert.equal(a.el.innerHTML, b.el.innerHTML, JSON.stringify(text.slice(at - 60, at)));
      }
    }
  }
  assert.ok(cheap > 100, `the cheap way was taken ${cheap} times`);
});

/** What is shown with a streaming list's pieces joined again (they show as one list). */
function joined(el) {
  const copy = el.cloneNode(true);
  for (const piece of copy.querySelectorAll("[data-cm-continued]")) {
    piece.previousElementSibling.append(...piece.childNodes);
    piece.remove();
  }
  for (const list of copy.querySelectorAll("[data-cm-continues]"))
    list.removeAttribute("data-cm-continues");
  return copy.innerHTML;
}

test("a long list streams in pieces that join into the list a fresh render has", () => {
  const items = (marker, n, loose = false) =>
    Array.from({ length: n }, (_, i) => `${marker(i)} point ${i} with *some* words\n`).join(
      loose ? "\n" : "",
    );
  const texts = [
    `Intro.\n\n${items(() => "-", 300)}\nAfter the list.\n`,
    `${items((i) => `${i + 3}.`, 200)}`,
    `${items(() => "*", 150)}\n${items(() => "*", 20, true)}`,
    `# T\n\n${items(() => "-", 140)}    - nested\n${items(() => "-", 70)}`,
  ];
  let random = 7;
  const next = () => (random = (random * 48271) % 2147483647);
  for (const [index, text] of texts.entries()) {
    const { el, reply } = stream();
    let shown = 0;
    let pieces = 0;
    while (shown < text.length) {
      shown = Math.min(text.length, shown + 1 + (next() % 40));
      reply.update(text.slice(0, shown));
      pieces = Math.max(pieces, el.querySelectorAll("[data-cm-continued]").length);
      if (text[shown - 1] === "\n")
        assert.equal(joined(el), fresh(text.slice(0, shown)), `text ${index} at ${shown}`);
    }
    if (index !== 2) assert.ok(pieces >= 2, `text ${index} streamed in pieces`);
    assert.equal(reply.verify(), false, `text ${index}: nothing to redraw at the end`);
    assert.equal(el.innerHTML, fresh(text), `text ${index}: one list at the end`);
  }
});

test("an ordered list's pieces go on with its numbers", () => {
  const text = Array.from({ length: 150 }, (_, i) => `${i + 5}. item\n`).join("");
  const { el, reply } = stream();
  for (let end = 1; end <= text.length; end += 9) reply.update(text.slice(0, end));
  reply.update(text);
  const [first, second, third] = el.querySelectorAll("ol");
  assert.equal(first.getAttribute("start"), "5");
  assert.equal(second.getAttribute("start"), String(5 + first.querySelectorAll("li").length));
  assert.equal(
    third.getAttribute("start"),
    String(5 + first.querySelectorAll("li").length + second.querySelectorAll("li").length),
  );
  reply.verify();
  assert.equal(el.querySelectorAll("ol").length, 1);
  assert.equal(el.innerHTML, fresh(text));
});
