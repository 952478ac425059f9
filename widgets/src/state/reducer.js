// How SSE events change the board's history — the browser's twin of widgets/history.py.
//
// A history maps a window id (string) to its exchanges in turn order. Events are applied
// in place (a streaming reply grows by appending, never by copying the history) and are
// idempotent by id: a turn's ids increase, so an id at or below the last one applied is a
// duplicate from a resumed stream and is ignored.

import { CANCELLED_CODE, INTERRUPTED_CODE, NO_RESULT_MESSAGE, isTerminal } from "../protocol.js";

/** @typedef {{code: string, message: string}} ErrorInfo */
/**
 * @typedef {object} Exchange
 * @property {number} turn_id
 * @property {string} prompt
 * @property {string} reply
 * @property {string} status
 * @property {ErrorInfo|null} error
 * @property {string|null} finish_reason
 * @property {number|null} ttft_ms
 * @property {number|null} latency_ms
 * @property {number|null} prompt_tokens
 * @property {number|null} completion_tokens
 * @property {number|null} tokens_per_second
 * @property {number|null} cost
 * @property {number|null} replaces_turn_id the window's earlier exchange this one replaced
 *   (a retry, an edited prompt); that one stays shown but leaves the window's context
 */
/** @typedef {{event: string, id: number|null, data: Record<string, any>}} TurnEvent */

/** The key of one exchange: window id and turn id. */
export const keyOf = (windowId, turnId) => `${windowId}:${turnId}`;

/** @returns {Exchange} */
export function newExchange(turnId, prompt, status = "queued", replaces = null) {
  return {
    turn_id: turnId,
    prompt,
    reply: "",
    status,
    error: null,
    finish_reason: null,
    ttft_ms: null,
    latency_ms: null,
    prompt_tokens: null,
    completion_tokens: null,
    tokens_per_second: null,
    cost: null,
    replaces_turn_id: replaces,
  };
}

/** Generation speed: completion tokens over the time after the first token. */
export function tokensPerSecond({ completion_tokens: tokens, latency_ms: latency, ttft_ms }) {
  if (!tokens || !latency) return null;
  const ttft = ttft_ms || 0;
  const seconds = (latency > ttft ? latency - ttft : latency) / 1000;
  return seconds > 0 ? Math.round((tokens / seconds) * 10) / 10 : null;
}

function find(history, windowId, turnId, prompt) {
  const list = (history[String(windowId)] ??= []);
  let exchange = list.find((x) => x.turn_id === turnId);
  if (!exchange) {
    exchange = newExchange(turnId, prompt);
    list.push(exchange);
  }
  return exchange;
}

function fail(exchange, data) {
  const error = data.error || {};
  const code = String(error.code || "INTERNAL_ERROR");
  exchange.status = code === CANCELLED_CODE ? "cancelled" : "failed";
  exchange.error = { code, message: String(error.message || "") };
  if (data.ttft_ms !== undefined) exchange.ttft_ms = data.ttft_ms;
  if (data.latency_ms !== undefined) exchange.latency_ms = data.latency_ms;
  if (data.cost !== undefined) exchange.cost = data.cost;
}

function succeed(exchange, data) {
  const usage = data.usage || {};
  exchange.status = data.finish_reason === "cancelled" ? "cancelled" : "succeeded";
  exchange.finish_reason = data.finish_reason ?? null;
  exchange.ttft_ms = data.ttft_ms ?? null;
  exchange.latency_ms = data.latency_ms ?? null;
  exchange.prompt_tokens = usage.prompt_tokens ?? null;
  exchange.completion_tokens = usage.completion_tokens ?? null;
  exchange.cost = data.cost ?? null;
  exchange.tokens_per_second = data.tokens_per_second || tokensPerSecond(exchange);
}

/** The exchanges of a turn that are still queued or streaming, with their window ids. */
export function openExchanges(history, turnId) {
  const open = [];
  for (const [windowId, list] of Object.entries(history)) {
    for (const exchange of list) {
      if (exchange.turn_id === turnId && !isTerminal(exchange.status)) {
        open.push([windowId, exchange]);
      }
    }
  }
  return open;
}

/**
 * Apply one event to `history` in place; return the keys of the exchanges it changed.
 * An error without a window id fails every open reply of its turn; "done" fails any reply
 * still open (the server ends each one first, so that is only a safety net).
 * @param {Record<string, Exchange[]>} history
 * @param {TurnEvent} event
 * @param {string} prompt used when the event names an exchange not in the history yet
 * @returns {string[]}
 */
export function applyEvent(history, event, prompt = "") {
  const data = event.data || {};
  const turnId = data.turn_id;
  const windowId = data.window_id;
  if (event.event === "done" || (event.event === "error" && windowId == null)) {
    const reason =
      event.event === "error"
        ? data
        : { error: { code: INTERRUPTED_CODE, message: NO_RESULT_MESSAGE } };
    return openExchanges(history, turnId).map(([wid, exchange]) => {
      fail(exchange, reason);
      return keyOf(wid, turnId);
    });
  }
  if (!["chunk", "final", "error"].includes(event.event)) return [];
  const exchange = find(history, windowId, turnId, prompt);
  if (isTerminal(exchange.status)) return [];
  exchange.reply += data.delta_text || "";
  if (event.event === "chunk") exchange.status = "streaming";
  else if (event.event === "final") succeed(exchange, data);
  else fail(exchange, data);
  return [keyOf(windowId, turnId)];
}

/**
 * The live state of the front end: the history plus, per turn, the last event id applied
 * and the prompt (for exchanges an event names before the turn message arrived).
 */
export function createLiveState(history = {}) {
  return { history, lastIds: new Map(), prompts: new Map() };
}

/**
 * Apply a batch of one turn's events, skipping ids already applied.
 * @returns {{changed: Set<string>, done: boolean}}
 */
export function applyEvents(state, turnId, events) {
  const changed = new Set();
  let done = false;
  for (const event of events) {
    const id = typeof event.id === "number" ? event.id : null;
    const last = state.lastIds.get(turnId);
    if (id !== null) {
      if (last !== undefined && id <= last) continue;
      state.lastIds.set(turnId, id);
    }
    const prompt = state.prompts.get(turnId) ?? "";
    for (const key of applyEvent(state.history, event, prompt)) changed.add(key);
    if (event.event === "done") done = true;
  }
  return { changed, done };
}

function sortByTurn(list) {
  if (list.every((x) => typeof x.turn_id === "number")) {
    list.sort((a, b) => a.turn_id - b.turn_id);
  }
  return list;
}

/**
 * Merge a history sent by the kernel into the live one; return the changed keys.
 * The kernel's exchange wins when it has ended (it is the record); while it is still
 * queued or streaming there, the live one (fed by the stream) is at least as fresh.
 * Live exchanges the kernel does not know yet are kept.
 */
export function mergeHistory(live, incoming) {
  const changed = new Set();
  for (const [windowId, list] of Object.entries(incoming || {})) {
    const mine = (live[windowId] ??= []);
    for (const theirs of list) {
      const index = mine.findIndex((x) => x.turn_id === theirs.turn_id);
      const key = keyOf(windowId, theirs.turn_id);
      if (index === -1) {
        mine.push({ ...newExchange(theirs.turn_id, theirs.prompt), ...theirs });
        changed.add(key);
      } else if (isTerminal(theirs.status) || !isTerminal(mine[index].status)) {
        const current = mine[index];
        const keepLive = !isTerminal(theirs.status) && current.reply.length >= theirs.reply.length;
        if (!keepLive && JSON.stringify(current) !== JSON.stringify(theirs)) {
          mine[index] = { ...current, ...theirs };
          changed.add(key);
        }
      }
    }
    sortByTurn(mine);
  }
  return changed;
}
