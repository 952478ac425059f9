// One exchange in a column: the user's prompt, the model's reply, and its error if any.
//
// Only the reply that changed is drawn again, and a long reply that takes a while to
// render is drawn less often while it streams, so the page keeps up with fast models.

import { isTerminal } from "../protocol.js";
import { renderMarkdown } from "../render/markdown.js";
import { h } from "./dom.js";

/** A streaming reply whose render takes longer than this is drawn less often… */
const BUDGET_MS = 8;
/** …waiting this many times its render's cost (at most MAX_WAIT_MS) between draws. */
const BACKOFF = 4;
const MAX_WAIT_MS = 250;

export class ExchangeView {
  /** @param {import("../state/reducer.js").Exchange} exchange */
  constructor(exchange) {
    this.turnId = exchange.turn_id;
    this.prompt = h("div", { class: "cm-prompt", dataset: { testid: "prompt" } });
    this.reply = h("div", { class: "cm-reply cm-markdown", dataset: { testid: "reply" } });
    this.error = h("div", {
      class: "cm-error",
      role: "alert",
      dataset: { testid: "exchange-error" },
    });
    this.el = h(
      "article",
      { class: "cm-exchange", dataset: { testid: "exchange", turnId: String(exchange.turn_id) } },
      this.prompt,
      this.reply,
      this.error,
    );
    this.shownPrompt = null;
    this.shownReply = null;
    this.shownError = undefined;
    this.lastRender = -Infinity;
    this.cost = 0;
  }

  /**
   * Draw the exchange if it changed; return false if a streaming reply was held back for
   * a later frame (the caller keeps it dirty).
   * @param {import("../state/reducer.js").Exchange} exchange
   * @param {number} now a performance.now() reading
   */
  render(exchange, now) {
    const streaming = !isTerminal(exchange.status);
    const wait = Math.min(this.cost * BACKOFF, MAX_WAIT_MS);
    if (streaming && this.cost > BUDGET_MS && now - this.lastRender < wait) return false;
    this.el.dataset.status = exchange.status;
    this.el.classList.toggle("is-streaming", exchange.status === "streaming");
    if (exchange.prompt !== this.shownPrompt) {
      this.prompt.textContent = exchange.prompt; // the user's own text, shown as typed
      this.shownPrompt = exchange.prompt;
    }
    if (exchange.reply !== this.shownReply) {
      const start = performance.now();
      this.reply.innerHTML = exchange.reply ? renderMarkdown(exchange.reply) : "";
      this.cost = performance.now() - start;
      this.lastRender = now;
      this.shownReply = exchange.reply;
    }
    this.reply.hidden = !exchange.reply && isTerminal(exchange.status);
    const error = exchange.error ? `${exchange.error.code}: ${exchange.error.message}` : null;
    if (error !== this.shownError) {
      this.error.textContent = error ?? "";
      this.error.hidden = !error;
      this.shownError = error;
    }
    return true;
  }
}
