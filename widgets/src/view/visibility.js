// Which columns are on screen: the board draws only those, and a column coming into view
// gets what it missed. Without IntersectionObserver (tests, old hosts) every column counts
// as visible.

/** Drawn ahead of time this far outside the viewport, so scrolling shows finished text. */
const MARGIN = "300px";

/**
 * @param {(column: import("./column.js").ColumnView) => void} onShown a column came into view
 */
export function watchVisibility(onShown) {
  const Observer = globalThis.IntersectionObserver;
  /** @type {Map<Element, import("./column.js").ColumnView>} */
  const byElement = new Map();
  const observer =
    typeof Observer === "function"
      ? new Observer(
          (entries) => {
            for (const entry of entries) {
              const column = byElement.get(entry.target);
              if (!column || column.visible === entry.isIntersecting) continue;
              column.visible = entry.isIntersecting;
              if (column.visible) onShown(column);
            }
          },
          { rootMargin: MARGIN },
        )
      : null;
  return {
    /** @param {import("./column.js").ColumnView} column */
    watch(column) {
      if (!observer) return;
      byElement.set(column.el, column);
      observer.observe(column.el);
    },
    reset() {
      observer?.disconnect();
      byElement.clear();
    },
  };
}
