// The board's vocabulary, mirrored from widgets/protocol.py (a test keeps them equal).

/** Custom message types, front end → kernel and kernel → front end. */
export const FRONT_TO_KERNEL = ["send", "cancel", "ticket", "relay", "vote"];
export const KERNEL_TO_FRONT = ["turn", "ticket", "events", "error"];

/** SSE event names of a turn (DESIGN §8). */
export const EVENT_NAMES = ["chunk", "final", "error", "done"];

/** Status of one window's reply to one turn. */
export const STATUSES = ["queued", "streaming", "succeeded", "failed", "cancelled"];
export const TERMINAL_STATUSES = ["succeeded", "failed", "cancelled"];

export const CANCELLED_CODE = "CANCELLED";
export const INTERRUPTED_CODE = "INTERRUPTED";
export const NO_RESULT_MESSAGE = "the turn ended without a result for this window";

/** @param {string} status */
export function isTerminal(status) {
  return TERMINAL_STATUSES.includes(status);
}
