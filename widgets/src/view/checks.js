// Final checks of streamed replies: each compares what is shown with a fresh render of the
// reply's final text (and redraws if they differ). A check costs a full render, so each
// runs in an idle task of its own, never in a frame and never several in one task.

/** Run within this long even if the page is never idle. */
const TIMEOUT_MS = 1000;

export function createCheckQueue() {
  const idle = globalThis.requestIdleCallback?.bind(globalThis);
  const cancelIdle = globalThis.cancelIdleCallback?.bind(globalThis);
  /** @type {{check: () => boolean, el: Element}[]} */
  const queue = [];
  let handle = null;

  const request = () => {
    if (handle !== null || !queue.length) return;
    handle = idle ? idle(run, { timeout: TIMEOUT_MS }) : setTimeout(run, 0);
  };
  function run() {
    handle = null;
    const view = queue.shift();
    if (view?.el.isConnected) view.check();
    request();
  }

  return {
    /** @param {{check: () => boolean, el: Element}} view */
    add(view) {
      if (!queue.includes(view)) queue.push(view);
      request();
    },
    clear() {
      queue.length = 0;
      if (handle !== null) (idle ? cancelIdle : clearTimeout)(handle);
      handle = null;
    },
  };
}
