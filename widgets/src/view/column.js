// One column: a window's header (name, model, params, status), its exchanges in one row
// per turn of the board (rows.js lines them up across columns), its footer (metrics of
// the last reply) and its own input, which forks the conversation. The last exchange
// carries "Retry" and "Edit": both make a new turn that replaces it in this column.

import { label, t } from "../i18n.js";
import { isTerminal } from "../protocol.js";
import { createComposer } from "./composer.js";
import { h, setHidden, setText } from "./dom.js";
import { ExchangeView } from "./exchange.js";
import { ScrollFollow } from "./follow.js";
import { formatCost, formatMs, formatRate, formatTokens, paramChips } from "./format.js";
import { watchParking } from "./parking.js";
import { HEADER } from "./rows.js";

/**
 * @typedef {object} Row one turn's place in the column
 * @property {HTMLElement} el
 * @property {HTMLElement} content the exchange (if the turn came here) and its actions
 * @property {HTMLElement|null} note "replaced", once a later exchange replaced this one
 */

export class ColumnView {
  /**
   * @param {import("../state/store.js").BoardWindow} window
   * @param {import("../controller.js").BoardController} controller
   * @param {{aligner: ReturnType<typeof import("./rows.js").createRowAligner>,
   *          onScroll: () => void}} board
   */
  constructor(window, controller, { aligner, onScroll }) {
    this.window = window;
    this.controller = controller;
    this.store = controller.store;
    this.aligner = aligner;
    /** @type {Map<number, ExchangeView>} */
    this.exchanges = new Map();
    /** @type {Map<number, Row>} rows by turn id, and their turn ids in order */
    this.rows = new Map();
    this.order = [];

    this.status = h("span", { class: "cm-status", dataset: { testid: "column-status" } });
    this.stop = h(
      "button",
      {
        class: "cm-stop",
        type: "button",
        title: t("column.stop_title"),
        dataset: { testid: "column-stop" },
      },
      t("column.stop"),
    );
    this.stop.addEventListener("click", () => this.cancel());
    const chips = paramChips(window, this.store.windows).map(({ name, text }) =>
      h("span", { class: "cm-chip", dataset: { testid: "param-chip", param: name } }, text),
    );
    const system = window.system_prompt
      ? h(
          "span",
          { class: "cm-chip cm-chip-system", title: window.system_prompt },
          t("column.system_prompt"),
        )
      : null;
    // Names are shown whole where they fit, cut with an ellipsis where not: the tooltip
    // always has the whole name (knowing whether it was cut would mean reading layout).
    const model = window.model_name && window.model_name !== window.name;
    const heading = h(
      "div",
      { class: "cm-column-heading" },
      h(
        "div",
        { class: "cm-column-title" },
        h(
          "span",
          { class: "cm-column-name", title: window.name, dataset: { testid: "column-name" } },
          window.name,
        ),
        this.status,
        this.stop,
      ),
      model
        ? h(
            "div",
            {
              class: "cm-column-model",
              title: window.model_name,
              dataset: { testid: "column-model" },
            },
            window.model_name,
          )
        : null,
      chips.length || system ? h("div", { class: "cm-chips" }, ...chips, system) : null,
    );
    // As tall as the tallest header, so that every column's body starts at one height.
    const header = h(
      "header",
      { class: "cm-column-header", dataset: { testid: "column-header" } },
      heading,
    );
    aligner.watch(HEADER, header, heading);
    this.empty = h("div", { class: "cm-empty" }, t("column.empty"));
    // Scroll anchoring holds this in place while the text above it grows (follow.js).
    this.anchor = h("div", { class: "cm-follow-anchor", "aria-hidden": "true" });
    this.body = h(
      "div",
      { class: "cm-column-body", dataset: { testid: "column-messages" } },
      this.empty,
      this.anchor,
    );
    this.follow = new ScrollFollow(this.body, onScroll);
    this.parking = watchParking(this.body);
    /** Whether the column is on screen (the board skips drawing it otherwise). */
    this.visible = true;
    /** When the board last drew a streaming reply of it (that frame's time). */
    this.drawnAt = -Infinity;

    this.retry = h(
      "button",
      {
        class: "cm-link",
        type: "button",
        title: t("column.retry_title"),
        dataset: { testid: "exchange-retry" },
      },
      t("column.retry"),
    );
    this.retry.addEventListener("click", () => controller.retry(window.id));
    this.editLast = h(
      "button",
      {
        class: "cm-link",
        type: "button",
        title: t("column.edit_title"),
        dataset: { testid: "exchange-edit" },
      },
      t("column.edit"),
    );
    this.editLast.addEventListener("click", () => {
      const latest = this.store.latest(window.id);
      if (latest) this.composer.edit(latest.turn_id, latest.prompt);
    });
    this.actions = h(
      "div",
      { class: "cm-exchange-actions", dataset: { testid: "exchange-actions" }, hidden: true },
      this.retry,
      this.editLast,
    );

    this.metrics = {
      ttft: h("span", { dataset: { metric: "ttft" }, title: t("metric.ttft_title") }),
      latency: h("span", { dataset: { metric: "latency" }, title: t("metric.latency_title") }),
      tokens: h("span", { dataset: { metric: "tokens" }, title: t("metric.tokens_title") }),
      rate: h("span", { dataset: { metric: "rate" }, title: t("metric.rate_title") }),
      cost: h("span", { dataset: { metric: "cost" }, title: t("metric.cost_title") }),
    };
    this.footer = h(
      "footer",
      { class: "cm-column-footer", dataset: { testid: "column-footer" } },
      ...Object.values(this.metrics),
    );
    this.composer = createComposer({
      store: this.store,
      key: `window:${window.id}`,
      testid: "column-input",
      sendTestid: "column-send",
      placeholder: t("column.placeholder", { name: window.name }),
      label: t("column.input_label", { name: window.name }),
      editNote: t("column.edit_note"),
      className: "cm-column-composer",
      onSend: (text, replaces) => controller.send(text, [window.id], replaces),
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

  /** Make sure the column has a row for turn `turnId`, in turn order (DOM writes only). */
  ensureRow(turnId) {
    let row = this.rows.get(turnId);
    if (row) return row;
    const content = h("div", { class: "cm-row-content" });
    const el = h(
      "div",
      { class: "cm-turn-row", dataset: { testid: "turn-row", turnId: String(turnId) } },
      content,
    );
    row = { el, content, note: null };
    this.rows.set(turnId, row);
    this.empty.remove(); // an empty row keeps the turns of the other columns in line
    // Turns almost always come in order: a new row goes last.
    let at = this.order.length;
    while (at > 0 && this.order[at - 1] > turnId) at -= 1;
    const next = at < this.order.length ? this.rows.get(this.order[at]).el : this.anchor;
    this.order.splice(at, 0, turnId);
    this.body.insertBefore(el, next);
    this.aligner.watch(turnId, el, content);
    return row;
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
      this.ensureRow(turnId).content.prepend(view.el);
      this.parking.watch(view);
      if (this.store.isReplaced(this.window.id, turnId)) this.markReplaced(turnId);
      if (exchange.replaces_turn_id != null) this.markReplaced(exchange.replaces_turn_id);
    }
    return view.render(exchange) ? view : null;
  }

  /** A later exchange replaced this turn's here: it stays, marked, out of the context. */
  markReplaced(turnId) {
    const row = this.rows.get(turnId);
    if (!row || row.note || !this.exchanges.has(turnId)) return;
    row.el.dataset.replaced = "true";
    row.note = h(
      "div",
      { class: "cm-replaced-note", dataset: { testid: "replaced-note" } },
      t("column.replaced"),
    );
    row.content.append(row.note);
  }

  /** Status badge, footer, actions, stop button and input: cheap, so done every frame. */
  updateChrome() {
    const id = this.window.id;
    const latest = this.store.latest(id);
    const status = latest ? latest.status : "idle";
    const busy = this.store.isBusy(id);
    if (this.status.dataset.status !== status) {
      this.status.dataset.status = status;
      this.status.textContent = label("status", status);
      this.el.dataset.status = status;
    }
    setHidden(this.stop, !busy);
    const metrics = {
      ttft: latest?.ttft_ms != null ? t("metric.ttft", { value: formatMs(latest.ttft_ms) }) : "",
      latency:
        latest?.latency_ms != null
          ? t("metric.latency", { value: formatMs(latest.latency_ms) })
          : "",
      tokens: latest ? formatTokens(latest.prompt_tokens, latest.completion_tokens) : "",
      rate: latest ? formatRate(latest.tokens_per_second) : "",
      cost: latest ? formatCost(latest.cost, this.window.currency) : "",
    };
    for (const [name, text] of Object.entries(metrics)) {
      setText(this.metrics[name], text);
      setHidden(this.metrics[name], !text);
    }
    this.placeActions(latest, busy);
    if (!this.store.hasHistory()) {
      this.composer.setDisabled(true, t("column.first_message"));
    } else if (busy) {
      this.composer.setDisabled(true, t("column.answering"));
    } else {
      this.composer.setDisabled(false);
    }
  }

  /** Retry and Edit go under the last exchange once it has ended. */
  placeActions(latest, busy) {
    const row = latest && this.exchanges.has(latest.turn_id) && this.rows.get(latest.turn_id);
    const shown = Boolean(row) && isTerminal(latest.status) && !busy;
    if (shown && this.actions.parentNode !== row.content) row.content.append(this.actions);
    setHidden(this.actions, !shown);
  }
}
