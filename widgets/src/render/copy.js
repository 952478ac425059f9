// Copy text to the clipboard, and say so on the button that did it: a reply's Markdown
// (view/exchange.js) or a code block's code (the buttons code.js renders, answered by
// one listener on the page, wherever a reply is shown: the board, the matrix).
//
// The async Clipboard API needs a secure context (https or localhost): a JupyterLab
// served over plain http elsewhere has none, so the old way (select a hidden textarea,
// "copy") is the fallback.

import { t } from "../i18n.js";
import { CODE_COPY_CLASS, codeOfButton } from "./code.js";

/** How long a button says "Copied" before it says what it did before. */
const FEEDBACK_MS = 1500;

/** @returns {Promise<boolean>} whether the text is on the clipboard */
export async function copyText(text, { clipboard = globalThis.navigator?.clipboard } = {}) {
  if (clipboard?.writeText) {
    try {
      await clipboard.writeText(text);
      return true;
    } catch {
      // refused (no permission, not focused, insecure context): try the old way
    }
  }
  return copyWithSelection(text);
}

function copyWithSelection(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  try {
    area.select();
    return document.execCommand?.("copy") === true;
  } catch {
    return false;
  } finally {
    area.remove();
  }
}

/** A button showing feedback: the label it goes back to, and the timer that will. */
const feedback = new WeakMap();

/** Copy `text`, then show "Copied" (or the failure) on `button` for a moment. */
export async function copyFromButton(button, text) {
  const copied = await copyText(text);
  const shown = feedback.get(button);
  clearTimeout(shown?.timer);
  const label = shown?.label ?? button.textContent;
  button.textContent = copied ? t("copy.copied") : t("copy.failed");
  const timer = setTimeout(() => {
    button.textContent = label;
    feedback.delete(button);
  }, FEEDBACK_MS);
  feedback.set(button, { label, timer });
}

/** A click on a code block's copy button copies that block's code. */
export function onCodeCopyClick(event) {
  const button = event.target?.closest?.(`.${CODE_COPY_CLASS}`);
  const code = button ? codeOfButton(button) : null;
  if (code !== null) copyFromButton(button, code);
}

const watched = new WeakSet();

/** Answer the code blocks' copy buttons of `document` (once per document). */
export function watchCodeCopies(document) {
  if (!document || watched.has(document)) return;
  watched.add(document);
  document.addEventListener("click", onCodeCopyClick);
}
