// The model-level controller: kernel messages in, streams opened, state kept.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { JSDOM } from "jsdom";

import { BoardController } from "../src/controller.js";
import { jupyterBaseUrl } from "../src/transport/baseurl.js";
import { FakeEventSource, FakeModel, ManualTimers, settle } from "./dom.mjs";

const WINDOWS = [
  { id: 1, name: "alpha", model_name: "m-a", params_diff: {}, system_prompt: null },
  {
    id: 2,
    name: "beta",
    model_name: "m-b",
    params_diff: { temperature: 0.2 },
    system_prompt: null,
  },
];

function setup(state = {}, options = {}) {
  const model = new FakeModel({ windows: WINDOWS, ...state });
  const timers = new ManualTimers();
  const controller = new BoardController(model, {
    EventSource: FakeEventSource,
    baseUrl: "/base/",
    timers,
    ...options,
  });
  return { model, controller, timers };
}

const turnMessage = (requestId, ticket = "tk") => ({
  type: "turn",
  request_id: requestId,
  turn_id: 7,
  window_ids: [1, 2],
  content: "Hi?",
  stream: { path: "chatmore/streams/turn/7", ticket },
});

beforeEach(() => FakeEventSource.reset());

test("send asks the kernel, and its turn streams from the server with the ticket", async () => {
  const { model, controller } = setup();
  const sent = controller.send("Hi?", null);
  const request = model.sent.at(-1);
  assert.deepEqual(
    { ...request, request_id: "x" },
    { type: "send", content: "Hi?", window_ids: null, request_id: "x" },
  );
  model.receive(turnMessage(request.request_id));
  const answer = await sent;
  assert.equal(answer.turn_id, 7);
  assert.equal(FakeEventSource.last().url, "/base/chatmore/streams/turn/7?st=tk");
  assert.equal(controller.store.exchange(1, 7).status, "queued");
  assert.equal(controller.store.exchange(2, 7).prompt, "Hi?");
});

test("a refused send rejects with the kernel's code and message", async () => {
  const { model, controller } = setup();
  const sent = controller.send("Hi?", [2]);
  const { request_id } = model.sent.at(-1);
  model.receive({ type: "error", request_id, code: "WINDOW_BUSY", message: "beta is busy" });
  await assert.rejects(sent, { code: "WINDOW_BUSY", message: "beta is busy" });
  assert.equal(controller.store.notice, null);
});

test("a turn this browser did not ask for is followed with a ticket of its own", async () => {
  const { model } = setup();
  model.receive(turnMessage(null, null)); // e.g. board.send() in a cell
  const ask = model.sent.at(-1);
  assert.equal(ask.type, "ticket");
  assert.equal(ask.turn_id, 7);
  assert.equal(FakeEventSource.instances.length, 0);
  model.receive({ type: "ticket", request_id: ask.request_id, turn_id: 7, ticket: "mine" });
  await settle();
  assert.equal(FakeEventSource.last().url, "/base/chatmore/streams/turn/7?st=mine");
});

test("SSE events render into the store; done ends the stream", () => {
  const { model, controller } = setup();
  controller.send("Hi?", null);
  model.receive(turnMessage(model.sent.at(-1).request_id));
  const source = FakeEventSource.last();
  source.open();
  source.emit("chunk", 1, { turn_id: 7, window_id: 1, delta_text: "Hello" });
  source.emit("error", 2, {
    turn_id: 7,
    window_id: 2,
    error: { code: "PROVIDER_HTTP_ERROR", message: "502" },
  });
  source.emit("final", 3, {
    turn_id: 7,
    window_id: 1,
    finish_reason: "stop",
    latency_ms: 900,
    ttft_ms: 100,
    usage: { completion_tokens: 8 },
  });
  source.emit("done", 4, { turn_id: 7 });
  assert.equal(controller.store.exchange(1, 7).reply, "Hello");
  assert.equal(controller.store.exchange(1, 7).status, "succeeded");
  assert.equal(controller.store.exchange(2, 7).status, "failed");
  assert.equal(controller.streams.size, 0);
  assert.ok(source.closed);
});

test("an unreachable server switches the turn to relay; relayed batches render the same", () => {
  const { model, controller } = setup();
  controller.send("Hi?", null);
  model.receive(turnMessage(model.sent.at(-1).request_id));
  FakeEventSource.last().fail();
  assert.deepEqual(model.sent.at(-1), { type: "relay", turn_id: 7, last_event_id: null });
  const events = [
    { event: "chunk", id: 1, data: { turn_id: 7, window_id: 1, delta_text: "Hel" } },
    { event: "chunk", id: 2, data: { turn_id: 7, window_id: 1, delta_text: "lo" } },
  ];
  model.receive({ type: "events", turn_id: 7, events });
  model.receive({ type: "events", turn_id: 7, events }); // a duplicate batch changes nothing
  assert.equal(controller.store.exchange(1, 7).reply, "Hello");
});

test("transport relay never opens an EventSource", () => {
  const { model } = setup({ transport: "relay" });
  model.receive(turnMessage(null, null));
  assert.deepEqual(model.sent.at(-1), { type: "relay", turn_id: 7, last_event_id: null });
  assert.equal(FakeEventSource.instances.length, 0);
});

test("a relay that fails ends the turn's open replies with its error", () => {
  const { model, controller } = setup({ transport: "relay" });
  model.receive(turnMessage(null, null));
  model.receive({
    type: "error",
    request_id: null,
    turn_id: 7,
    code: "RELAY_FAILED",
    message: "gone",
  });
  assert.deepEqual(controller.store.exchange(1, 7).error, {
    code: "RELAY_FAILED",
    message: "gone",
  });
  assert.equal(controller.store.exchange(2, 7).status, "failed");
});

test("a failed cancel shows a notice; a silent one does not", () => {
  const { model, controller, timers } = setup();
  controller.cancel(7, [1]);
  const request = model.sent.at(-1);
  assert.deepEqual(
    { ...request, request_id: 0 },
    { type: "cancel", turn_id: 7, window_ids: [1], request_id: 0 },
  );
  model.receive({
    type: "error",
    request_id: request.request_id,
    code: "TURN_NOT_FOUND",
    message: "no",
  });
  assert.equal(controller.store.notice.code, "TURN_NOT_FOUND");
  controller.store.setNotice(null);
  controller.cancel(7, null);
  timers.run();
  assert.equal(controller.store.notice, null);
});

test("after a page reload a running turn is followed again, replayed from its start", async () => {
  const history = {
    1: [{ turn_id: 7, prompt: "Hi?", reply: "partial", status: "streaming", error: null }],
  };
  const { model, controller } = setup({ history });
  const ask = model.sent.at(-1);
  assert.equal(ask.type, "ticket");
  model.receive({ type: "ticket", request_id: ask.request_id, turn_id: 7, ticket: "again" });
  await settle();
  const source = FakeEventSource.last();
  assert.equal(source.url, "/base/chatmore/streams/turn/7?st=again");
  source.open();
  source.emit("chunk", 1, { turn_id: 7, window_id: 1, delta_text: "partial" });
  source.emit("chunk", 2, { turn_id: 7, window_id: 1, delta_text: " and more" });
  assert.equal(controller.store.exchange(1, 7).reply, "partial and more");
});

test("dispose stops listening and closes the streams", () => {
  const { model, controller } = setup();
  const before = model.listenerCount();
  assert.ok(before > 0);
  controller.send("Hi?", null);
  model.receive(turnMessage(model.sent.at(-1).request_id));
  controller.dispose();
  assert.equal(model.listenerCount(), 0);
  assert.ok(FakeEventSource.last().closed);
});

test("the base URL comes from the page's Jupyter config, else /", () => {
  const page = (body) => new JSDOM(`<!doctype html><body>${body}</body>`).window.document;
  const config =
    '<script id="jupyter-config-data" type="application/json">{"baseUrl": "/user/ana"}</script>';
  assert.equal(jupyterBaseUrl(page(config)), "/user/ana/");
  assert.equal(jupyterBaseUrl(page("")), "/");
  assert.equal(jupyterBaseUrl(page('<script id="jupyter-config-data">{oops</script>')), "/");
  assert.equal(jupyterBaseUrl(undefined), "/");
});
