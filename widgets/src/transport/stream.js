// One turn's event stream, read by the browser straight from the server (EventSource).
//
// Stream tickets are single-use, so the browser's own reconnect (which replays the same
// URL) cannot work: on any connection error the stream closes itself. If events had
// arrived, it asks the kernel for a new ticket and resumes after the last id, a few times
// with backoff. If the very first connection fails before anything arrived, the server is
// probably out of the browser's reach (VS Code, a remote kernel): the turn switches to the
// kernel's relay for good.

import { EVENT_NAMES } from "../protocol.js";
import { streamUrl } from "./baseurl.js";

export const RETRY_DELAYS_MS = [250, 1000, 3000];

/**
 * @typedef {object} StreamOptions
 * @property {number} turnId
 * @property {string} path the stream path relative to the Jupyter base URL
 * @property {string} baseUrl
 * @property {typeof EventSource} EventSource
 * @property {(turnId: number) => Promise<string>} requestTicket asks the kernel for a ticket
 * @property {(turnId: number, lastEventId: number|null) => void} requestRelay
 * @property {(events: import("../state/reducer.js").TurnEvent[]) => void} onEvents
 * @property {number|null} [lastEventId] resume after this id
 * @property {number[]} [retryDelaysMs]
 * @property {{setTimeout: Function, clearTimeout: Function}} [timers]
 */

export class TurnStream {
  /** @param {StreamOptions} options */
  constructor(options) {
    this.options = options;
    this.turnId = options.turnId;
    this.lastEventId = options.lastEventId ?? null;
    this.timers = options.timers ?? globalThis;
    this.delays = options.retryDelaysMs ?? RETRY_DELAYS_MS;
    /** "connecting" | "open" | "retrying" | "relay" | "closed" */
    this.state = "connecting";
    this.source = null;
    this.received = false;
    this.everOpened = false;
    this.failures = 0;
    this.timer = null;
  }

  /** Open the stream with `ticket`, or ask the kernel for one first. */
  start(ticket = null) {
    if (ticket) this.open(ticket);
    else this.renew();
    return this;
  }

  /** Stop listening (the turn goes on in the server; cancelling is explicit). */
  close() {
    this.state = "closed";
    this.source?.close();
    this.source = null;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Events arrived through the relay: keep the resume point in step. */
  noteRelayed(events) {
    for (const event of events) if (typeof event.id === "number") this.lastEventId = event.id;
  }

  open(ticket) {
    if (this.state === "closed" || this.state === "relay") return;
    const url = streamUrl(this.options.baseUrl, this.options.path, ticket, this.lastEventId);
    const source = new this.options.EventSource(url);
    this.source = source;
    this.state = "connecting";
    source.onopen = () => {
      this.everOpened = true;
      this.state = "open";
    };
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (event) => this.onMessage(source, name, event));
    }
  }

  onMessage(source, name, event) {
    if (source !== this.source) return;
    // A named "error" event carries data; the EventSource's own "error" (a failed or
    // dropped connection) does not.
    if (name === "error" && typeof event.data !== "string") {
      this.onConnectionError();
      return;
    }
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return; // not an event of ours
    }
    const id = event.lastEventId === "" ? NaN : Number(event.lastEventId);
    const parsed = { event: name, id: Number.isFinite(id) ? id : null, data };
    if (parsed.id !== null) this.lastEventId = parsed.id;
    this.received = true;
    this.failures = 0;
    this.options.onEvents([parsed]);
    if (name === "done") this.close();
  }

  onConnectionError() {
    this.source?.close();
    this.source = null;
    if (this.state === "closed" || this.state === "relay") return;
    if (!this.received && !this.everOpened) {
      this.relay();
      return;
    }
    if (this.failures >= this.delays.length) {
      this.relay();
      return;
    }
    const delay = this.delays[this.failures++];
    this.state = "retrying";
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.renew();
    }, delay);
  }

  renew() {
    if (this.state === "closed" || this.state === "relay") return;
    this.options.requestTicket(this.turnId).then(
      (ticket) => this.open(ticket),
      () => this.relay(),
    );
  }

  /** Hand the turn over to the kernel's relay, from the last id seen. */
  relay() {
    if (this.state === "closed" || this.state === "relay") return;
    this.source?.close();
    this.source = null;
    this.state = "relay";
    this.options.requestRelay(this.turnId, this.lastEventId);
  }
}
