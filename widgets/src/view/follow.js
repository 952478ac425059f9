// A column follows its newest text while the reader is at the bottom, without forcing
// the browser to lay the page out in the middle of a frame.
//
// The browser keeps the bottom in view by itself: the column's last child is an anchor
// that CSS scroll anchoring holds in place while the text above it grows (column.css). A
// frame's board draw adds a catch-up for what anchoring misses (the first overflow; a
// browser without it): `measure` reads the geometry of every column first, while the
// layout is still clean from the last frame, and scrolls where needed; only then does
// the board write to the DOM, and nothing reads layout after that.
//
// Only the reader stops a column from following (wheel, touch, keys, the scrollbar):
// a scroll position the page itself changed (a reply drawn afresh) does not.

/** Within this many pixels of the bottom, a column follows new text. */
export const STICK_PX = 48;

const READER_INPUT = ["wheel", "touchmove", "keydown", "pointerdown"];

export class ScrollFollow {
  /** @param {HTMLElement} body the scrolling element */
  constructor(body) {
    this.body = body;
    this.following = true;
    /** The scroll height read by the last `measure`. */
    this.target = 0;
    /** The reader moved the column since the last measure. */
    this.moved = false;
    const moved = () => {
      this.moved = true;
    };
    for (const name of READER_INPUT) body.addEventListener(name, moved, { passive: true });
  }

  /**
   * Read the geometry (layout is clean at the start of a frame); return whether the
   * column must scroll to catch up (`catchUp`, once every column has been read).
   */
  measure() {
    const { scrollTop, scrollHeight, clientHeight } = this.body;
    const gap = scrollHeight - scrollTop - clientHeight;
    if (this.moved || !this.following) this.following = gap < STICK_PX;
    // Input may still be scrolling (a wheel's smooth scroll): decide again next frame.
    this.moved = false;
    this.target = scrollHeight;
    return this.following && gap > 1;
  }

  /** Scroll to the bottom measured: a scroll, not a DOM change, so no layout is needed. */
  catchUp() {
    this.body.scrollTop = this.target;
  }
}
