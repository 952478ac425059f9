// Replies of one turn line up across the columns: every column has a row for every turn
// of the board (empty where the turn did not go to that window), and each row is at
// least as tall as the tallest content of its turn in any column, so turn N starts at
// the same height everywhere. The last turn's row is left to its own height: nothing
// comes after it to line up, and a column following its newest text would otherwise
// scroll past a short reply into the blank rest of the row. The column headers (their
// chips may take a line more in one column than in another) are lined up as a row too.
//
// Heights come from a ResizeObserver, which the browser calls once per frame after
// layout with the sizes it has already computed: nothing here reads layout. The
// min-heights are written in that callback (before paint, so rows never show out of
// line); they change rows, not the observed contents, so the observer is not called
// again for them. Without ResizeObserver (tests, old hosts) rows keep their own heights.

/**
 * @typedef {object} Cell one column's row of one turn (or its header)
 * @property {number} key the turn id, or HEADER
 * @property {HTMLElement} row its min-height is set (CSS variable --cm-row-min)
 * @property {HTMLElement} content observed: the row's own content
 * @property {number} height the content's last observed height
 * @property {number} min the min-height last written
 */

/** The key of the column headers' row. */
export const HEADER = -1;

function blockSize(entry) {
  const box = entry.borderBoxSize;
  const size = Array.isArray(box) ? box[0] : box;
  return size ? size.blockSize : entry.contentRect.height;
}

export function createRowAligner() {
  const Observer = globalThis.ResizeObserver;
  /** @type {Map<Element, Cell>} */
  const byContent = new Map();
  /** @type {Map<number, Set<Cell>>} */
  const byKey = new Map();
  /** The newest turn: its rows keep their own heights. */
  let last = null;

  function align(keys) {
    for (const key of keys) {
      const cells = byKey.get(key);
      if (!cells) continue;
      let tallest = 0;
      if (key !== last) for (const cell of cells) tallest = Math.max(tallest, cell.height);
      for (const cell of cells) {
        if (cell.min === tallest) continue;
        cell.min = tallest;
        cell.row.style.setProperty("--cm-row-min", `${tallest}px`);
      }
    }
  }

  const observer =
    typeof Observer === "function"
      ? new Observer((entries) => {
          const changed = new Set();
          for (const entry of entries) {
            const cell = byContent.get(entry.target);
            if (!cell) continue;
            const height = Math.ceil(blockSize(entry));
            if (height === cell.height) continue;
            cell.height = height;
            changed.add(cell.key);
          }
          align(changed);
        })
      : null;

  return {
    /** Line up this row with the rows of the same key (turn) in the other columns. */
    watch(key, row, content) {
      if (!observer) return;
      // height -1: its first observation always counts, even an empty row's 0.
      const cell = { key, row, content, height: -1, min: 0 };
      byContent.set(content, cell);
      if (!byKey.has(key)) byKey.set(key, new Set());
      byKey.get(key).add(cell);
      observer.observe(content);
      if (key !== HEADER && (last === null || key > last)) {
        const before = last;
        last = key;
        if (before !== null) align([before]); // a turn came after it: line it up now
      }
    },
    /** Forget every row (the columns are rebuilt or gone). */
    reset() {
      observer?.disconnect();
      byContent.clear();
      byKey.clear();
      last = null;
    },
  };
}
