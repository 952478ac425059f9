// One view of the board: the columns side by side, the shared input and "stop all".
//
// The view only draws. It listens to the shared store, collects what changed, and draws
// it in the next animation frame: one frame for all columns per burst of events, and only
// the exchanges that changed (as many as fit in a few milliseconds; the rest in the next
// frame). A frame first reads every column's scroll position, then
// writes; columns out of view are drawn when they come into view. A streamed reply that
// has ended is checked against a fresh render afterwards, one per idle task.

import { createFrameScheduler } from "../render/frame.js";
import { renderMarkdown } from "../render/markdown.js";
import { createCheckQueue } from "./checks.js";
import { ColumnView } from "./column.js";
import { createComposer } from "./composer.js";
import { h } from "./dom.js";
import { markDrawn } from "./probe.js";
import { watchVisibility } from "./visibility.js";
import { mountVoteBar } from "./votebar.js";

/** Drawing replies stops for this frame once it took this long (at least one is drawn). */
const FRAME_BUDGET_MS = 6;

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
  /** Changed exchanges of columns out of view, drawn when their column is seen. */
  let deferred = new Set();
  let rebuild = true;
  const checks = createCheckQueue();
  const visibility = watchVisibility((column) => {
    for (const key of deferred) if (columnOf(key) === column) dirty.add(key);
    scheduler.schedule();
  });

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

  const columnOf = (key) => columns.get(key.slice(0, key.lastIndexOf(":")));

  function buildColumns() {
    for (const column of columns.values()) column.dispose();
    columns = new Map();
    deferred = new Set();
    visibility.reset();
    grid.replaceChildren();
    for (const window of store.windows) {
      const column = new ColumnView(window, controller);
      columns.set(String(window.id), column);
      grid.append(column.el);
      visibility.watch(column);
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
    // Read: where each column on screen is scrolled (the layout is clean here), then
    // scroll those that follow their newest text…
    const behind = [...columns.values()].filter((c) => c.visible && c.follow.measure());
    for (const column of behind) column.follow.catchUp();
    // …then write, and read no layout after this. A busy frame leaves the exchanges it
    // had no time for to the next one (they go round: a drawn key rejoins at the end).
    const drawn = [];
    const start = performance.now();
    for (const key of dirty) {
      if (drawn.length && performance.now() - start > FRAME_BUDGET_MS) break;
      dirty.delete(key);
      const column = columnOf(key);
      if (!column) continue;
      if (!column.visible) {
        deferred.add(key);
        continue;
      }
      deferred.delete(key);
      const ended = column.renderExchange(Number(key.slice(key.lastIndexOf(":") + 1)));
      if (ended) checks.add(ended);
      drawn.push(key);
    }
    if (dirty.size) scheduler.schedule();
    for (const column of columns.values()) column.updateChrome();
    const busy = store.windows.some((w) => store.isBusy(w.id));
    stopAll.hidden = store.openTurns().length === 0;
    if (!store.windows.length) composer.setDisabled(true, "This board has no windows.");
    else if (busy) composer.setDisabled(true, "Wait for the replies to finish, or stop them.");
    else composer.setDisabled(false);
    noticeText.textContent = store.notice ? `${store.notice.code}: ${store.notice.message}` : "";
    notice.hidden = !store.notice;
    if (drawn.length) markDrawn(store, drawn);
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
    visibility.reset();
    checks.clear();
    for (const column of columns.values()) column.dispose();
    model.off("change:height", onLayout);
    model.off("change:title", onLayout);
    root.remove();
  };
}
