// The matrix's data: the rows (cases × samples), the cells by (case, sample, window),
// and the order the rows are shown in. No DOM here.

export const FIGURES = ["latency_ms", "completion_tokens", "cost", "ttft_ms"];
const STATUS_ORDER = ["failed", "cancelled", "streaming", "queued", "succeeded"];

export function cellKey(caseId, sample, windowId) {
  return `${caseId}:${sample}:${windowId}`;
}

export class MatrixStore {
  constructor() {
    this.cases = [];
    this.samples = 1;
    this.windows = [];
    this.cells = new Map();
    this.rows = [];
    this.sort = { by: "case", windowId: null, descending: false };
    this.figure = "latency_ms";
    this._listeners = new Set();
  }

  subscribe(listener) {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  _changed() {
    for (const listener of this._listeners) listener();
  }

  setShape({ cases, samples, windows }) {
    this.cases = cases || [];
    this.samples = Math.max(1, samples || 1);
    this.windows = windows || [];
    const rows = [];
    for (const c of this.cases) {
      for (let s = 0; s < this.samples; s += 1) {
        rows.push({ caseId: c.case_id, position: c.position, prompt: c.prompt, sample: s });
      }
    }
    this._base = rows;
    this._order();
    this._changed();
  }

  /** Cells from the kernel; `reset` replaces all of them. */
  addCells(cells, reset = false) {
    if (reset) this.cells.clear();
    for (const cell of cells) {
      this.cells.set(cellKey(cell.case_id, cell.sample, cell.window_id), cell);
    }
    if (this.sort.by !== "case") this._order();
    this._changed();
  }

  cell(row, windowId) {
    return this.cells.get(cellKey(row.caseId, row.sample, windowId));
  }

  setFigure(figure) {
    this.figure = figure;
    if (this.sort.by === "window") this._order();
    this._changed();
  }

  /** Sort by the cases' order, or by a window's figure; the same again reverses. */
  sortBy(by, windowId = null) {
    const same = this.sort.by === by && this.sort.windowId === windowId;
    this.sort = { by, windowId, descending: same ? !this.sort.descending : false };
    this._order();
    this._changed();
  }

  _order() {
    const rows = [...(this._base || [])];
    const { by, windowId, descending } = this.sort;
    const sign = descending ? -1 : 1;
    if (by === "window") {
      const value = (row) => {
        const cell = this.cell(row, windowId);
        if (!cell) return null;
        if (this.figure === "status") return STATUS_ORDER.indexOf(cell.status);
        return cell[this.figure];
      };
      rows.sort((a, b) => {
        const x = value(a);
        const y = value(b);
        if (x == null && y == null) return a.position - b.position || a.sample - b.sample;
        if (x == null) return 1; // no value: always last
        if (y == null) return -1;
        return (x - y) * sign || a.position - b.position || a.sample - b.sample;
      });
    } else if (descending) {
      rows.reverse();
    }
    this.rows = rows;
  }
}
