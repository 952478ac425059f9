// A message input: a textarea and a send button; Ctrl/Cmd+Enter sends.
//
// The draft stays until the kernel has started the turn, so a refused message (a busy
// window, a kernel that is gone) is never lost.

import { h } from "./dom.js";

/**
 * @param {object} options
 * @param {string} options.testid data-testid of the textarea
 * @param {string} options.sendTestid data-testid of the send button
 * @param {string} options.placeholder
 * @param {string} options.label accessible name of the textarea
 * @param {(text: string) => Promise<unknown>} options.onSend
 * @param {string} [options.className]
 */
export function createComposer({ testid, sendTestid, placeholder, label, onSend, className }) {
  let disabled = false;
  let pending = false;

  const textarea = h("textarea", {
    class: "cm-composer-input",
    rows: 2,
    placeholder,
    "aria-label": label,
    // JupyterLab's keyboard shortcuts (Ctrl+Enter runs the cell) stay out of this input.
    "data-lm-suppress-shortcuts": "true",
    dataset: { testid },
  });
  const button = h(
    "button",
    { class: "cm-send", type: "button", dataset: { testid: sendTestid } },
    "Send",
  );
  const error = h("div", {
    class: "cm-composer-error",
    role: "alert",
    dataset: { testid: `${testid}-error` },
  });
  const el = h(
    "div",
    { class: `cm-composer ${className || ""}` },
    h("div", { class: "cm-composer-row" }, textarea, button),
    error,
  );

  function refresh() {
    textarea.disabled = disabled || pending;
    button.disabled = disabled || pending || !textarea.value.trim();
    button.textContent = pending ? "Sending…" : "Send";
  }

  function showError(problem) {
    error.textContent = problem ? `${problem.code}: ${problem.message}` : "";
    error.hidden = !problem;
  }

  async function submit() {
    const text = textarea.value;
    if (disabled || pending || !text.trim()) return;
    pending = true;
    showError(null);
    refresh();
    try {
      await onSend(text);
      textarea.value = "";
    } catch (problem) {
      if (problem?.code !== "CLOSED") showError(problem);
    } finally {
      pending = false;
      refresh();
    }
  }

  textarea.addEventListener("input", refresh);
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.stopPropagation();
      submit();
    }
  });
  button.addEventListener("click", submit);
  showError(null);
  refresh();

  return {
    el,
    textarea,
    button,
    submit,
    /** Disable sending (a busy window, no first turn yet); `reason` becomes the tooltip. */
    setDisabled(value, reason = "") {
      disabled = value;
      el.title = value ? reason : "";
      el.classList.toggle("is-disabled", value);
      refresh();
    },
  };
}
