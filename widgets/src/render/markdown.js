// Model output is untrusted (DESIGN §7): Markdown with raw HTML off, then sanitised
// (sanitize.js).
//
// On top of CommonMark: tables and strikethrough, links from bare URLs, TeX math
// (math.js), task lists (tasks.js), and code blocks with a language label and a copy
// button (code.js). Images are shown as links, never loaded: a reply must not make the
// browser fetch a URL by itself (a tracking pixel, or data smuggled out in an image
// address).

import hljs from "highlight.js/lib/common";
import MarkdownIt from "markdown-it";

import { codeHeaderPlugin } from "./code.js";
import { watchCodeCopies } from "./copy.js";
import { mathPlugin } from "./math.js";
import { createSanitizer, SAFE_URL } from "./sanitize.js";
import { taskListPlugin } from "./tasks.js";

function escapeHtml(text) {
  return String(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function highlight(code, language) {
  if (!language || !hljs.getLanguage(language)) return ""; // markdown-it escapes it
  try {
    return hljs.highlight(code, { language, ignoreIllegals: true }).value;
  } catch {
    return "";
  }
}

function createParser() {
  const md = new MarkdownIt({ html: false, linkify: true, typographer: false, highlight });
  md.validateLink = (url) => SAFE_URL.test(url.trim());
  md.renderer.rules.image = (tokens, index) => {
    const token = tokens[index];
    const src = token.attrGet("src") || "";
    const alt = token.content || src;
    if (!SAFE_URL.test(src)) return escapeHtml(alt);
    return `<a href="${escapeHtml(src)}">${escapeHtml(alt)}</a>`;
  };
  return md.use(mathPlugin).use(taskListPlugin).use(codeHeaderPlugin);
}

/**
 * @typedef {object} Markdown the parts a streaming reply renders with
 * @property {import("markdown-it").default} md the parser (tokens, block parse, renderer)
 * @property {(html: string) => string} sanitize untrusted HTML → safe HTML
 * @property {(html: string) => DocumentFragment} fragment untrusted HTML → safe nodes
 */

/**
 * The parser and sanitiser of one page. `window` gives DOMPurify its DOM (the page's by
 * default; tests pass jsdom's). Without a DOM to sanitise with, there is none (null).
 * @returns {Markdown|null}
 */
export function createMarkdown({ window = globalThis.window } = {}) {
  const sanitize = window ? createSanitizer(window) : null;
  if (!sanitize) return null;
  return { md: createParser(), sanitize: sanitize.html, fragment: sanitize.fragment };
}

/**
 * A Markdown → safe HTML function, for a whole text at once. Without a DOM to sanitise
 * with, the text is escaped whole.
 * @returns {(text: string) => string}
 */
export function createMarkdownRenderer({ window = globalThis.window } = {}) {
  const markdown = createMarkdown({ window });
  if (!markdown) return (text) => `<p>${escapeHtml(text)}</p>`;
  return (text) => markdown.sanitize(markdown.md.render(String(text ?? "")));
}

let shared;

/**
 * The page's own parser and sanitiser (made once), or null without a DOM. The page's
 * code blocks' copy buttons work from then on.
 */
export function pageMarkdown() {
  if (shared === undefined) shared = createMarkdown();
  watchCodeCopies(globalThis.document);
  return shared;
}

/** Render untrusted Markdown to sanitised HTML with the page's DOM. */
export function renderMarkdown(text) {
  const markdown = pageMarkdown();
  if (!markdown) return `<p>${escapeHtml(text)}</p>`;
  return markdown.sanitize(markdown.md.render(String(text ?? "")));
}
