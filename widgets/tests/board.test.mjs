// The board as a user sees it: columns, inputs, status, streaming drawn once per frame.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";

import { FakeEventSource, FakeModel, installDom, settle } from "./dom.mjs";

const env = installDom();
const { BoardController } = await import("../src/controller.js");
const { mountBoard } = await import("../src/view/board.js");
const widget = (await import("../src/index.js")).default;
const { renderMarkdown } = await import("../src/render/markdown.js");

const WINDOWS = [1, 2, 3].map((id) => ({
  id,
  name: `model-${id}`,
  model_name: `upstream-${id}`,
  params_diff: id === 2 ? { temperature: 0.2, max_tokens: 64 } : {},
  system_prompt: null,
}));

const disposers = [];

function mount(state = {}) {
  const model = new FakeModel({ windows: WINDOWS, ...state });
  const controller = new BoardController(model, { EventSource: FakeEventSource, baseUrl: "/" });
  disposers.push(() => controller.dispose());
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = mountBoard({ el, model, controller });
  env.flushFrames();
  const $ = (selector) => el.querySelector(selector);
  const $$ = (selector) => [...el.querySelectorAll(selector)];
  return { model, controller, el, cleanup, $, $$ };
}

function startTurn({ model }) {
  const request = model.sent.findLast((m) => m.type === "send");
  model.receive({
    type: "turn",
    request_id: request.request_id,
    turn_id: 7,
    window_ids: [1, 2, 3],
    content: request.content,
    stream: { path: "chatmore/streams/turn/7", ticket: "tk" },
  });
  env.flushFrames();
  const source = FakeEventSource.last();
  source.open();
  return source;
}

function type(textarea, text) {
  textarea.value = text;
  textarea.dispatchEvent(new window.Event("input"));
}

function ctrlEnter(textarea) {
  textarea.dispatchEvent(
    new window.KeyboardEvent("keydown", { key: "Enter", ctrlKey: true, bubbles: true }),
  );
}

beforeEach(() => {
  FakeEventSource.reset();
  document.body.replaceChildren();
});

afterEach(() => {
  for (const dispose of disposers.splice(0)) dispose();
});

test("one column per window, with name, param chips and an idle status", () => {
  const { $$ } = mount();
  const columns = $$("[data-testid=column]");
  assert.equal(columns.length, 3);
  assert.deepEqual(
    columns.map((c) => c.querySelector("[data-testid=column-name]").textContent),
    ["model-1", "model-2", "model-3"],
  );
  assert.deepEqual(
    $$("[data-testid=column][data-window-id='2'] [data-testid=param-chip]").map(
      (c) => c.textContent,
    ),
    ["temperature 0.2", "max_tokens 64"],
  );
  assert.deepEqual(
    $$("[data-testid=column-status]").map((s) => s.textContent),
    ["idle", "idle", "idle"],
  );
});

test("before the first turn only the shared input sends; Ctrl+Enter sends to all", async () => {
  const mounted = mount();
  const { $, $$, model } = mounted;
  assert.ok($$("[data-testid=column-send]").every((button) => button.disabled));
  const input = $("[data-testid=shared-input]");
  assert.equal(input.disabled, false);
  type(input, "Compare yourselves");
  ctrlEnter(input);
  assert.deepEqual(
    { ...model.sent.at(-1), request_id: 0 },
    { type: "send", content: "Compare yourselves", window_ids: null, request_id: 0 },
  );
  startTurn(mounted);
  await settle();
  assert.equal(input.value, "", "the draft is cleared once the turn started");
});

test("streaming: status, per-column stop, and only the streaming reply is redrawn", () => {
  const mounted = mount();
  const { $, $$, model } = mounted;
  type($("[data-testid=shared-input]"), "Hi?");
  $("[data-testid=send-button]").click();
  const source = startTurn(mounted);
  assert.deepEqual(
    $$("[data-testid=column-status]").map((s) => s.textContent),
    ["queued", "queued", "queued"],
  );

  for (let i = 1; i <= 50; i += 1)
    source.emit("chunk", i, { turn_id: 7, window_id: 1, delta_text: `w${i} ` });
  assert.ok(env.pendingFrames() <= 1, "many events, one frame");
  const reply2 = $("[data-window-id='2'] [data-testid=reply]");
  const before = reply2.innerHTML;
  let redraws = 0;
  new window.MutationObserver(() => (redraws += 1)).observe(reply2, {
    childList: true,
    subtree: true,
  });
  env.flushFrames();
  const reply1 = $("[data-window-id='1'] [data-testid=reply]");
  assert.match(reply1.textContent.trim(), /^w1 w2 .* w50$/);
  assert.equal(reply2.innerHTML, before);
  assert.equal($("[data-window-id='1'] [data-testid=column-status]").textContent, "streaming");
  assert.equal($("[data-window-id='1'] [data-testid=column-stop]").hidden, false);
  type($("[data-testid=shared-input]"), "Next question");
  assert.equal($("[data-testid=send-button]").disabled, true, "no send while a window streams");
  assert.equal($("[data-testid=shared-input]").disabled, false, "but the next can be written");
  type($("[data-window-id='1'] [data-testid=column-input]"), "Only you");
  assert.equal($("[data-window-id='1'] [data-testid=column-send]").disabled, true);

  $("[data-window-id='1'] [data-testid=column-stop]").click();
  assert.deepEqual(
    { ...model.sent.at(-1), request_id: 0 },
    { type: "cancel", turn_id: 7, window_ids: [1], request_id: 0 },
  );
  $("[data-testid=stop-all]").click();
  assert.deepEqual(
    { ...model.sent.at(-1), request_id: 0 },
    { type: "cancel", turn_id: 7, window_ids: null, request_id: 0 },
  );
  env.flushFrames();
  assert.equal(redraws, 0, "the other columns' replies were not redrawn");
});

test("a streaming reply is drawn at most every third frame; its first text and its end at once", () => {
  const mounted = mount();
  const { $ } = mounted;
  type($("[data-testid=shared-input]"), "Hi?");
  $("[data-testid=send-button]").click();
  const source = startTurn(mounted);
  const reply = () => $("[data-window-id='1'] [data-testid=reply]").textContent.trim();
  source.emit("chunk", 1, { turn_id: 7, window_id: 1, delta_text: "one" });
  env.flushFrames(1);
  assert.equal(reply(), "one", "the first text in the next frame");
  const frames = [];
  let id = 2;
  for (const word of ["two", "three", "four", "five", "six", "seven"]) {
    source.emit("chunk", id++, { turn_id: 7, window_id: 1, delta_text: ` ${word}` });
    env.flushFrames(1);
    frames.push(reply().split(" ").length);
  }
  // The test's frames are 16 ms apart: a draw every third frame.
  assert.deepEqual(frames, [1, 1, 4, 4, 4, 7]);
  source.emit("chunk", id++, { turn_id: 7, window_id: 1, delta_text: " eight" });
  source.emit("final", id++, { turn_id: 7, window_id: 1, finish_reason: "stop" });
  env.flushFrames(1);
  assert.equal(reply().split(" ").length, 8, "the end in the next frame");
  assert.equal(env.pendingFrames(), 0, "and no frame after that");
});

test("columns that drew in different frames are drawn together again", () => {
  const mounted = mount();
  const { $ } = mounted;
  type($("[data-testid=shared-input]"), "Hi?");
  $("[data-testid=send-button]").click();
  const source = startTurn(mounted);
  const reply = (w) => $(`[data-window-id='${w}'] [data-testid=reply]`).textContent;
  let id = 1;
  const emit = (w) => source.emit("chunk", id++, { turn_id: 7, window_id: w, delta_text: "x" });
  emit(1);
  env.flushFrames(1); // column 1 draws in this frame…
  emit(2);
  env.flushFrames(1); // …column 2 in the next
  const drawnIn = [];
  for (let frame = 0; frame < 9; frame += 1) {
    const before = [1, 2].map(reply);
    emit(1);
    emit(2);
    env.flushFrames(1);
    drawnIn.push([1, 2].filter((w, i) => reply(w) !== before[i]).join("+"));
  }
  assert.deepEqual(drawnIn, ["", "1+2", "", "", "1+2", "", "", "1+2", ""]);
});

test("an error shows in its column while the others go on; the footer shows metrics", () => {
  const mounted = mount();
  const { $, $$ } = mounted;
  type($("[data-testid=shared-input]"), "Hi?");
  ctrlEnter($("[data-testid=shared-input]"));
  const source = startTurn(mounted);
  source.emit("error", 1, {
    turn_id: 7,
    window_id: 2,
    error: { code: "PROVIDER_TIMEOUT", message: "no answer in 30 s" },
  });
  source.emit("chunk", 2, { turn_id: 7, window_id: 1, delta_text: "```python\nprint('hi')\n```" });
  source.emit("final", 3, {
    turn_id: 7,
    window_id: 1,
    finish_reason: "stop",
    ttft_ms: 120,
    latency_ms: 1500,
    usage: { prompt_tokens: 9, completion_tokens: 30 },
  });
  env.flushFrames();
  assert.equal(
    $("[data-window-id='2'] [data-testid=exchange-error]").textContent,
    "PROVIDER_TIMEOUT: no answer in 30 s",
  );
  assert.equal($("[data-window-id='2'] [data-testid=column-status]").textContent, "failed");
  assert.equal($("[data-window-id='3'] [data-testid=column-status]").textContent, "queued");
  assert.ok($("[data-window-id='1'] [data-testid=reply] code.language-python .hljs-built_in"));
  const footer = $("[data-window-id='1'] [data-testid=column-footer]").textContent;
  assert.match(footer, /TTFT 120 ms/);
  assert.match(footer, /latency 1\.50 s/);
  assert.match(footer, /in 9 · out 30/);
  assert.match(footer, /21\.7 tok\/s/);
  // Column 2 ended: once its history exists it may be forked even while 3 still runs.
  type($("[data-window-id='2'] [data-testid=column-input]"), "Only you");
  assert.equal($("[data-window-id='2'] [data-testid=column-send]").disabled, false);
  assert.deepEqual(
    $$("[data-testid=column-stop]").map((b) => b.hidden),
    [true, true, false],
  );
});

test("a per-column input forks: it sends to that column only", () => {
  const history = {
    1: [{ turn_id: 3, prompt: "q", reply: "a", status: "succeeded" }],
    2: [],
    3: [],
  };
  const { $, model } = mount({ history });
  const input = $("[data-window-id='2'] [data-testid=column-input]");
  assert.equal(input.disabled, false);
  type(input, "Only you");
  ctrlEnter(input);
  assert.deepEqual(
    { ...model.sent.at(-1), request_id: 0 },
    { type: "send", content: "Only you", window_ids: [2], request_id: 0 },
  );
});

test("a refused send keeps the draft and says why", async () => {
  const { $, model } = mount();
  const input = $("[data-testid=shared-input]");
  type(input, "Hello");
  ctrlEnter(input);
  model.receive({
    type: "error",
    request_id: model.sent.at(-1).request_id,
    code: "VALIDATION_FAILED",
    message: "too long",
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(input.value, "Hello");
  assert.equal($("[data-testid=shared-input-error]").textContent, "VALIDATION_FAILED: too long");
});

test("stored history is drawn as Markdown; a prompt stays plain text", () => {
  const history = {
    1: [
      {
        turn_id: 3,
        prompt: "<b>not bold</b>",
        reply: "**bold** <img src=x onerror=alert(1)>",
        status: "succeeded",
      },
    ],
  };
  const { $ } = mount({ history });
  assert.equal($("[data-testid=prompt]").textContent, "<b>not bold</b>");
  assert.equal($("[data-testid=reply] strong").textContent, "bold");
  assert.equal($("[data-testid=reply] img"), null);
});

test("two views of one model share the streams; removing a view cleans up", () => {
  const model = new FakeModel({ windows: WINDOWS, _chatmore_version: "dev" });
  globalThis.EventSource = FakeEventSource; // the page's EventSource
  const { initialize, render } = widget();
  const dispose = initialize({ model });
  const first = document.createElement("div");
  const second = document.createElement("div");
  const cleanupFirst = render({ model, el: first });
  const cleanupSecond = render({ model, el: second });
  model.receive({
    type: "turn",
    request_id: null,
    turn_id: 7,
    window_ids: [1, 2, 3],
    content: "Hi?",
    stream: { path: "p", ticket: null },
  });
  assert.equal(
    model.sent.filter((m) => m.type === "ticket").length,
    1,
    "one stream per model, not per view",
  );
  model.receive({
    type: "events",
    turn_id: 7,
    events: [{ event: "chunk", id: 1, data: { turn_id: 7, window_id: 3, delta_text: "shared" } }],
  });
  env.flushFrames();
  for (const el of [first, second]) {
    assert.equal(
      el.querySelector("[data-window-id='3'] [data-testid=reply]").textContent.trim(),
      "shared",
    );
  }
  cleanupFirst();
  assert.equal(first.children.length, 0);
  model.receive({
    type: "events",
    turn_id: 7,
    events: [{ event: "chunk", id: 2, data: { turn_id: 7, window_id: 3, delta_text: "!" } }],
  });
  env.flushFrames();
  assert.equal(
    second.querySelector("[data-window-id='3'] [data-testid=reply]").textContent.trim(),
    "shared!",
  );
  cleanupSecond();
  dispose();
  delete globalThis.EventSource;
  assert.equal(model.listenerCount(), 0);
});

test("windows and height follow the model's traits", () => {
  const { $, $$, model } = mount({ height: 400 });
  assert.equal(
    $("[data-testid=chatmore-board]").style.getPropertyValue("--cm-column-height"),
    "400px",
  );
  model.set("windows", WINDOWS.slice(0, 2));
  env.flushFrames();
  assert.equal($$("[data-testid=column]").length, 2);
  model.set("height", 300);
  assert.equal(
    $("[data-testid=chatmore-board]").style.getPropertyValue("--cm-column-height"),
    "300px",
  );
});

/** Relayed batches from the kernel (transport "relay"): chunk events for `windows`. */
function relayBatch(model, firstId, words, windows = [1, 2, 3]) {
  const events = [];
  let id = firstId;
  for (const word of words)
    for (const window_id of windows)
      events.push({ event: "chunk", id: id++, data: { turn_id: 7, window_id, delta_text: word } });
  model.receive({ type: "events", turn_id: 7, events });
  return id;
}

test("relayed batches draw once a frame, block by block: closed blocks are never redrawn", async () => {
  const mounted = mount({ transport: "relay" });
  const { $, model } = mounted;
  type($("[data-testid=shared-input]"), "Go");
  $("[data-testid=send-button]").click();
  const request = model.sent.findLast((m) => m.type === "send");
  model.receive({
    type: "turn",
    request_id: request.request_id,
    turn_id: 7,
    window_ids: [1, 2, 3],
    content: "Go",
    stream: { path: "chatmore/streams/turn/7", ticket: "tk" },
  });
  let id = relayBatch(model, 1, ["# Title\n\n", "First ", "paragraph.\n\n", "- a\n", "- b\n"]);
  id = relayBatch(model, id, ["- c\n"]);
  assert.ok(env.pendingFrames() <= 1, "two batches, one frame");
  env.flushFrames();
  const reply = () => $("[data-window-id='2'] [data-testid=reply]");
  const heading = reply().querySelector("h1");
  const firstItem = reply().querySelector("li");
  assert.equal(heading.textContent, "Title");
  id = relayBatch(model, id, ["- d\n\nThe end", " for now."]);
  env.flushFrames();
  assert.equal(reply().querySelector("h1"), heading, "a closed block stays the same node");
  assert.equal(reply().querySelector("li"), firstItem, "so does a closed list item");
  assert.equal(reply().querySelectorAll("li").length, 4);
  assert.match(reply().textContent, /The end for now\.\s*$/);

  // The end: the final check (in idle tasks) finds the reply as a fresh render draws it.
  const text = "# Title\n\nFirst paragraph.\n\n- a\n- b\n- c\n- d\n\nThe end for now.";
  const events = [1, 2, 3].map((window_id, i) => ({
    event: "final",
    id: id + i,
    data: { turn_id: 7, window_id, finish_reason: "stop", usage: {} },
  }));
  model.receive({ type: "events", turn_id: 7, events });
  env.flushFrames();
  for (let i = 0; i < 12; i += 1) await settle();
  assert.equal(reply().innerHTML, renderMarkdown(text));
  assert.equal(reply().querySelector("h1"), heading, "nothing to redraw");
});

test("a column out of view is drawn only once it comes into view", () => {
  const observers = [];
  globalThis.IntersectionObserver = class {
    constructor(callback) {
      this.callback = callback;
      this.targets = [];
      observers.push(this);
    }
    observe(target) {
      this.targets.push(target);
    }
    disconnect() {
      this.targets = [];
    }
    show(target, isIntersecting) {
      this.callback([{ target, isIntersecting }]);
    }
  };
  try {
    const mounted = mount();
    const { $ } = mounted;
    type($("[data-testid=shared-input]"), "Hi?");
    $("[data-testid=send-button]").click();
    const source = startTurn(mounted);
    const column3 = $("[data-window-id='3']");
    const observer = observers.find((o) => o.targets.includes(column3));
    observer.show(column3, false);
    for (let i = 1; i <= 6; i += 1)
      source.emit("chunk", i, { turn_id: 7, window_id: 1 + (i % 3), delta_text: `w${i} ` });
    env.flushFrames();
    const reply3 = () => $("[data-window-id='3'] [data-testid=reply]");
    assert.equal(reply3().textContent, "", "not drawn while out of view");
    assert.match($("[data-window-id='2'] [data-testid=reply]").textContent, /w4/);
    observer.show(column3, true);
    env.flushFrames();
    assert.equal(reply3().textContent.trim(), "w2 w5");

    // Far out of view, an ended reply is emptied; it is drawn again before it is seen.
    for (const window_id of [1, 2, 3])
      source.emit("final", 10 + window_id, { turn_id: 7, window_id, finish_reason: "stop" });
    env.flushFrames();
    const exchange = $("[data-window-id='1'] [data-testid=exchange]");
    const parking = observers.find((o) => o.targets.includes(exchange));
    const shown = exchange.querySelector("[data-testid=reply]").innerHTML;
    parking.show(exchange, false);
    assert.equal(exchange.querySelector("[data-testid=reply]").childNodes.length, 0);
    parking.show(exchange, true);
    assert.equal(exchange.querySelector("[data-testid=reply]").innerHTML, shown);
  } finally {
    delete globalThis.IntersectionObserver;
  }
});
