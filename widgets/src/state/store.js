// The board's state in the browser, shared by every view of one widget model.
//
// It holds the windows, the live history (the kernel's `history` trait merged with what
// the streams brought since) and a board-level notice. Listeners hear which exchanges
// changed; views batch that into one render per animation frame.

import { isTerminal } from "../protocol.js";
import {
  applyEvents,
  createLiveState,
  keyOf,
  mergeHistory,
  newExchange,
  openExchanges,
} from "./reducer.js";

/**
 * @typedef {object} BoardWindow one column: a model with its own params
 * @property {number} id
 * @property {string} name
 * @property {string} model_name
 * @property {Record<string, unknown>} params_diff params that differ from the model's defaults
 * @property {string|null} system_prompt
 */

/**
 * @typedef {object} Change
 * @property {boolean} [windows] the list of windows changed (rebuild the columns)
 * @property {Set<string>} [keys] exchanges that changed (`windowId:turnId`)
 * @property {boolean} [notice] the board-level notice changed
 */

export class Store {
  constructor() {
    /** @type {BoardWindow[]} */
    this.windows = [];
    this.live = createLiveState();
    /** @type {{code: string, message: string}|null} */
    this.notice = null;
    /** Turns replayed from their first event: their replies restart from empty. */
    this.replaying = new Set();
    this.listeners = new Set();
  }

  get history() {
    return this.live.history;
  }

  /** @param {(change: Change) => void} listener @returns {() => void} unsubscribe */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @param {Change} change */
  emit(change) {
    for (const listener of this.listeners) listener(change);
  }

  setWindows(windows) {
    this.windows = Array.isArray(windows) ? windows : [];
    this.emit({ windows: true });
  }

  /** Merge the kernel's history into the live one. */
  setHistory(history) {
    const keys = mergeHistory(this.live.history, history);
    if (keys.size) this.emit({ keys });
  }

  /** Forget everything live (another conversation is shown). */
  reset(history) {
    this.live = createLiveState();
    this.replaying.clear();
    mergeHistory(this.live.history, history);
    this.emit({ windows: true });
  }

  setNotice(notice) {
    this.notice = notice;
    this.emit({ notice: true });
  }

  /** A turn has started: a queued exchange in each of its windows. */
  addTurn(turnId, content, windowIds) {
    this.live.prompts.set(turnId, content);
    const keys = new Set();
    for (const windowId of windowIds) {
      const list = (this.live.history[String(windowId)] ??= []);
      if (!list.some((x) => x.turn_id === turnId)) {
        list.push(newExchange(turnId, content));
        keys.add(keyOf(windowId, turnId));
      }
    }
    if (keys.size) this.emit({ keys });
  }

  /** Mark a turn as replayed from its start: its replies are cleared at its first event. */
  replayTurn(turnId) {
    this.replaying.add(turnId);
    this.live.lastIds.delete(turnId);
  }

  /** Apply a batch of one turn's events; return whether the turn is done. */
  applyEvents(turnId, events) {
    if (this.replaying.has(turnId) && events.length) {
      this.replaying.delete(turnId);
      for (const [, exchange] of openExchanges(this.live.history, turnId)) exchange.reply = "";
    }
    const { changed, done } = applyEvents(this.live, turnId, events);
    if (changed.size) this.emit({ keys: changed });
    return done;
  }

  /** End every open reply of a turn with an error (the stream could not be followed). */
  failTurn(turnId, error) {
    this.applyEvents(turnId, [{ event: "error", id: null, data: { turn_id: turnId, error } }]);
  }

  /** @returns {import("./reducer.js").Exchange[]} */
  exchanges(windowId) {
    return this.live.history[String(windowId)] || [];
  }

  exchange(windowId, turnId) {
    return this.exchanges(windowId).find((x) => x.turn_id === turnId);
  }

  /** The window's newest exchange, or undefined before its first turn. */
  latest(windowId) {
    const list = this.exchanges(windowId);
    return list[list.length - 1];
  }

  /** Whether a window has a reply queued or streaming (sending to it is refused). */
  isBusy(windowId) {
    return this.exchanges(windowId).some((x) => !isTerminal(x.status));
  }

  /** Turn ids with a reply still open, in any window. */
  openTurns() {
    const turns = new Set();
    for (const list of Object.values(this.live.history)) {
      for (const exchange of list) if (!isTerminal(exchange.status)) turns.add(exchange.turn_id);
    }
    return [...turns];
  }

  /** Whether the conversation has had a turn (per-column sends are allowed from then on). */
  hasHistory() {
    return Object.values(this.live.history).some((list) => list.length > 0);
  }
}
