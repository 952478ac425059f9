// A message input: a textarea and a send button; Ctrl/Cmd+Enter sends.
//
// What it holds lives in the store, by the composer's key: the draft (so it survives the
// columns being rebuilt and the view being made again) and an edit in progress (an
// earlier prompt put back here: sending replaces that turn; Esc or "Cancel" gives the
// old draft back). The draft stays until the kernel has started the turn, so a refused
// message (a busy window, a kernel that is gone) is never lost. While replies stream the
// text can still be written; only sending waits.

import { t } from "../i18n.js";
import { h } from "./dom.js";

/**
 * @param {object} options
 * @param {import("../state/store.js").Store} options.store
 * @param {string} options.key the composer's key in the store
 * @param {string} options.testid data-testid of the textarea
 * @param {string} options.sendTestid data-testid of the send button
 * @param {string} options.placeholder
 * @param {string} options.label accessible name of the textarea
 * @param {string} options.editNote shown while editing: where the edited prompt goes
 * @param {(text: string, replaces: number|null) => Promise<unknown>} options.onSend
 * @param {string} [options.className]
 * @param {HTMLElement|null} [options.extra] another control beside the send button
 */
export function createComposer({
  store,
  key,
  testid,
  sendTestid,
  placeholder,
  label,
  editNote,
  onSend,
  className,
  extra = null,
}) {
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
  textarea.value = store.draft(key);
  const button = h(
    "button",
    { class: "cm-send", type: "button", dataset: { testid: sendTestid } },
    t("composer.send"),
  );
  const cancelEdit = h(
    "button",
    { class: "cm-link", type: "button", dataset: { testid: `${testid}-edit-cancel` } },
    t("composer.cancel"),
  );
  const editing = h(
    "div",
    { class: "cm-edit-banner", dataset: { testid: `${testid}-editing` } },
    h("span", {}, editNote),
    cancelEdit,
  );
  const error = h("div", {
    class: "cm-composer-error",
    role: "alert",
    dataset: { testid: `${testid}-error` },
  });
  const el = h(
    "div",
    { class: `cm-composer ${className || ""}` },
    editing,
    h("div", { class: "cm-composer-row" }, textarea, extra, button),
    error,
  );

  function refresh() {
    // Read-only, not disabled, while the kernel answers: a disabled input loses the focus
    // (and with it the board's Esc).
    textarea.readOnly = pending;
    button.disabled = disabled || pending || !textarea.value.trim();
    button.textContent = pending ? t("composer.sending") : t("composer.send");
  }

  /** Show what the store holds for this composer (an edit began or ended). */
  function sync() {
    const edit = store.edits.get(key);
    editing.hidden = !edit;
    el.classList.toggle("is-editing", Boolean(edit));
    const text = store.draft(key);
    if (textarea.value !== text) textarea.value = text;
    refresh();
  }

  function showError(problem) {
    error.textContent = problem ? `${problem.code}: ${problem.message}` : "";
    error.hidden = !problem;
  }

  async function submit() {
    const text = textarea.value;
    if (disabled || pending || !text.trim()) return;
    const edit = store.edits.get(key);
    pending = true;
    showError(null);
    refresh();
    try {
      await onSend(text, edit ? edit.turnId : null);
      if (edit) store.endEdit(key, { sent: true });
      store.setDraft(key, "");
      textarea.value = "";
    } catch (problem) {
      if (problem?.code !== "CLOSED") showError(problem);
    } finally {
      pending = false;
      refresh();
    }
  }

  textarea.addEventListener("input", () => {
    store.setDraft(key, textarea.value);
    refresh();
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.stopPropagation();
      submit();
    } else if (event.key === "Escape" && !disabled && store.edits.has(key)) {
      // Nothing is answering here: Esc gives the edit up (else the board stops the turn).
      event.preventDefault();
      event.stopPropagation();
      store.endEdit(key);
    }
  });
  button.addEventListener("click", submit);
  cancelEdit.addEventListener("click", () => store.endEdit(key));
  showError(null);
  sync();

  return {
    el,
    textarea,
    button,
    submit,
    sync,
    /** Put a prompt back here to be edited; sending replaces turn `turnId`. */
    edit(turnId, prompt) {
      store.startEdit(key, turnId, prompt);
      sync();
      textarea.focus();
    },
    /** Refuse sending (a busy window, no first turn yet); `reason` becomes the tooltip. */
    setDisabled(value, reason = "") {
      if (value === disabled && button.title === (value ? reason : "")) return;
      disabled = value;
      button.title = value ? reason : "";
      el.classList.toggle("is-disabled", value);
      refresh();
    },
  };
}
