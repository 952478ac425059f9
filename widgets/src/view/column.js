// One column: a window's header (name, params, status), its exchanges, its footer
// (metrics of the last reply) and its own input, which forks the conversation.

import { createComposer } from "./composer.js";
import { h } from "./dom.js";
import { ExchangeView } from "./exchange.js";
import { ScrollFollow } from "./follow.js";
import { formatCost, formatMs, formatRate, formatTokens, paramChips } from "./format.js";
import { watchParking } from "./parking.js";

export class ColumnView {
  /**
   * @param {import("../state/store.js").BoardWindow} window
   * @param {import("../controller.js").BoardController} controller
   */
  constructor(window, controller) {
    this.window = window;
    this.controller = controller;
    this.store = controller.store;
    /** @type {Map<number, ExchangeView>} */
    this.exchanges = new Map();

    this.status = h("span", { class: "cm-status", dataset: { testid: "column-status" } });
    this.stop = h(
      "button",
      {
        class: "cm-stop",
        type: "button",
        title: "Stop this reply",
        dataset: { testid: "column-stop" },
      },
      "Stop",
    );
    this.stop.addEventListener("click", () => this.cancel());
    const chips = paramChips(window.params_diff).map(({ name, text }) =>
      h("span", { class: "cm-chip", dataset: { testid: "param-chip", param: name } }, text),
    );
    const system = window.system_prompt
      ? h("span", { class: "cm-chip cm-chip-system", title: window.system_prompt }, "system prompt")
      : null;
    const header = h(
      "header",
      { class: "cm-column-header" },
      h(
        "div",
        { class: "cm-column-title" },
        h("span", { class: "cm-column-name", dataset: { testid: "column-name" } }, window.name),
        window.model_name && window.model_name !== window.name
          ? h("span", { class: "cm-column-model" }, window.model_name)
          : null,
        this.status,
        this.stop,
      ),
      chips.length || system ? h("div", { class: "cm-chips" }, ...chips, system) : null,
    );
    this.empty = h("div", { class: "cm-empty" }, "No messages yet.");
    // Scroll anchoring holds this in place while the text above it grows (follow.js).
    this.anchor = h("div", { class: "cm-follow-anchor", "aria-hidden": "true" });
    this.body = h(
      "div",
      { class: "cm-column-body", dataset: { testid: "column-messages" } },
      this.empty,
      this.anchor,
    );
    this.follow = new ScrollFollow(this.body);
    this.parking = watchParking();
    /** Whether the column is on screen (the board skips drawing it otherwise). */
    this.visible = true;
    this.metrics = {
      ttft: h("span", { dataset: { metric: "ttft" }, title: "Time to first token" }),
      latency: h("span", { dataset: { metric: "latency" }, title: "Latency" }),
      tokens: h("span", { dataset: { metric: "tokens" }, title: "Prompt → completion tokens" }),
      rate: h("span", { dataset: { metric: "rate" }, title: "Tokens per second" }),
      cost: h("span", { dataset: { metric: "cost" }, title: "Cost, in the model's currency" }),
    };
    this.footer = h(
      "footer",
      { class: "cm-column-footer", dataset: { testid: "column-footer" } },
      ...Object.values(this.metrics),
    );
    this.composer = createComposer({
      testid: "column-input",
      sendTestid: "column-send",
      placeholder: `Only to ${window.name}…`,
      label: `Message to ${window.name} only`,
      className: "cm-column-composer",
      onSend: (text) => controller.send(text, [window.id]),
    });
    this.el = h(
      "section",
      {
        class: "cm-column",
        "aria-label": window.name,
        dataset: { testid: "column", windowId: String(window.id) },
      },
      header,
      this.body,
      this.footer,
      this.composer.el,
    );
  }

  /** The column is dropped (the board rebuilt or went away). */
  dispose() {
    this.parking.dispose();
  }

  cancel() {
    const latest = this.store.latest(this.window.id);
    if (latest) this.controller.cancel(latest.turn_id, [this.window.id]);
  }

  /**
   * Draw one exchange (DOM writes only: the board measured the scroll position before).
   * Returns its view when its streamed reply has just ended and wants a final check.
   * @returns {ExchangeView|null}
   */
  renderExchange(turnId) {
    const exchange = this.store.exchange(this.window.id, turnId);
    if (!exchange) return null;
    let view = this.exchanges.get(turnId);
    if (!view) {
      view = new ExchangeView(exchange);
      this.exchanges.set(turnId, view);
      this.insert(view);
      this.parking.watch(view);
    }
    return view.render(exchange) ? view : null;
  }

  /** Put a new exchange in turn order (almost always: at the end). */
  insert(view) {
    this.empty.remove();
    const order = this.store.exchanges(this.window.id).map((x) => x.turn_id);
    const next = order.slice(order.indexOf(view.turnId) + 1).find((id) => this.exchanges.has(id));
    this.body.insertBefore(view.el, next === undefined ? this.anchor : this.exchanges.get(next).el);
  }

  /** Status badge, footer, stop button and input: cheap, so done every frame. */
  updateChrome() {
    const id = this.window.id;
    const latest = this.store.latest(id);
    const status = latest ? latest.status : "idle";
    const busy = this.store.isBusy(id);
    if (this.status.dataset.status !== status) {
      this.status.dataset.status = status;
      this.status.textContent = status;
      this.el.dataset.status = status;
    }
    this.stop.hidden = !busy;
    const metrics = {
      ttft: latest?.ttft_ms != null ? `TTFT ${formatMs(latest.ttft_ms)}` : "",
      latency: latest?.latency_ms != null ? `latency ${formatMs(latest.latency_ms)}` : "",
      tokens: latest ? formatTokens(latest.prompt_tokens, latest.completion_tokens) : "",
      rate: latest ? formatRate(latest.tokens_per_second) : "",
      cost: latest ? formatCost(latest.cost) : "",
    };
    for (const [name, text] of Object.entries(metrics)) {
      if (this.metrics[name].textContent !== text) this.metrics[name].textContent = text;
      this.metrics[name].hidden = !text;
    }
    if (!this.store.hasHistory()) {
      this.composer.setDisabled(
        true,
        "The first message goes to every column: use the input below.",
      );
    } else if (busy) {
      this.composer.setDisabled(true, "This column is still answering.");
    } else {
      this.composer.setDisabled(false);
    }
  }
}
