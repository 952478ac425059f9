// Model output is untrusted (DESIGN §7): Markdown with raw HTML off, then sanitised.
//
// Only http(s) and mailto links survive, and they open in a new tab without an opener.
// Images are shown as links, never loaded: a reply must not make the browser fetch a URL
// by itself (a tracking pixel, or data smuggled out in an image address).

import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/common";
import MarkdownIt from "markdown-it";

const SAFE_URL = /^(?:https?:|mailto:)/i;

const ALLOWED_TAGS = [
  "a",
  "blockquote",
  "br",
  "code",
  "del",
  "em",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "hr",
  "li",
  "ol",
  "p",
  "pre",
  "s",
  "span",
  "strong",
  "sub",
  "sup",
  "table",
  "tbody",
  "td",
  "th",
  "thead",
  "tr",
  "ul",
];
const ALLOWED_ATTR = ["href", "title", "class", "start", "rel", "target"];

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
  return md;
}

function createSanitizer(window) {
  const purify = DOMPurify(window);
  if (!purify.isSupported) return null;
  purify.addHook("afterSanitizeAttributes", (node) => {
    if (node.nodeName === "A") {
      node.setAttribute("rel", "noopener noreferrer");
      node.setAttribute("target", "_blank");
    }
  });
  const config = {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOWED_URI_REGEXP: SAFE_URL,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
  };
  const asFragment = { ...config, RETURN_DOM_FRAGMENT: true };
  return {
    html: (html) => purify.sanitize(html, config),
    // Nodes straight from the sanitiser's own parse: no second parse through innerHTML.
    fragment: (html) => purify.sanitize(html, asFragment),
  };
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

/** The page's own parser and sanitiser (made once), or null without a DOM. */
export function pageMarkdown() {
  if (shared === undefined) shared = createMarkdown();
  return shared;
}

/** Render untrusted Markdown to sanitised HTML with the page's DOM. */
export function renderMarkdown(text) {
  const markdown = pageMarkdown();
  if (!markdown) return `<p>${escapeHtml(text)}</p>`;
  return markdown.sanitize(markdown.md.render(String(text ?? "")));
}
