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
//
// With "Sync scroll" on, a column the reader scrolled leads: the board gives its position
// to the others in the same write step. A column remembers where the board itself last
// scrolled it, so that the scroll event of that write is not taken for the reader's.

/** Within this many pixels of the bottom, a column follows new text. */
export const STICK_PX = 48;

const READER_INPUT = ["wheel", "touchmove", "keydown", "pointerdown"];

export class ScrollFollow {
  /**
   * @param {HTMLElement} body the scrolling element
   * @param {() => void} [onScroll] the column scrolled (for any reason)
   */
  constructor(body, onScroll = () => {}) {
    this.body = body;
    this.following = true;
    /** The scroll height read by the last `measure`. */
    this.target = 0;
    /** The scroll position and its largest value, read by the last `measure`. */
    this.top = 0;
    this.max = 0;
    /** The reader moved the column since the last measure. */
    this.moved = false;
    /** A scroll event came since the last measure. */
    this.scrolled = false;
    /** Where the board last scrolled the column itself (null: not since a measure). */
    this.expected = null;
    const moved = () => {
      this.moved = true;
    };
    for (const name of READER_INPUT) body.addEventListener(name, moved, { passive: true });
    body.addEventListener(
      "scroll",
      () => {
        this.scrolled = true;
        onScroll();
      },
      { passive: true },
    );
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
    this.top = scrollTop;
    this.max = Math.max(0, scrollHeight - clientHeight);
    return this.following && gap > 1;
  }

  /**
   * Whether the column scrolled since the last measure, and not where the board put it:
   * the reader moved it (call after `measure`).
   */
  takeLead() {
    const ours = this.expected !== null && Math.abs(this.top - this.expected) <= 1;
    const lead = this.scrolled && !ours;
    this.scrolled = false;
    this.expected = null;
    return lead;
  }

  /** Scroll to the bottom measured: a scroll, not a DOM change, so no layout is needed. */
  catchUp() {
    this.body.scrollTop = this.target;
    this.expected = this.max;
  }

  /** Scroll where another column is (Sync scroll), following new text as it does. */
  scrollWith(leader) {
    const top = Math.min(leader.top, this.max);
    this.following = leader.following;
    if (Math.abs(this.top - top) <= 1) return;
    this.body.scrollTop = top;
    this.expected = top;
  }
}
