// Code blocks with a header: the language named by the fence ("python") and a copy
// button. The button is plain markup here; view/exchange.js answers its clicks, so a
// block rendered while streaming and the same block rendered whole are the same HTML.

import { t } from "../i18n.js";

/** The class of a code block's copy button, and of the block that holds it. */
export const CODE_COPY_CLASS = "cm-code-copy";
export const CODE_BLOCK_CLASS = "cm-code";

const escapeHtml = (text) =>
  String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function withHeader(pre, language) {
  const label = language ? `<span class="cm-code-lang">${escapeHtml(language)}</span>` : "";
  const copy = `<button type="button" class="cm-quiet-button ${CODE_COPY_CLASS}" title="${escapeHtml(t("code.copy_title"))}">${escapeHtml(t("code.copy"))}</button>`;
  return `<div class="${CODE_BLOCK_CLASS}"><div class="cm-code-head">${label}${copy}</div>${pre.trimEnd()}</div>\n`;
}

/** The markdown-it plugin: fenced and indented code blocks get the header. */
export function codeHeaderPlugin(md) {
  const fence = md.renderer.rules.fence;
  const indented = md.renderer.rules.code_block;
  md.renderer.rules.fence = (tokens, index, options, env, self) => {
    const info = md.utils.unescapeAll(tokens[index].info).trim();
    const language = info.split(/\s+/)[0];
    return withHeader(fence(tokens, index, options, env, self), language);
  };
  md.renderer.rules.code_block = (tokens, index, options, env, self) =>
    withHeader(indented(tokens, index, options, env, self), "");
}

/** The code a copy button's block holds, as the reply wrote it (its last newline aside). */
export function codeOfButton(button) {
  const code = button.closest(`.${CODE_BLOCK_CLASS}`)?.querySelector("pre > code");
  return code ? code.textContent.replace(/\n$/, "") : null;
}
