// One exchange in a column: the user's prompt (view/prompt.js), the model's reply with a
// button that copies its Markdown, and its error if any ("Stopped" when the user stopped it).
//
// A streaming reply is drawn block by block (render/streaming.js): each frame costs what
// its open tail costs, however long the reply is. A reply seen only once it has ended (the
// history) is drawn whole, once. A streamed reply is compared with a fresh render of its
// final text later, in a task of its own (`check`).

import { isTerminal } from "../protocol.js";
import { t } from "../i18n.js";
import { copyFromButton } from "../render/copy.js";
import { pageMarkdown, renderMarkdown } from "../render/markdown.js";
import { StreamingMarkdown } from "../render/streaming.js";
import { h, setHidden } from "./dom.js";
import { PromptView } from "./prompt.js";

export class ExchangeView {
  /**
   * @param {import("../state/reducer.js").Exchange} exchange
   * @param {import("../render/markdown.js").Markdown|null} [markdown]
   */
  constructor(exchange, markdown = pageMarkdown()) {
    this.turnId = exchange.turn_id;
    this.prompt = new PromptView();
    this.reply = h("div", { class: "cm-reply cm-markdown", dataset: { testid: "reply" } });
    this.copy = h(
      "button",
      {
        type: "button",
        class: "cm-quiet-button cm-reply-copy",
        title: t("exchange.copy_title"),
        dataset: { testid: "copy-reply" },
        onclick: () => copyFromButton(this.copy, this.shownReply ?? ""),
      },
      t("code.copy"),
    );
    this.actions = h("div", { class: "cm-reply-actions", hidden: true }, this.copy);
    this.error = h("div", {
      class: "cm-error",
      role: "alert",
      dataset: { testid: "exchange-error" },
    });
    this.el = h(
      "article",
      { class: "cm-exchange", dataset: { testid: "exchange", turnId: String(exchange.turn_id) } },
      this.prompt.el,
      this.reply,
      this.actions,
      this.error,
    );
    this.markdown = markdown ? new StreamingMarkdown(this.reply, markdown) : null;
    this.shownPrompt = null;
    this.shownReply = null;
    this.shownError = undefined;
    this.streamed = false;
    this.ended = false;
    /** Emptied while far out of view (view/parking.js). */
    this.parked = false;
  }

  /**
   * Draw what changed in the exchange. Returns true when a streamed reply has just ended:
   * the caller runs `check` soon, in a task of its own.
   * @param {import("../state/reducer.js").Exchange} exchange
   */
  render(exchange) {
    const ended = isTerminal(exchange.status);
    this.ended = ended;
    if (this.el.dataset.status !== exchange.status) this.el.dataset.status = exchange.status;
    this.el.classList.toggle("is-streaming", exchange.status === "streaming");
    if (exchange.prompt !== this.shownPrompt) {
      this.prompt.show(exchange.prompt);
      this.shownPrompt = exchange.prompt;
    }
    let check = false;
    if (exchange.reply !== this.shownReply) {
      if (!this.parked) this.drawReply(exchange.reply, ended); // else: drawn when unparked
      check = ended && this.streamed;
      this.streamed = !ended;
      this.shownReply = exchange.reply;
    } else if (ended && this.streamed) {
      check = true;
      this.streamed = false;
    }
    setHidden(this.reply, !exchange.reply && ended);
    setHidden(this.actions, !exchange.reply);
    // A reply the user stopped is no failure: a plain note, not the error's code.
    const stopped = exchange.status === "cancelled" || exchange.error?.code === "CANCELLED";
    const error = stopped
      ? t("exchange.stopped")
      : exchange.error
        ? `${exchange.error.code}: ${exchange.error.message}`
        : null;
    if (error !== this.shownError) {
      this.error.textContent = error ?? "";
      this.error.hidden = !error;
      this.shownError = error;
    }
    return check;
  }

  drawReply(text, ended) {
    if (!this.markdown) {
      this.reply.innerHTML = text ? renderMarkdown(text) : "";
    } else if (this.streamed || !ended) {
      this.markdown.update(text); // only the open tail is drawn again
    } else {
      this.markdown.replaceAll(text);
    }
  }

  /**
   * Make what is shown equal a fresh render of the final text (it normally does already),
   * in steps: see StreamingMarkdown.verifySteps.
   * @returns {Generator<void, boolean>}
   */
  *checkSteps() {
    if (!this.markdown || this.parked) return false;
    return yield* this.markdown.verifySteps();
  }

  /** Far out of view: empty an ended reply (it is drawn again before it is seen). */
  park() {
    if (!this.markdown || this.parked || !this.ended || this.streamed) return;
    this.markdown.reset();
    this.parked = true;
  }

  /** Coming back into view: draw the reply afresh from its text. */
  unpark() {
    if (!this.parked) return;
    this.parked = false;
    this.markdown.replaceAll(this.shownReply ?? "");
  }
}
