// Final checks of streamed replies: each compares what is shown with a fresh render of the
// reply's final text (and redraws if they differ). A check costs a full render, so it goes
// in steps of a few milliseconds (StreamingMarkdown.verifySteps), each in an idle task of
// its own, never in a frame and never several in one task.

/** Run within this long even if the page is never idle. */
const TIMEOUT_MS = 1000;

export function createCheckQueue() {
  const idle = globalThis.requestIdleCallback?.bind(globalThis);
  const cancelIdle = globalThis.cancelIdleCallback?.bind(globalThis);
  /** @typedef {{checkSteps: () => Generator<void, boolean>, el: Element}} Checked */
  /** @type {Checked[]} */
  const queue = [];
  /** The steps of the check at the head of the queue, once started. */
  let steps = null;
  let handle = null;

  const request = () => {
    if (handle !== null || !queue.length) return;
    handle = idle ? idle(run, { timeout: TIMEOUT_MS }) : setTimeout(run, 0);
  };
  function run() {
    handle = null;
    const view = queue[0];
    if (view && view.el.isConnected) {
      steps ??= view.checkSteps();
      if (!steps.next().done) return request();
    }
    queue.shift();
    steps = null;
    request();
  }

  return {
    /** @param {Checked} view */
    add(view) {
      if (!queue.includes(view)) queue.push(view);
      request();
    },
    clear() {
      queue.length = 0;
      steps = null;
      if (handle !== null) (idle ? cancelIdle : clearTimeout)(handle);
      handle = null;
    },
  };
}
