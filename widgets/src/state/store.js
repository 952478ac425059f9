// The board's state in the browser, shared by every view of one widget model.
//
// It holds the windows, the live history (the kernel's `history` trait merged with what
// the streams brought since), a board-level notice, and what the user has on the go: the
// composers' drafts and edits, and whether the columns scroll together. Those live here,
// not in the DOM, so that they survive the columns being rebuilt and a view being made
// again. Listeners hear what changed; views batch that into one render per frame.

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
 * @property {Record<string, unknown>} [effective_params] its own params over the model's
 * @property {string|null} system_prompt
 * @property {string|null} [currency] of the model's prices; null: the model has none
 */
/**
 * @typedef {object} Edit a composer that edits an earlier prompt
 * @property {number} turnId the turn the next send replaces
 * @property {string} draft what the composer held before, given back on cancel
 */

/**
 * @typedef {object} Change
 * @property {boolean} [windows] the list of windows changed (rebuild the columns)
 * @property {Set<string>} [keys] exchanges that changed (`windowId:turnId`)
 * @property {boolean} [notice] the board-level notice changed
 * @property {boolean} [composers] a composer's edit began or ended
 * @property {boolean} [sync] scrolling the columns together was turned on or off
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
    /** @type {Map<string, string>} each composer's unsent text, by composer key */
    this.drafts = new Map();
    /** @type {Map<string, Edit>} composers editing an earlier prompt, by composer key */
    this.edits = new Map();
    this.syncScroll = false;
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
    this.edits.clear(); // they name turns of the conversation shown before
    mergeHistory(this.live.history, history);
    this.emit({ windows: true });
  }

  setNotice(notice) {
    this.notice = notice;
    this.emit({ notice: true });
  }

  /** What a composer holds (a draft is kept as typed, without telling the views). */
  draft(key) {
    return this.drafts.get(key) ?? "";
  }

  setDraft(key, text) {
    if (text) this.drafts.set(key, text);
    else this.drafts.delete(key);
  }

  /** A composer starts editing the prompt of `turnId`: it holds that prompt now. */
  startEdit(key, turnId, prompt) {
    const previous = this.edits.get(key);
    this.edits.set(key, { turnId, draft: previous ? previous.draft : this.draft(key) });
    this.setDraft(key, prompt);
    this.emit({ composers: true });
  }

  /** The edit ends: sent (the composer empties) or given up (its old draft comes back). */
  endEdit(key, { sent = false } = {}) {
    const edit = this.edits.get(key);
    if (!edit) return;
    this.edits.delete(key);
    this.setDraft(key, sent ? "" : edit.draft);
    this.emit({ composers: true });
  }

  setSyncScroll(on) {
    this.syncScroll = Boolean(on);
    this.emit({ sync: true });
  }

  /** A turn has started: a queued exchange in each of its windows. */
  addTurn(turnId, content, windowIds, replaces = null) {
    this.live.prompts.set(turnId, content);
    const keys = new Set();
    for (const windowId of windowIds) {
      const list = (this.live.history[String(windowId)] ??= []);
      if (!list.some((x) => x.turn_id === turnId)) {
        list.push(newExchange(turnId, content, "queued", replaces));
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

  /** Whether a later exchange of the window replaced this turn's (a retry, an edit). */
  isReplaced(windowId, turnId) {
    return this.exchanges(windowId).some((x) => x.replaces_turn_id === turnId);
  }

  /** Every turn of the board, oldest first: one row of the columns each. */
  turnIds() {
    const ids = new Set();
    for (const list of Object.values(this.live.history)) for (const x of list) ids.add(x.turn_id);
    return [...ids].sort((a, b) => a - b);
  }

  /** The windows (in column order) that a turn went to. */
  windowsOf(turnId) {
    return this.windows.map((w) => w.id).filter((id) => this.exchange(id, turnId));
  }

  /** The newest turn and its prompt, or null before the first turn. */
  lastTurn() {
    let last = null;
    for (const list of Object.values(this.live.history))
      for (const x of list) if (last === null || x.turn_id > last.turn_id) last = x;
    return last && { turnId: last.turn_id, prompt: last.prompt };
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
