// Requests to the kernel over custom messages, answered by a message with the same id.

const TIMEOUT_MS = 30_000;

/** @typedef {{setTimeout: Function, clearTimeout: Function}} Timers */

export class RequestError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class Requests {
  /**
   * @param {(message: object) => void} send
   * @param {{timeoutMs?: number, timers?: Timers}} [options]
   */
  constructor(send, { timeoutMs = TIMEOUT_MS, timers = globalThis } = {}) {
    this.send = send;
    this.timeoutMs = timeoutMs;
    this.timers = timers;
    // Ids are unique across the browsers that share one kernel, which all hear each answer.
    this.prefix = Math.random().toString(36).slice(2, 10);
    this.counter = 0;
    this.pending = new Map();
  }

  /** Send `message` with a fresh request_id; resolve with the answer, reject on an error. */
  request(message) {
    const id = `${this.prefix}-${++this.counter}`;
    return new Promise((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestError("KERNEL_TIMEOUT", "the kernel did not answer; is it running?"));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ ...message, request_id: id });
    });
  }

  /**
   * Send `message` with a fresh request_id when no answer is expected unless it fails
   * (cancel): `onError` hears a failure within the timeout; silence means success.
   */
  post(message, onError) {
    const id = `${this.prefix}-${++this.counter}`;
    const timer = this.timers.setTimeout(() => this.pending.delete(id), this.timeoutMs);
    const reject = (error) => onError(error);
    this.pending.set(id, { resolve: () => {}, reject, timer });
    this.send({ ...message, request_id: id });
  }

  /** Whether a message answers one of this browser's requests. */
  owns(message) {
    return message.request_id != null && this.pending.has(message.request_id);
  }

  /** Settle the request a message answers; return whether there was one. */
  settle(message) {
    const entry = this.pending.get(message.request_id);
    if (!entry) return false;
    this.pending.delete(message.request_id);
    this.timers.clearTimeout(entry.timer);
    if (message.type === "error") entry.reject(new RequestError(message.code, message.message));
    else entry.resolve(message);
    return true;
  }

  dispose() {
    for (const { reject, timer } of this.pending.values()) {
      this.timers.clearTimeout(timer);
      reject(new RequestError("CLOSED", "the board was closed"));
    }
    this.pending.clear();
  }
}
