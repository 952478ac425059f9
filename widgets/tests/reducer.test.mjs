// The event reducer: chunk, final, error and done change the history as a user sees it.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  applyEvent,
  applyEvents,
  createLiveState,
  mergeHistory,
  newExchange,
} from "../src/state/reducer.js";

const chunk = (id, windowId, text) => ({
  event: "chunk",
  id,
  data: { turn_id: 7, window_id: windowId, model_id: 1, seq: id, delta_text: text, ts: 0 },
});

function liveTurn(windowIds = [1, 2]) {
  const state = createLiveState();
  state.prompts.set(7, "Hi?");
  for (const id of windowIds) state.history[String(id)] = [newExchange(7, "Hi?")];
  return state;
}

test("chunks append to the reply of their window and mark it streaming", () => {
  const state = liveTurn();
  const { changed } = applyEvents(state, 7, [
    chunk(1, 1, "Hel"),
    chunk(2, 2, "Bon"),
    chunk(3, 1, "lo"),
  ]);
  assert.deepEqual([...changed].sort(), ["1:7", "2:7"]);
  assert.equal(state.history["1"][0].reply, "Hello");
  assert.equal(state.history["1"][0].status, "streaming");
  assert.equal(state.history["2"][0].reply, "Bon");
});

test("final records the outcome and its metrics", () => {
  const state = liveTurn([1]);
  applyEvents(state, 7, [
    chunk(1, 1, "Hello"),
    {
      event: "final",
      id: 2,
      data: {
        turn_id: 7,
        window_id: 1,
        delta_text: "!",
        usage: { prompt_tokens: 12, completion_tokens: 40, total_tokens: 52 },
        latency_ms: 2200,
        ttft_ms: 200,
        finish_reason: "stop",
      },
    },
  ]);
  const exchange = state.history["1"][0];
  assert.equal(exchange.reply, "Hello!");
  assert.equal(exchange.status, "succeeded");
  assert.equal(exchange.finish_reason, "stop");
  assert.equal(exchange.prompt_tokens, 12);
  assert.equal(exchange.completion_tokens, 40);
  assert.equal(exchange.tokens_per_second, 20); // 40 tokens in the 2 s after the first
});

test("an error fails its own window only, keeping the partial text", () => {
  const state = liveTurn();
  applyEvents(state, 7, [
    chunk(1, 1, "partial"),
    chunk(2, 2, "fine"),
    {
      event: "error",
      id: 3,
      data: { turn_id: 7, window_id: 1, error: { code: "PROVIDER_TIMEOUT", message: "too slow" } },
    },
  ]);
  assert.equal(state.history["1"][0].status, "failed");
  assert.deepEqual(state.history["1"][0].error, { code: "PROVIDER_TIMEOUT", message: "too slow" });
  assert.equal(state.history["1"][0].reply, "partial");
  assert.equal(state.history["2"][0].status, "streaming");
  // Nothing is appended to a reply that has ended.
  applyEvents(state, 7, [chunk(4, 1, "late")]);
  assert.equal(state.history["1"][0].reply, "partial");
});

test("a CANCELLED error ends the reply as cancelled", () => {
  const state = liveTurn([1]);
  applyEvents(state, 7, [
    {
      event: "error",
      id: 1,
      data: { turn_id: 7, window_id: 1, error: { code: "CANCELLED", message: "stopped" } },
    },
  ]);
  assert.equal(state.history["1"][0].status, "cancelled");
});

test("done ends the turn; a reply still open is failed, not left spinning", () => {
  const state = liveTurn();
  const result = applyEvents(state, 7, [
    chunk(1, 1, "a"),
    { event: "final", id: 2, data: { turn_id: 7, window_id: 1, finish_reason: "stop" } },
    {
      event: "done",
      id: 3,
      data: { turn_id: 7, models_total: 2, models_succeeded: 1, models_failed: 1 },
    },
  ]);
  assert.equal(result.done, true);
  assert.equal(state.history["1"][0].status, "succeeded");
  assert.equal(state.history["2"][0].status, "failed");
  assert.equal(state.history["2"][0].error.code, "INTERRUPTED");
});

test("duplicate and older ids are ignored, so a resumed stream never repeats text", () => {
  const state = liveTurn([1]);
  applyEvents(state, 7, [chunk(1, 1, "a"), chunk(2, 1, "b")]);
  const { changed } = applyEvents(state, 7, [chunk(1, 1, "a"), chunk(2, 1, "b"), chunk(3, 1, "c")]);
  assert.equal(state.history["1"][0].reply, "abc");
  assert.deepEqual([...changed], ["1:7"]);
  const again = applyEvents(state, 7, [chunk(3, 1, "c")]);
  assert.equal(again.changed.size, 0);
  assert.equal(state.history["1"][0].reply, "abc");
});

test("an event for a window the turn message did not name creates its exchange", () => {
  const state = createLiveState();
  state.prompts.set(7, "Hi?");
  applyEvents(state, 7, [chunk(1, 3, "x")]);
  assert.equal(state.history["3"][0].prompt, "Hi?");
  assert.equal(state.history["3"][0].reply, "x");
});

test("an error without a window fails every open reply of the turn", () => {
  const history = { 1: [newExchange(7, "q")], 2: [newExchange(7, "q")] };
  const keys = applyEvent(history, {
    event: "error",
    id: null,
    data: { turn_id: 7, error: { code: "RELAY_FAILED", message: "gone" } },
  });
  assert.deepEqual(keys.sort(), ["1:7", "2:7"]);
  assert.equal(history["2"][0].error.code, "RELAY_FAILED");
});

test("merging the kernel's history: an ended exchange wins, a live stream is kept", () => {
  const live = { 1: [{ ...newExchange(7, "q"), reply: "streamed so far", status: "streaming" }] };
  // The kernel still has it queued with no text: the live one is fresher.
  let changed = mergeHistory(live, { 1: [newExchange(7, "q")] });
  assert.equal(changed.size, 0);
  assert.equal(live["1"][0].reply, "streamed so far");
  // The kernel has the final record: it wins.
  const record = {
    ...newExchange(7, "q"),
    reply: "streamed so far, and done",
    status: "succeeded",
  };
  changed = mergeHistory(live, {
    1: [record],
    2: [{ ...newExchange(5, "old"), status: "succeeded" }],
  });
  assert.deepEqual([...changed].sort(), ["1:7", "2:5"]);
  assert.equal(live["1"][0].status, "succeeded");
  assert.equal(live["2"][0].prompt, "old");
});

test("final carries the cost, and a model without prices has none", () => {
  const state = liveTurn([1, 2]);
  const final = (id, windowId, cost) => ({
    event: "final",
    id,
    data: {
      turn_id: 7,
      window_id: windowId,
      usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 },
      latency_ms: 500,
      ttft_ms: 100,
      finish_reason: "stop",
      cost,
    },
  });
  applyEvents(state, 7, [final(1, 1, 0.00012), final(2, 2, null)]);
  assert.equal(state.history["1"][0].cost, 0.00012);
  assert.equal(state.history["2"][0].cost, null);
});
