// The user's prompt above a reply. A long one shows its first lines only, with a
// "Show all" / "Show less" toggle.
//
// Whether it is cut is a question of layout (a long line wraps in a narrow column), so
// a ResizeObserver answers it, after layout: nothing is measured while the board writes
// the DOM. Without one (jsdom), a prompt is cut when it has more lines than are shown.

import { t } from "../i18n.js";
import { h } from "./dom.js";

/** Lines shown of a long prompt (the stylesheet clamps to the same, via --cm-prompt-lines). */
export const PROMPT_LINES = 6;

/** @type {WeakMap<Element, PromptView>} */
const views = new WeakMap();
let observer;

/** One observer for every prompt of the page. */
function sizeObserver() {
  const Observer = globalThis.ResizeObserver;
  if (observer === undefined) {
    observer =
      typeof Observer === "function"
        ? new Observer((entries) => {
            for (const entry of entries) views.get(entry.target)?.measure();
          })
        : null;
  }
  return observer;
}

export class PromptView {
  constructor() {
    this.text = h("div", {
      class: "cm-prompt is-clamped",
      style: `--cm-prompt-lines: ${PROMPT_LINES}`,
      dataset: { testid: "prompt" },
    });
    this.toggle = h(
      "button",
      {
        type: "button",
        class: "cm-quiet-button cm-prompt-toggle",
        "aria-expanded": "false",
        hidden: true,
        dataset: { testid: "prompt-toggle" },
        onclick: () => this.setExpanded(!this.expanded),
      },
      t("prompt.show_all"),
    );
    this.el = h("div", { class: "cm-prompt-box" }, this.text, this.toggle);
    this.expanded = false;
    views.set(this.text, this);
  }

  /** Show `prompt`, the user's own text, as typed. */
  show(prompt) {
    this.text.textContent = prompt;
    const observing = sizeObserver();
    if (observing) {
      observing.unobserve(this.text);
      observing.observe(this.text); // measured after the next layout
    } else {
      this.setCut(prompt.split("\n").length > PROMPT_LINES);
    }
  }

  /** After layout: is the clamped text cut? (An expanded prompt keeps "Show less".) */
  measure() {
    if (this.expanded) return;
    this.setCut(this.text.scrollHeight > this.text.clientHeight + 1);
  }

  setCut(cut) {
    this.toggle.hidden = !cut;
  }

  setExpanded(expanded) {
    this.expanded = expanded;
    this.text.classList.toggle("is-clamped", !expanded);
    this.toggle.setAttribute("aria-expanded", String(expanded));
    this.toggle.textContent = expanded ? t("prompt.show_less") : t("prompt.show_all");
  }
}
