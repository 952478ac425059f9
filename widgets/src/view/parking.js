// Long finished histories keep their DOM small: the reply of an ended exchange far out of
// view (beyond MARGIN of the viewport) is emptied, and drawn afresh from its text before
// it comes back into view. Its exchange keeps its place: out of view it is skipped by
// `content-visibility: auto` (column.css), and the browser uses the size it remembers
// from when it was last drawn. Without IntersectionObserver nothing is parked.

/** Farther than this from the viewport, a finished reply is emptied. */
const MARGIN = "1500px 0px";

/**
 * @typedef {object} Parkable
 * @property {HTMLElement} el
 * @property {() => void} park
 * @property {() => void} unpark
 */

/** @param {Element|null} [root] the column's scrolling body: "far" is far from what it shows */
export function watchParking(root = null) {
  const Observer = globalThis.IntersectionObserver;
  /** @type {Map<Element, Parkable>} */
  const byElement = new Map();
  const observer =
    typeof Observer === "function"
      ? new Observer(
          (entries) => {
            for (const entry of entries) {
              const view = byElement.get(entry.target);
              if (!view) continue;
              if (entry.isIntersecting) view.unpark();
              else view.park();
            }
          },
          // Measured from the viewport alone, the margin would not reach past the
          // column's own clip: every reply just scrolled out of it would be emptied.
          { root, rootMargin: MARGIN },
        )
      : null;
  return {
    /** @param {Parkable} view */
    watch(view) {
      if (!observer) return;
      byElement.set(view.el, view);
      observer.observe(view.el);
    },
    dispose() {
      observer?.disconnect();
      byElement.clear();
    },
  };
}
