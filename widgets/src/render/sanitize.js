// The sanitiser every reply's HTML goes through (DOMPurify), with an allowlist.
//
// Markdown is parsed with raw HTML off, so the markup here is markdown-it's, the code
// header's (code.js), the task checkboxes' (tasks.js) and KaTeX's (math.js) — but a
// reply chooses the text they wrap, so the sanitiser trusts none of it:
// - only http(s) and mailto links, which open in a new tab without an opener;
// - attributes beyond the common few only on the tags that need them (KaTeX's MathML
//   and SVG, the checkbox, the button), never an event handler or a URL;
// - `style` only inside KaTeX's output, and only the properties it sets, with plain
//   lengths, colours and keywords as values (no url(), no var(), no position but
//   relative);
// - a button is never a submit button, and a checkbox is always disabled.

import DOMPurify from "dompurify";

export const SAFE_URL = /^(?:https?:|mailto:)/i;

const HTML_TAGS = [
  "a",
  "blockquote",
  "br",
  "button",
  "code",
  "del",
  "div",
  "em",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "hr",
  "input",
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

/** The MathML that KaTeX writes (no <maction>, <annotation-xml> or <mglyph>). */
const MATHML_TAGS = [
  "math",
  "annotation",
  "menclose",
  "mfrac",
  "mi",
  "mn",
  "mo",
  "mover",
  "mpadded",
  "mphantom",
  "mroot",
  "mrow",
  "mspace",
  "msqrt",
  "mstyle",
  "msub",
  "msubsup",
  "msup",
  "mtable",
  "mtd",
  "mtext",
  "mtr",
  "munder",
  "munderover",
  "semantics",
];

/** KaTeX draws stretchy arrows, roots and \cancel lines as SVG paths. */
const SVG_TAGS = ["svg", "path", "line"];

const COMMON_ATTRIBUTES = ["href", "title", "class", "rel", "target"];

/** Attributes allowed on one tag only (lower case, as the sanitiser compares them). */
const TAG_ATTRIBUTES = {
  button: ["type"],
  input: ["type", "disabled", "checked"],
  ol: ["start"],
  span: ["style", "aria-hidden"],
  math: ["xmlns", "display"],
  annotation: ["encoding"],
  mfrac: ["linethickness"],
  mi: ["mathvariant"],
  mo: ["stretchy", "fence", "separator", "minsize", "maxsize", "lspace", "rspace", "mathvariant"],
  mtext: ["mathvariant"],
  mover: ["accent"],
  munder: ["accentunder"],
  mstyle: ["scriptlevel", "displaystyle", "mathcolor", "mathsize", "mathbackground"],
  mpadded: ["width", "height", "depth", "lspace", "voffset", "mathbackground"],
  mspace: ["width", "height", "depth", "mathbackground"],
  menclose: ["notation", "mathcolor", "mathbackground"],
  mtable: ["rowspacing", "columnspacing", "columnalign", "rowlines", "columnlines", "width"],
  mtd: ["width"],
  svg: ["xmlns", "width", "height", "viewbox", "preserveaspectratio", "style"],
  path: ["d"],
  line: ["x1", "y1", "x2", "y2", "stroke-width"],
};

const ALL_TAG_ATTRIBUTES = [...new Set(Object.values(TAG_ATTRIBUTES).flat())];

const LENGTH = String.raw`-?(?:\d+\.?\d*|\.\d+)(?:em|ex|px|pt|%)?`;
const COLOR = String.raw`#[0-9a-f]{3,8}|[a-z]+`;
const matches = (pattern) => new RegExp(`^(?:${pattern})$`, "i");
const IS_LENGTH = matches(LENGTH);
const IS_LENGTHS = matches(`${LENGTH}(?:\\s+${LENGTH}){0,3}`);
const IS_COLOR = matches(COLOR);
const IS_BORDER = matches(`${LENGTH}\\s+(?:solid|dashed)\\s+(?:${COLOR})`);

/** The CSS properties KaTeX sets inline, and the values each may take. */
const KATEX_STYLE = {
  height: IS_LENGTH,
  width: matches(`${LENGTH}|calc\\(100% - ${LENGTH}\\)`),
  "min-width": IS_LENGTH,
  top: IS_LENGTH,
  left: IS_LENGTH,
  bottom: IS_LENGTH,
  "vertical-align": IS_LENGTH,
  margin: IS_LENGTHS,
  "margin-left": IS_LENGTH,
  "margin-right": IS_LENGTH,
  "padding-left": IS_LENGTH,
  "border-width": IS_LENGTH,
  "border-top-width": IS_LENGTH,
  "border-bottom-width": IS_LENGTH,
  "border-right-width": IS_LENGTH,
  "border-style": /^(?:solid|dashed)$/,
  "border-right-style": /^(?:solid|dashed)$/,
  border: IS_BORDER,
  position: /^relative$/,
  color: IS_COLOR,
  "background-color": IS_COLOR,
  "border-color": IS_COLOR,
};

/** What a KaTeX style attribute keeps: its allowed declarations, in order. */
export function filterKatexStyle(style) {
  const kept = [];
  for (const declaration of style.split(";")) {
    const colon = declaration.indexOf(":");
    if (colon === -1) continue;
    const property = declaration.slice(0, colon).trim().toLowerCase();
    const value = declaration.slice(colon + 1).trim();
    if (KATEX_STYLE[property]?.test(value)) kept.push(`${property}:${value}`);
  }
  return kept.join(";");
}

const insideKatex = (node) => Boolean(node.closest?.(".katex, .katex-error"));

function keepAttribute(node, event) {
  const name = event.attrName;
  if (COMMON_ATTRIBUTES.includes(name)) return;
  const tag = node.nodeName.toLowerCase();
  if (!TAG_ATTRIBUTES[tag]?.includes(name)) {
    event.keepAttr = false;
  } else if (name === "style") {
    const style = insideKatex(node) ? filterKatexStyle(event.attrValue) : "";
    if (style) event.attrValue = style;
    else event.keepAttr = false;
  }
}

function fixControls(node) {
  if (node.nodeName === "A") {
    node.setAttribute("rel", "noopener noreferrer");
    node.setAttribute("target", "_blank");
  } else if (node.nodeName === "BUTTON") {
    node.setAttribute("type", "button");
  } else if (node.nodeName === "INPUT") {
    node.setAttribute("type", "checkbox");
    node.setAttribute("disabled", "");
  }
}

/**
 * The sanitiser of one page (`window` gives DOMPurify its DOM), or null without one.
 * @returns {{html: (html: string) => string, fragment: (html: string) => DocumentFragment}|null}
 */
export function createSanitizer(window) {
  const purify = DOMPurify(window);
  if (!purify.isSupported) return null;
  purify.addHook("uponSanitizeAttribute", keepAttribute);
  purify.addHook("afterSanitizeAttributes", fixControls);
  const config = {
    ALLOWED_TAGS: [...HTML_TAGS, ...MATHML_TAGS, ...SVG_TAGS],
    ALLOWED_ATTR: [...COMMON_ATTRIBUTES, ...ALL_TAG_ATTRIBUTES],
    // Not URLs: their values need not look like one (each tag's list narrows them).
    ADD_URI_SAFE_ATTR: ALL_TAG_ATTRIBUTES,
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
