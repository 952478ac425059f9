// TeX math in replies, typeset by KaTeX (bundled; its fonts too, see math-fonts.js).
//
//   $…$   \(…\)        inline
//   $$…$$ \[…\]        display: a block of its own when it starts a line, else inline
//
// A single `$` opens math only when a non-space follows it, and closes it only when a
// non-space precedes it and no digit follows ("$5 and $10" stays text). A display block
// runs to its closing delimiter, blank lines included; one never closed runs to the end
// of the text, like an unclosed code fence, so a block still streaming is always the
// open tail (render/blocks.js) and nothing after it is frozen too early.
//
// KaTeX runs untrusted: no \href, \url, \html… (trust off), user sizes capped, and its
// output still goes through the sanitiser (render/sanitize.js), which knows its markup.

import katex from "katex";

const KATEX_OPTIONS = {
  throwOnError: false, // a formula with an error is shown as its source, in the error colour
  output: "htmlAndMathml", // MathML for screen readers, HTML for the eye
  trust: false,
  strict: "ignore",
  maxSize: 20, // em: \rule{9999em}… cannot cover the page
  maxExpand: 500,
};

/** Display delimiters, by opening: the closing one. */
const DISPLAY = { $$: "$$", "\\[": "\\]" };

/** The same formula is typeset again in each frame while its paragraph streams. */
const CACHE_SIZE = 256;
const cache = new Map();

/** KaTeX's HTML for `tex` (cached). */
export function typeset(tex, displayMode) {
  const key = `${displayMode ? "D" : "I"}${tex}`;
  let html = cache.get(key);
  if (html === undefined) {
    html = katex.renderToString(tex, { ...KATEX_OPTIONS, displayMode });
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value);
    cache.set(key, html);
    onFirstFormula();
  }
  return html;
}

let fontsRequested = false;

/** Bring KaTeX's fonts into the page the first time a formula is shown. */
function onFirstFormula() {
  if (fontsRequested) return;
  fontsRequested = true;
  const fonts = globalThis.document?.fonts;
  if (!fonts || typeof globalThis.FontFace !== "function") return; // no page (tests)
  import("./math-fonts.js").then(({ addMathFonts }) => addMathFonts(fonts));
}

const isSpace = (char) => char === " " || char === "\t" || char === "\n";
const isDigit = (char) => char >= "0" && char <= "9";

/** The index of the `$` closing a single-dollar formula opened at `start`, or -1. */
function closingDollar(src, start, max) {
  if (start + 1 >= max || isSpace(src[start + 1]) || src[start + 1] === "$") return -1;
  for (let i = start + 1; i < max; i++) {
    if (src[i] === "\\") {
      i += 1; // an escaped character, "\$" included
    } else if (src[i] === "$") {
      // Only the first unescaped "$" may close: "$5 and $10" has no formula.
      const closes = !isSpace(src[i - 1]) && !(i + 1 < max && isDigit(src[i + 1]));
      return closes ? i : -1;
    }
  }
  return -1;
}

/** Inline math: $…$, $$…$$, \(…\) and \[…\] within a paragraph. */
function mathInline(state, silent) {
  const { src, pos, posMax } = state;
  let open;
  let close;
  let display;
  if (src.startsWith("$$", pos)) {
    [open, close, display] = ["$$", "$$", true];
  } else if (src[pos] === "$") {
    const end = closingDollar(src, pos, posMax);
    if (end === -1) return false;
    if (!silent) push(state, src.slice(pos + 1, end), false);
    state.pos = end + 1;
    return true;
  } else if (src.startsWith("\\(", pos)) {
    [open, close, display] = ["\\(", "\\)", false];
  } else if (src.startsWith("\\[", pos)) {
    [open, close, display] = ["\\[", "\\]", true];
  } else {
    return false;
  }
  const end = src.indexOf(close, pos + open.length);
  if (end === -1 || end + close.length > posMax) return false;
  const tex = src.slice(pos + open.length, end);
  if (!tex.trim()) return false;
  if (!silent) push(state, tex, display);
  state.pos = end + close.length;
  return true;
}

function push(state, tex, display) {
  const token = state.push("math_inline", "math", 0);
  token.content = tex;
  token.meta = { display };
}

/** A display block: a line that starts with $$ or \[, up to the line that closes it. */
function mathBlock(state, startLine, endLine, silent) {
  const start = state.bMarks[startLine] + state.tShift[startLine];
  const lineEnd = state.eMarks[startLine];
  if (state.sCount[startLine] - state.blkIndent >= 4) return false; // indented code
  const open = Object.keys(DISPLAY).find((delimiter) => state.src.startsWith(delimiter, start));
  if (!open) return false;
  const close = DISPLAY[open];
  const first = state.src.slice(start + open.length, lineEnd);
  // The whole formula on its opening line: "$$ x $$" (but "$$a$$ and $$b$$" is a paragraph).
  const sameLine = first.trimEnd();
  const oneLine = sameLine.length >= close.length && sameLine.endsWith(close);
  if (oneLine && sameLine.slice(0, -close.length).includes(close)) return false;
  if (silent) return true;

  const parts = [];
  let line = startLine;
  let closed = false;
  if (oneLine) {
    parts.push(sameLine.slice(0, -close.length));
    closed = true;
  } else {
    if (first.trim()) parts.push(first);
    for (line = startLine + 1; line < endLine; line++) {
      const text = state.src.slice(state.bMarks[line] + state.tShift[line], state.eMarks[line]);
      // Less indented than the block that holds it (a list item, a quote): it ends here.
      if (text && state.sCount[line] < state.blkIndent) break;
      const trimmed = text.trimEnd();
      if (trimmed.endsWith(close)) {
        parts.push(trimmed.slice(0, -close.length));
        closed = true;
        break;
      }
      parts.push(text);
    }
  }
  state.line = closed ? line + 1 : line;
  const token = state.push("math_block", "math", 0);
  token.block = true;
  token.content = parts.join("\n").trim();
  token.markup = open;
  token.map = [startLine, state.line];
  return true;
}

function renderInline(tokens, index) {
  return typeset(tokens[index].content, tokens[index].meta.display);
}

function renderBlock(tokens, index) {
  const { content } = tokens[index];
  return `${content ? typeset(content, true) : ""}\n`;
}

/** The markdown-it plugin. */
export function mathPlugin(md) {
  // Before "fence": it interrupts a paragraph, as a fence does ("where:\n$$…").
  md.block.ruler.before("fence", "math_block", mathBlock, {
    alt: ["paragraph", "reference", "blockquote", "list"],
  });
  // Before "escape", which would read "\(" as an escaped "(".
  md.inline.ruler.before("escape", "math_inline", mathInline);
  md.renderer.rules.math_inline = renderInline;
  md.renderer.rules.math_block = renderBlock;
}
