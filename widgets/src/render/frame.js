// At most one render per animation frame, however many events arrive in between.

/**
 * @param {() => void} render called once in the next frame after any `schedule()`
 * @param {(callback: () => void) => number} [requestFrame]
 * @param {(handle: number) => void} [cancelFrame]
 */
export function createFrameScheduler(
  render,
  requestFrame = globalThis.requestAnimationFrame?.bind(globalThis) ??
    ((callback) => setTimeout(callback, 16)),
  cancelFrame = globalThis.cancelAnimationFrame?.bind(globalThis) ?? clearTimeout,
) {
  let handle = null;
  return {
    schedule() {
      if (handle !== null) return;
      handle = requestFrame((time) => {
        handle = null;
        render(time);
      });
    },
    cancel() {
      if (handle !== null) cancelFrame(handle);
      handle = null;
    },
  };
}
