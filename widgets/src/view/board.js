// One view of the board: the columns side by side, the shared input and "stop all".
//
// The view only draws. It listens to the shared store, collects what changed, and draws
// it in the next animation frame: one frame per burst of events, and only the exchanges
// that changed.

import { createFrameScheduler } from "../render/frame.js";
import { renderMarkdown } from "../render/markdown.js";
import { ColumnView } from "./column.js";
import { createComposer } from "./composer.js";
import { h } from "./dom.js";
import { mountVoteBar } from "./votebar.js";

/**
 * @param {{el: HTMLElement, model: import("@anywidget/types").AnyModel,
 *          controller: import("../controller.js").BoardController}} props
 * @returns {() => void} cleanup
 */
export function mountBoard({ el, model, controller }) {
  const { store } = controller;
  /** @type {Map<string, ColumnView>} */
  let columns = new Map();
  let dirty = new Set();
  let rebuild = true;

  const title = h("h3", { class: "cm-title", dataset: { testid: "board-title" } });
  const stopAll = h(
    "button",
    { class: "cm-stop cm-stop-all", type: "button", dataset: { testid: "stop-all" } },
    "Stop all",
  );
  stopAll.addEventListener("click", () => controller.stopAll());
  const noticeText = h("span", { class: "cm-notice-text" });
  const dismiss = h(
    "button",
    { class: "cm-notice-close", type: "button", "aria-label": "Dismiss" },
    "×",
  );
  dismiss.addEventListener("click", () => store.setNotice(null));
  const notice = h(
    "div",
    { class: "cm-notice", role: "status", dataset: { testid: "board-notice" } },
    noticeText,
    dismiss,
  );
  const grid = h("div", { class: "cm-grid", dataset: { testid: "columns" } });
  const composer = createComposer({
    testid: "shared-input",
    sendTestid: "send-button",
    placeholder: "Message every column… (Ctrl+Enter to send)",
    label: "Message to every column",
    className: "cm-shared-composer",
    onSend: (text) => controller.send(text, null),
  });
  const voteBar = mountVoteBar({ model, controller });
  const root = h(
    "div",
    { class: "chatmore-board", dataset: { testid: "chatmore-board" } },
    h("div", { class: "cm-toolbar" }, title, stopAll),
    notice,
    grid,
    voteBar.el,
    composer.el,
  );

  function buildColumns() {
    columns = new Map();
    grid.replaceChildren();
    for (const window of store.windows) {
      const column = new ColumnView(window, controller);
      columns.set(String(window.id), column);
      grid.append(column.el);
      for (const exchange of store.exchanges(window.id))
        dirty.add(`${window.id}:${exchange.turn_id}`);
    }
    if (!store.windows.length)
      grid.append(h("div", { class: "cm-empty" }, "This board has no windows."));
    grid.dataset.columns = String(store.windows.length);
  }

  function layout() {
    root.style.setProperty("--cm-column-height", `${model.get("height")}px`);
    title.textContent = model.get("title") || "";
    title.hidden = !title.textContent;
  }

  function draw() {
    if (rebuild) {
      rebuild = false;
      buildColumns();
    }
    const now = performance.now();
    const later = new Set();
    for (const key of dirty) {
      const split = key.lastIndexOf(":");
      const column = columns.get(key.slice(0, split));
      const turnId = Number(key.slice(split + 1));
      if (column && !column.renderExchange(turnId, now)) later.add(key);
    }
    dirty = later;
    for (const column of columns.values()) column.updateChrome();
    const busy = store.windows.some((w) => store.isBusy(w.id));
    stopAll.hidden = store.openTurns().length === 0;
    if (!store.windows.length) composer.setDisabled(true, "This board has no windows.");
    else if (busy) composer.setDisabled(true, "Wait for the replies to finish, or stop them.");
    else composer.setDisabled(false);
    noticeText.textContent = store.notice ? `${store.notice.code}: ${store.notice.message}` : "";
    notice.hidden = !store.notice;
    if (dirty.size) scheduler.schedule();
  }

  const scheduler = createFrameScheduler(draw);
  const unsubscribe = store.subscribe((change) => {
    if (change.windows) rebuild = true;
    if (change.keys) for (const key of change.keys) dirty.add(key);
    scheduler.schedule();
  });
  const onLayout = () => layout();
  model.on("change:height", onLayout);
  model.on("change:title", onLayout);

  renderMarkdown(""); // set the renderer up now, not inside the first streaming frame
  layout();
  draw();
  el.append(root);

  return () => {
    unsubscribe();
    voteBar.dispose();
    scheduler.cancel();
    model.off("change:height", onLayout);
    model.off("change:title", onLayout);
    root.remove();
  };
}
