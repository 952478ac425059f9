// A column follows its newest text while the reader is at the bottom, without forcing
// the browser to lay the page out in the middle of a frame.
//
// The browser keeps the bottom in view by itself: the column's last child is an anchor
// that CSS scroll anchoring holds in place while the text above it grows (column.css). A
// frame's board draw adds a catch-up for what anchoring misses (the first overflow; a
// browser without it): `measure` reads the geometry of every column first, while the
// layout is still clean from the last frame, and scrolls where needed; only then does
// the board write to the DOM, and nothing reads layout after that.

/** Within this many pixels of the bottom, a column follows new text. */
export const STICK_PX = 48;

export class ScrollFollow {
  /** @param {HTMLElement} body the scrolling element */
  constructor(body) {
    this.body = body;
    this.following = true;
    /** The scrollTop this object last set, or -1: a smaller one is the reader's doing. */
    this.setTop = -1;
  }

  /** Read the geometry (layout is clean at the start of a frame) and catch up if needed. */
  measure() {
    const { scrollTop, scrollHeight, clientHeight } = this.body;
    const gap = scrollHeight - scrollTop - clientHeight;
    if (gap < STICK_PX) this.following = true;
    else if (this.setTop >= 0 && scrollTop < this.setTop - 1) this.following = false;
    if (this.following && gap > 1) {
      this.body.scrollTop = scrollHeight; // a scroll, not a DOM change: no layout is needed
      this.setTop = Math.max(0, scrollHeight - clientHeight);
    } else if (gap <= 1) {
      this.setTop = scrollTop;
    }
  }
}
