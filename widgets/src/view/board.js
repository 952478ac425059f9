// One view of the board: the columns side by side, the toolbar ("Sync scroll", "Stop
// all") and the shared input.
//
// The view only draws. It listens to the shared store, collects what changed, and draws
// it in an animation frame: one frame for all columns per burst of events, and only the
// exchanges that changed (as many as fit in a few milliseconds; the rest in the next
// frame). A streaming reply is drawn at most every third frame, every fourth with many
// columns in view (STREAM_INTERVAL_MS). A frame first reads every column's scroll
// position, then writes (scrolls first, then the DOM); columns out of view are drawn
// when they come into view. A streamed reply that has ended is checked against a fresh
// render afterwards, one per idle task. Rows of one turn are lined up across columns by
// a ResizeObserver (rows.js), never by reading layout here. Esc anywhere in the board
// stops what is still answering.

import { t } from "../i18n.js";
import { createFrameScheduler } from "../render/frame.js";
import { renderMarkdown } from "../render/markdown.js";
import { createCheckQueue } from "./checks.js";
import { ColumnView } from "./column.js";
import { createComposer } from "./composer.js";
import { h, setHidden, setText } from "./dom.js";
import { markDrawn } from "./probe.js";
import { createRowAligner } from "./rows.js";
import { watchVisibility } from "./visibility.js";
import { mountVoteBar } from "./votebar.js";

/** Drawing replies stops for this frame once it took this long (at least one is drawn). */
const FRAME_BUDGET_MS = 6;

/**
 * A streaming reply is drawn at most this often: every third frame at 60 Hz. Each frame
 * that changes the page costs style, layout, paint and a commit on top of the drawing
 * itself, however little it changed. At 250 tokens a second into 8 columns, drawing the
 * columns together in one frame out of three takes about a third less of the main thread
 * than drawing them in every frame, and less than spreading them over the frames (a few
 * columns each frame), which pays those costs in every frame again. A reply's first text
 * and its end are drawn in the next frame.
 */
const STREAM_INTERVAL_MS = 45;
/**
 * With more than MANY_COLUMNS columns streaming in view, every fourth frame: what a frame
 * that draws costs grows with the columns it draws (the layout and paint of each one's
 * reply). With 8 columns of 20,000 tokens, five in view, the main thread's share at the
 * end of the stream fell from 45–47 % to 34 %, for text shown 82 ms after it arrived at
 * p95 instead of 66 ms (bench/README.md).
 */
const MANY_COLUMNS = 4;
const MANY_STREAM_INTERVAL_MS = 61;

const turnOf = (key) => Number(key.slice(key.lastIndexOf(":") + 1));

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
  /** Turns every column has a row for. */
  let rowsOf = new Set();
  let rebuild = true;
  let composersChanged = false;
  /** Something besides the exchanges changed (notice, composers, a scroll to sync…). */
  let changed = true;
  /** Sync scroll was just turned on: line the columns up with the first one. */
  let syncStart = false;
  const checks = createCheckQueue();
  const aligner = createRowAligner();
  const visibility = watchVisibility((column) => {
    for (const key of deferred) if (columnOf(key) === column) dirty.add(key);
    scheduler.schedule();
  });

  const title = h("h3", { class: "cm-title", dataset: { testid: "board-title" } });
  const syncScroll = h("input", { type: "checkbox", dataset: { testid: "sync-scroll" } });
  syncScroll.addEventListener("change", () => store.setSyncScroll(syncScroll.checked));
  const syncLabel = h(
    "label",
    { class: "cm-toggle", title: t("board.sync_scroll_title") },
    syncScroll,
    t("board.sync_scroll"),
  );
  const stopAll = h(
    "button",
    {
      class: "cm-stop cm-stop-all",
      type: "button",
      title: t("board.stop_all_title"),
      dataset: { testid: "stop-all" },
    },
    t("board.stop_all"),
  );
  stopAll.addEventListener("click", () => controller.stopAll());
  const noticeText = h("span", { class: "cm-notice-text" });
  const dismiss = h(
    "button",
    { class: "cm-notice-close", type: "button", "aria-label": t("board.dismiss") },
    "×",
  );
  dismiss.addEventListener("click", () => store.setNotice(null));
  const notice = h(
    "div",
    { class: "cm-notice", role: "status", dataset: { testid: "board-notice" } },
    noticeText,
    dismiss,
  );
  const strip = h("div", { class: "cm-columns", dataset: { testid: "columns" } });
  const editLast = h(
    "button",
    {
      class: "cm-link",
      type: "button",
      title: t("board.edit_last_title"),
      dataset: { testid: "edit-last" },
    },
    t("board.edit_last"),
  );
  editLast.addEventListener("click", () => {
    const last = store.lastTurn();
    if (last) composer.edit(last.turnId, last.prompt);
  });
  const composer = createComposer({
    store,
    key: "shared",
    testid: "shared-input",
    sendTestid: "send-button",
    placeholder: t("board.placeholder"),
    label: t("board.input_label"),
    editNote: t("board.edit_note"),
    className: "cm-shared-composer",
    extra: editLast,
    onSend: (text, replaces) => {
      // An edit goes where the edited message went; a new message goes everywhere.
      const to = replaces != null ? store.windowsOf(replaces) : [];
      const everywhere = !to.length || to.length === store.windows.length;
      return controller.send(text, everywhere ? null : to, replaces);
    },
  });
  const voteBar = mountVoteBar({ model, controller });
  const root = h(
    "div",
    // Focusable, so that a click anywhere in the board puts the focus (and Esc) here.
    { class: "chatmore-board", tabindex: "-1", dataset: { testid: "chatmore-board" } },
    h("div", { class: "cm-toolbar" }, title, syncLabel, stopAll),
    notice,
    strip,
    voteBar.el,
    composer.el,
  );
  root.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !store.openTurns().length) return;
    event.preventDefault();
    event.stopPropagation();
    controller.stopAll();
  });

  const columnOf = (key) => columns.get(key.slice(0, key.lastIndexOf(":")));

  function buildColumns() {
    for (const column of columns.values()) column.dispose();
    columns = new Map();
    deferred = new Set();
    rowsOf = new Set();
    visibility.reset();
    aligner.reset();
    strip.replaceChildren();
    const onScroll = () => {
      if (!store.syncScroll) return;
      changed = true;
      scheduler.schedule();
    };
    for (const window of store.windows) {
      const column = new ColumnView(window, controller, { aligner, onScroll });
      columns.set(String(window.id), column);
      strip.append(column.el);
      visibility.watch(column);
      for (const exchange of store.exchanges(window.id))
        dirty.add(`${window.id}:${exchange.turn_id}`);
    }
    addRows(store.turnIds());
    if (!store.windows.length) strip.append(h("div", { class: "cm-empty" }, t("board.no_windows")));
    strip.dataset.columns = String(store.windows.length);
  }

  /** Give every column a row for each of these turns (those it has not got yet). */
  function addRows(turnIds) {
    for (const turnId of turnIds) {
      if (rowsOf.has(turnId)) continue;
      rowsOf.add(turnId);
      for (const column of columns.values()) column.ensureRow(turnId);
    }
  }

  function layout() {
    root.style.setProperty("--cm-column-height", `${model.get("height")}px`);
    title.textContent = model.get("title") || "";
    title.hidden = !title.textContent;
  }

  /** Read: every column's scroll position (the layout is clean here), and who leads. */
  function measure() {
    const all = [...columns.values()];
    // Sync scroll needs every column's position, on screen or not.
    const read = store.syncScroll ? all : all.filter((c) => c.visible);
    const behind = read.filter((c) => c.follow.measure());
    let leader = null;
    for (const column of read) if (column.follow.takeLead() && !leader) leader = column;
    if (store.syncScroll && syncStart) leader ??= all[0] ?? null;
    syncStart = false;
    return { behind, leader: store.syncScroll ? leader : null, read };
  }

  /**
   * The dirty exchanges to draw in this frame: every one that changed, except a streaming
   * reply whose column drew less than the interval ago (it waits for a later frame). When
   * one is due, those drawn at least two thirds of the interval ago come along: columns
   * that a busy frame split (FRAME_BUDGET_MS) are drawn together again.
   */
  function due(now) {
    const keys = [];
    const streamingKeys = [];
    const inView = new Set();
    for (const key of dirty) {
      const column = columnOf(key);
      if (!column || !isStreaming(key)) keys.push(key);
      else {
        streamingKeys.push(key);
        if (column.visible) inView.add(column);
      }
    }
    const interval = inView.size > MANY_COLUMNS ? MANY_STREAM_INTERVAL_MS : STREAM_INTERVAL_MS;
    const waiting = [];
    let streaming = false;
    for (const key of streamingKeys) {
      const since = now - columnOf(key).drawnAt;
      if (since >= interval) {
        keys.push(key);
        streaming = true;
      } else if (since >= (2 / 3) * interval) waiting.push(key);
    }
    return streaming ? keys.concat(waiting) : keys;
  }

  const isStreaming = (key) => {
    const split = key.lastIndexOf(":");
    return store.exchange(key.slice(0, split), turnOf(key))?.status === "streaming";
  };

  function draw(now = performance.now()) {
    if (rebuild) {
      rebuild = false;
      buildColumns();
    }
    const keys = due(now);
    if (!keys.length && !changed) {
      // Only streaming replies drawn a moment ago: nothing to do in this frame.
      if (dirty.size) scheduler.schedule();
      return;
    }
    changed = false;
    const { behind, leader, read } = measure();
    // Write scrolls first (no DOM change yet, so no layout is needed for them)…
    for (const column of behind) column.follow.catchUp();
    if (leader) for (const c of read) if (c !== leader) c.follow.scrollWith(leader.follow);
    // …then the DOM, and read no layout after this. A busy frame leaves the exchanges it
    // had no time for to the next one (they go round: a drawn key rejoins at the end).
    addRows([...dirty].map(turnOf));
    const drawn = [];
    const start = performance.now();
    for (const key of keys) {
      if (drawn.length && performance.now() - start > FRAME_BUDGET_MS) break;
      dirty.delete(key);
      const column = columnOf(key);
      if (!column) continue;
      if (isStreaming(key)) column.drawnAt = now;
      if (!column.visible) {
        deferred.add(key);
        continue;
      }
      deferred.delete(key);
      const ended = column.renderExchange(turnOf(key));
      if (ended) checks.add(ended);
      drawn.push(key);
    }
    if (dirty.size) scheduler.schedule();
    if (composersChanged) {
      composersChanged = false;
      composer.sync();
      for (const column of columns.values()) column.composer.sync();
    }
    for (const column of columns.values()) column.updateChrome();
    const busy = store.windows.some((w) => store.isBusy(w.id));
    setHidden(stopAll, store.openTurns().length === 0);
    if (syncScroll.checked !== store.syncScroll) syncScroll.checked = store.syncScroll;
    setHidden(editLast, busy || !store.hasHistory());
    if (!store.windows.length) composer.setDisabled(true, t("board.no_windows"));
    else if (busy) composer.setDisabled(true, t("board.wait"));
    else composer.setDisabled(false);
    setText(noticeText, store.notice ? `${store.notice.code}: ${store.notice.message}` : "");
    setHidden(notice, !store.notice);
    if (drawn.length) markDrawn(store, drawn);
  }

  const scheduler = createFrameScheduler(draw);
  const unsubscribe = store.subscribe((change) => {
    if (change.windows) rebuild = true;
    if (change.keys) for (const key of change.keys) dirty.add(key);
    if (change.composers) composersChanged = true;
    if (!change.keys) changed = true;
    if (change.sync) syncStart = store.syncScroll;
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
    aligner.reset();
    checks.clear();
    for (const column of columns.values()) column.dispose();
    model.off("change:height", onLayout);
    model.off("change:title", onLayout);
    root.remove();
  };
}
