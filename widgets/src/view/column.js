// One column: a window's header (name, params, status), its exchanges, its footer
// (metrics of the last reply) and its own input, which forks the conversation.

import { createComposer } from "./composer.js";
import { h } from "./dom.js";
import { ExchangeView } from "./exchange.js";
import { formatCost, formatMs, formatRate, formatTokens, paramChips } from "./format.js";

/** Within this many pixels of the bottom, a column follows new text. */
const STICK_PX = 48;

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
    this.body = h(
      "div",
      { class: "cm-column-body", dataset: { testid: "column-messages" } },
      this.empty,
    );
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

  cancel() {
    const latest = this.store.latest(this.window.id);
    if (latest) this.controller.cancel(latest.turn_id, [this.window.id]);
  }

  /** Draw one exchange; return false if it was held back for a later frame. */
  renderExchange(turnId, now) {
    const exchange = this.store.exchange(this.window.id, turnId);
    if (!exchange) return true;
    const stick = this.body.scrollHeight - this.body.scrollTop - this.body.clientHeight < STICK_PX;
    let view = this.exchanges.get(turnId);
    if (!view) {
      view = new ExchangeView(exchange);
      this.exchanges.set(turnId, view);
      this.insert(view);
    }
    const drawn = view.render(exchange, now);
    if (stick) this.body.scrollTop = this.body.scrollHeight;
    return drawn;
  }

  /** Put a new exchange in turn order (almost always: at the end). */
  insert(view) {
    this.empty.remove();
    const order = this.store.exchanges(this.window.id).map((x) => x.turn_id);
    const next = order.slice(order.indexOf(view.turnId) + 1).find((id) => this.exchanges.has(id));
    this.body.insertBefore(view.el, next === undefined ? null : this.exchanges.get(next).el);
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
