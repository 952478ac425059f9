// The browser's own stream of a turn: resume with a fresh ticket, or fall back to relay.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import { TurnStream } from "../src/transport/stream.js";
import { FakeEventSource, ManualTimers, settle } from "./dom.mjs";

function makeStream(overrides = {}) {
  const calls = { tickets: 0, relays: [], events: [] };
  const timers = new ManualTimers();
  const stream = new TurnStream({
    turnId: 7,
    path: "chatmore/streams/turn/7",
    baseUrl: "/user/ana/",
    EventSource: FakeEventSource,
    timers,
    requestTicket: async () => `t${++calls.tickets}`,
    requestRelay: (turnId, lastEventId) => calls.relays.push([turnId, lastEventId]),
    onEvents: (events) => calls.events.push(...events),
    ...overrides,
  });
  return { stream, calls, timers };
}

const data = (text) => ({ turn_id: 7, window_id: 1, delta_text: text });

beforeEach(() => FakeEventSource.reset());

test("opens the server's stream under the Jupyter base URL with the ticket", () => {
  const { stream, calls } = makeStream();
  stream.start("tick et/1");
  const source = FakeEventSource.last();
  assert.equal(source.url, "/user/ana/chatmore/streams/turn/7?st=tick%20et%2F1");
  source.open();
  source.emit("chunk", 1, data("Hel"));
  source.emit("error", 2, {
    turn_id: 7,
    window_id: 2,
    error: { code: "PROVIDER_TIMEOUT", message: "x" },
  });
  source.emit("done", 3, { turn_id: 7 });
  assert.deepEqual(
    calls.events.map((e) => [e.event, e.id]),
    [
      ["chunk", 1],
      ["error", 2],
      ["done", 3],
    ],
  );
  assert.equal(calls.events[0].data.delta_text, "Hel");
  assert.ok(source.closed, "closed after done");
  assert.equal(stream.state, "closed");
});

test("a dropped connection resumes with a new ticket after the last id", async () => {
  const { stream, timers } = makeStream();
  stream.start("t0");
  const first = FakeEventSource.last();
  first.open();
  first.emit("chunk", 1, data("a"));
  first.emit("chunk", 2, data("b"));
  first.fail();
  assert.ok(first.closed, "the browser's own reconnect (same used ticket) is stopped");
  assert.deepEqual(timers.run(), [250]);
  await settle();
  const second = FakeEventSource.last();
  assert.notEqual(second, first);
  assert.equal(second.url, "/user/ana/chatmore/streams/turn/7?st=t1&last_event_id=2");
});

test("the first connection failing before any event switches the turn to relay", () => {
  const { stream, calls } = makeStream();
  stream.start("t0");
  FakeEventSource.last().fail();
  assert.deepEqual(calls.relays, [[7, null]]);
  assert.equal(stream.state, "relay");
  assert.equal(FakeEventSource.instances.length, 1);
});

test("after a few failed resumes the relay takes over from the last id", async () => {
  const { stream, calls, timers } = makeStream({ retryDelaysMs: [10, 20] });
  stream.start("t0");
  FakeEventSource.last().open();
  FakeEventSource.last().emit("chunk", 5, data("a"));
  const delays = [];
  for (let attempt = 0; attempt < 3; attempt += 1) {
    FakeEventSource.last().fail();
    delays.push(...timers.run());
    await settle();
  }
  assert.deepEqual(delays, [10, 20]);
  assert.deepEqual(calls.relays, [[7, 5]]);
});

test("no ticket from the kernel means relay", async () => {
  const { stream, calls } = makeStream({ requestTicket: () => Promise.reject(new Error("no")) });
  stream.start(null);
  await settle();
  assert.deepEqual(calls.relays, [[7, null]]);
  assert.equal(FakeEventSource.instances.length, 0);
});

test("closing stops a pending resume", async () => {
  const { stream, timers } = makeStream();
  stream.start("t0");
  FakeEventSource.last().open();
  FakeEventSource.last().emit("chunk", 1, data("a"));
  FakeEventSource.last().fail();
  stream.close();
  timers.run();
  await settle();
  assert.equal(FakeEventSource.instances.length, 1);
});
