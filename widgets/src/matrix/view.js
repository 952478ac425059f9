// The matrix's DOM: a toolbar, a sticky header, a virtualised body (only the rows in
// view exist) and a detail pane that shows one cell's whole reply as sanitised Markdown.
// Each frame reads the scroll position first, then writes the DOM.

import { formatNumber, label, t } from "../i18n.js";
import { renderMarkdown } from "../render/markdown.js";
import { FIGURES } from "./store.js";
import { figures, preview } from "./format.js";

export const ROW_HEIGHT = 76;
const OVERSCAN = 6;

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

export function mountMatrix({ el, model, store }) {
  const root = h("div", "chatmore-board chatmore-matrix");
  const toolbar = h("div", "cm-mx-toolbar");
  const title = h("span", "cm-mx-title");
  const progress = h("span", "cm-mx-progress");
  const figure = h("select", "cm-mx-figure");
  for (const name of [...FIGURES, "status"]) {
    const option = h("option", null, t("matrix.sort_by", { figure: label("matrix.figure", name) }));
    option.value = name;
    figure.append(option);
  }
  toolbar.append(title, progress, figure);
  const scroller = h("div", "cm-mx-scroll");
  const header = h("div", "cm-mx-row cm-mx-header");
  const spacer = h("div", "cm-mx-spacer");
  const body = h("div", "cm-mx-body");
  spacer.append(body);
  scroller.append(header, spacer);
  const detail = h("div", "cm-mx-detail");
  detail.hidden = true;
  root.append(toolbar, scroller, detail);
  el.append(root);

  let selected = null; // {row, windowId}
  let frame = 0;
  let built = { start: -1, end: -1, version: -1 };
  let version = 0;

  function columns() {
    return `minmax(220px, 1.2fr) repeat(${store.windows.length}, minmax(200px, 1fr))`;
  }

  function drawHeader() {
    header.replaceChildren();
    header.style.gridTemplateColumns = columns();
    const first = h("div", "cm-mx-head", t("matrix.prompt"));
    first.dataset.sort = "case";
    header.append(first);
    for (const w of store.windows) {
      const head = h("div", "cm-mx-head", w.name);
      head.title = w.model ? `${w.name} — ${w.model}` : w.name;
      head.dataset.window = String(w.id);
      if (store.sort.by === "window" && store.sort.windowId === w.id) {
        head.classList.add(store.sort.descending ? "cm-sorted-desc" : "cm-sorted-asc");
      }
      header.append(head);
    }
  }

  function drawRow(row, index) {
    const line = h("div", "cm-mx-row");
    line.style.gridTemplateColumns = columns();
    line.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
    line.dataset.index = String(index);
    const label = store.samples > 1 ? `#${row.position} · ${row.sample}` : `#${row.position}`;
    const prompt = h("div", "cm-mx-prompt");
    prompt.append(h("span", "cm-mx-case", label), h("span", "cm-mx-text", row.prompt));
    prompt.title = row.prompt;
    line.append(prompt);
    for (const w of store.windows) {
      const cell = store.cell(row, w.id);
      const box = h("div", `cm-mx-cell cm-status-${cell ? cell.status : "pending"}`);
      box.dataset.window = String(w.id);
      box.append(
        h("div", "cm-mx-preview", preview(cell)),
        h("div", "cm-mx-figures", figures(cell)),
      );
      if (selected && selected.row === row && selected.windowId === w.id) {
        box.classList.add("cm-selected");
      }
      line.append(box);
    }
    return line;
  }

  function draw() {
    frame = 0;
    // read first …
    const top = scroller.scrollTop;
    const height = scroller.clientHeight || model.get("height");
    // … then write
    const rows = store.rows;
    spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    const start = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const end = Math.min(rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    if (start === built.start && end === built.end && version === built.version) return;
    const lines = [];
    for (let i = start; i < end; i += 1) lines.push(drawRow(rows[i], i));
    body.replaceChildren(...lines);
    built = { start, end, version };
  }

  function schedule(changed = true) {
    if (changed) version += 1;
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function showDetail() {
    if (!selected) {
      detail.hidden = true;
      return;
    }
    const { row, windowId } = selected;
    const window = store.windows.find((w) => w.id === windowId);
    const cell = store.cell(row, windowId);
    detail.replaceChildren();
    const head = h("div", "cm-mx-detail-head");
    head.append(
      h("strong", null, window ? window.name : ""),
      h(
        "span",
        "cm-mx-figures",
        `${label("status", cell ? cell.status : "pending")} ${figures(cell)}`,
      ),
    );
    const close = h("button", "cm-mx-close", "×");
    close.title = t("matrix.close");
    close.setAttribute("aria-label", t("matrix.close"));
    close.addEventListener("click", () => {
      selected = null;
      showDetail();
      schedule();
    });
    head.append(close);
    const prompt = h("div", "cm-mx-detail-prompt", row.prompt);
    const reply = h("div", "cm-mx-reply cm-markdown");
    if (cell && cell.status === "succeeded") {
      reply.innerHTML = renderMarkdown(cell.reply || ""); // sanitised (render/markdown.js)
    } else {
      reply.textContent = preview(cell);
    }
    detail.append(head, prompt, reply);
    detail.hidden = false;
  }

  function progressText() {
    const p = model.get("progress") || {};
    const done = (p.succeeded || 0) + (p.failed || 0) + (p.cancelled || 0);
    const total = p.total == null ? "?" : formatNumber(p.total);
    const parts = [p.status ? label("status", p.status) : "", `${formatNumber(done)}/${total}`];
    if (p.failed) parts.push(t("matrix.failed", { count: formatNumber(p.failed) }));
    if (p.running) parts.push(t("matrix.running", { count: formatNumber(p.running) }));
    if (p.cost != null)
      parts.push(
        t("matrix.cost", {
          value:
            `${formatNumber(p.cost, { minimumFractionDigits: 4, maximumFractionDigits: 4 })} ${p.currency || ""}`.trim(),
        }),
      );
    progress.textContent = parts.join(" · ");
    title.textContent = model.get("title");
  }

  header.addEventListener("click", (event) => {
    const head = event.target.closest(".cm-mx-head");
    if (!head) return;
    if (head.dataset.sort === "case") store.sortBy("case");
    else store.sortBy("window", Number(head.dataset.window));
  });
  body.addEventListener("click", (event) => {
    const box = event.target.closest(".cm-mx-cell");
    const line = event.target.closest(".cm-mx-row");
    if (!box || !line) return;
    const row = store.rows[Number(line.dataset.index)];
    const windowId = Number(box.dataset.window);
    const same = selected && selected.row === row && selected.windowId === windowId;
    selected = same ? null : { row, windowId };
    showDetail();
    schedule();
  });
  figure.addEventListener("change", () => store.setFigure(figure.value));
  scroller.addEventListener("scroll", () => schedule(false), { passive: true });

  const applyHeight = () => {
    scroller.style.height = `${model.get("height")}px`;
    schedule();
  };
  const unsubscribe = store.subscribe(() => {
    drawHeader();
    if (selected) showDetail();
    schedule();
  });
  model.on("change:progress", progressText);
  model.on("change:height", applyHeight);
  drawHeader();
  progressText();
  applyHeight();

  return () => {
    unsubscribe();
    model.off("change:progress", progressText);
    model.off("change:height", applyHeight);
    if (frame) cancelAnimationFrame(frame);
    root.remove();
  };
}
