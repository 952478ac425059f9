// The board's everyday actions: retry and edit, stopped replies, labelled figures, sweep
// chips, rows per turn, Esc, drafts that survive re-renders, and scrolling together.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";

import { FakeEventSource, FakeModel, installDom, settle } from "./dom.mjs";

const env = installDom();
const { BoardController } = await import("../src/controller.js");
const { mountBoard } = await import("../src/view/board.js");
const { formatCost, formatTokens, paramChips } = await import("../src/view/format.js");
const { ScrollFollow } = await import("../src/view/follow.js");

const WINDOWS = [1, 2].map((id) => ({
  id,
  name: `model-${id}`,
  model_name: `upstream-${id}`,
  params_diff: {},
  system_prompt: null,
  currency: id === 1 ? "USD" : "CHF",
}));

const disposers = [];

function mount(state = {}) {
  const model = new FakeModel({ windows: WINDOWS, ...state });
  const controller = new BoardController(model, { EventSource: FakeEventSource, baseUrl: "/" });
  disposers.push(() => controller.dispose());
  const el = document.createElement("div");
  document.body.append(el);
  let cleanup = mountBoard({ el, model, controller });
  env.flushFrames();
  const $ = (selector) => el.querySelector(selector);
  const $$ = (selector) => [...el.querySelectorAll(selector)];
  const remount = () => {
    cleanup();
    cleanup = mountBoard({ el, model, controller });
    env.flushFrames();
  };
  return { model, controller, el, $, $$, remount };
}

/** The kernel answers the last "send" with its turn; returns the turn's event source. */
function answerSend({ model }, turnId, windowIds) {
  const request = model.sent.findLast((m) => m.type === "send");
  model.receive({
    type: "turn",
    request_id: request.request_id,
    turn_id: turnId,
    window_ids: windowIds,
    content: request.content,
    replaces_turn_id: request.replaces_turn_id ?? null,
    stream: { path: `chatmore/streams/turn/${turnId}`, ticket: "tk" },
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

const lastSend = (model) => {
  const { request_id, ...message } = model.sent.findLast((m) => m.type === "send");
  return message;
};

const FAILED_HISTORY = {
  1: [{ turn_id: 3, prompt: "Hi?", reply: "Hello", status: "succeeded" }],
  2: [
    {
      turn_id: 3,
      prompt: "Hi?",
      reply: "",
      status: "failed",
      error: { code: "PROVIDER_TIMEOUT", message: "no answer" },
    },
  ],
};

beforeEach(() => {
  FakeEventSource.reset();
  document.body.replaceChildren();
});

afterEach(() => {
  for (const dispose of disposers.splice(0)) dispose();
});

test("Retry under a failed reply sends its prompt to that column, in its place", async () => {
  const mounted = mount({ history: FAILED_HISTORY });
  const { $, $$, model } = mounted;
  const column2 = () => $("[data-window-id='2']");
  const retry = column2().querySelector("[data-testid=exchange-retry]");
  assert.equal(retry.hidden, false);
  assert.ok(retry.closest("[data-testid=turn-row][data-turn-id='3']"), "under the last reply");
  retry.click();
  assert.deepEqual(lastSend(model), {
    type: "send",
    content: "Hi?",
    window_ids: [2],
    replaces_turn_id: 3,
  });
  const source = answerSend(mounted, 4, [2]);
  source.emit("final", 1, { turn_id: 4, window_id: 2, finish_reason: "stop", usage: {} });
  env.flushFrames();
  // The failed attempt stays, marked; the retry is the column's last exchange.
  const exchanges = [...column2().querySelectorAll("[data-testid=exchange]")];
  assert.deepEqual(
    exchanges.map((x) => [x.dataset.turnId, x.dataset.status]),
    [
      ["3", "failed"],
      ["4", "succeeded"],
    ],
  );
  const replaced = column2().querySelector("[data-turn-id='3'][data-testid=turn-row]");
  assert.equal(replaced.dataset.replaced, "true");
  assert.match(replaced.querySelector("[data-testid=replaced-note]").textContent, /Replaced/);
  assert.ok(retry.closest("[data-turn-id='4']"), "the actions moved to the new last reply");
  // Column 1 has an empty row for turn 4: rows of one turn exist in every column.
  assert.deepEqual(
    $$("[data-window-id='1'] [data-testid=turn-row]").map((r) => r.dataset.turnId),
    ["3", "4"],
  );
  assert.equal($("[data-window-id='1'] [data-turn-id='4'] [data-testid=exchange]"), null);
  await settle();
});

test("Edit puts the prompt back in the column's input; Cancel gives the draft back", () => {
  const { $, model } = mount({ history: FAILED_HISTORY });
  const input = $("[data-window-id='1'] [data-testid=column-input]");
  type(input, "half a thought");
  $("[data-window-id='1'] [data-testid=exchange-edit]").click();
  assert.equal(input.value, "Hi?");
  const banner = $("[data-window-id='1'] [data-testid=column-input-editing]");
  assert.equal(banner.hidden, false);
  $("[data-window-id='1'] [data-testid=column-input-edit-cancel]").click();
  env.flushFrames();
  assert.equal(input.value, "half a thought");
  assert.equal(banner.hidden, true);

  $("[data-window-id='1'] [data-testid=exchange-edit]").click();
  type(input, "Hi there?");
  $("[data-window-id='1'] [data-testid=column-send]").click();
  assert.deepEqual(lastSend(model), {
    type: "send",
    content: "Hi there?",
    window_ids: [1],
    replaces_turn_id: 3,
  });
});

test("Edit last in the shared input resends to the columns the message went to", async () => {
  const mounted = mount({ history: FAILED_HISTORY });
  const { $, model } = mounted;
  const shared = $("[data-testid=shared-input]");
  $("[data-testid=edit-last]").click();
  assert.equal(shared.value, "Hi?");
  assert.equal($("[data-testid=shared-input-editing]").hidden, false);
  type(shared, "Hello?");
  $("[data-testid=send-button]").click();
  assert.deepEqual(lastSend(model), {
    type: "send",
    content: "Hello?",
    window_ids: null,
    replaces_turn_id: 3,
  });
  answerSend(mounted, 4, [1, 2]);
  await settle();
  env.flushFrames();
  assert.equal(shared.value, "", "sent: the input empties and the edit ends");
  assert.equal($("[data-testid=shared-input-editing]").hidden, true);

  // The last message was a fork to column 2: its edit goes to column 2 alone.
  const forked = mount({
    history: {
      ...FAILED_HISTORY,
      2: [...FAILED_HISTORY[2], { ...FAILED_HISTORY[1][0], turn_id: 5 }],
    },
  });
  forked.$("[data-testid=edit-last]").click();
  forked.$("[data-testid=send-button]").click();
  assert.deepEqual(lastSend(forked.model).window_ids, [2]);
  assert.equal(lastSend(forked.model).replaces_turn_id, 5);
});

test("a stopped reply reads as stopped; figures are labelled, with the cost", () => {
  const history = {
    1: [
      {
        turn_id: 3,
        prompt: "q",
        reply: "a",
        status: "succeeded",
        prompt_tokens: 23,
        completion_tokens: 123,
        cost: 0.0012,
      },
    ],
    2: [
      {
        turn_id: 3,
        prompt: "q",
        reply: "partial",
        status: "cancelled",
        error: { code: "CANCELLED", message: "stopped by the user" },
        cost: 0.5,
      },
    ],
  };
  const { $ } = mount({ history });
  assert.equal($("[data-window-id='2'] [data-testid=column-status]").textContent, "stopped");
  assert.equal($("[data-window-id='2'] [data-testid=exchange]").dataset.status, "cancelled");
  assert.equal($("[data-window-id='1'] [data-metric=tokens]").textContent, "in 23 · out 123");
  assert.equal($("[data-window-id='1'] [data-metric=cost]").textContent, "$0.0012");
  assert.equal($("[data-window-id='2'] [data-metric=cost]").textContent, "0.5000 CHF");
  assert.equal(formatCost(null), "", "a model without prices shows no cost");
  assert.equal(formatCost(0.000012, "EUR"), "€0.000012");
  assert.equal(formatTokens(null, 5), "in ? · out 5");
});

test("a sweep shows each column's swept params, defaults included; names have tooltips", () => {
  const sweep = [0.0, 0.7, 1.4].map((t, i) => ({
    id: i + 1,
    name: `temperature ${t}`,
    model_name: "Demo Scholar with a rather long upstream name",
    params_diff: t === 0.7 ? {} : { temperature: t },
    effective_params: { temperature: t, max_tokens: 512 },
    system_prompt: null,
  }));
  const { $$ } = mount({ windows: [...sweep, { ...WINDOWS[0], id: 9 }] });
  const chips = $$("[data-testid=column]").map((c) =>
    [...c.querySelectorAll("[data-testid=param-chip]")].map((x) => x.textContent),
  );
  assert.deepEqual(chips, [["temperature 0"], ["temperature 0.7"], ["temperature 1.4"], []]);
  const model = $$("[data-testid=column-model]")[0];
  assert.equal(model.textContent, sweep[0].model_name);
  assert.equal(model.title, sweep[0].model_name);
  assert.equal($$("[data-testid=column-name]")[1].title, "temperature 0.7");
  // Alone, a model shows only what differs from its defaults.
  assert.deepEqual(
    paramChips({ ...sweep[1], params_diff: { top_p: 0.5 } }).map((c) => c.text),
    ["top_p 0.5"],
  );
});

test("rows of one turn take the height of the tallest in any column", () => {
  const observers = [];
  globalThis.ResizeObserver = class {
    constructor(callback) {
      this.callback = callback;
      this.targets = new Set();
      observers.push(this);
    }
    observe(target) {
      this.targets.add(target);
    }
    disconnect() {
      this.targets.clear();
    }
    resize(target, height) {
      this.callback([{ target, borderBoxSize: [{ blockSize: height }] }]);
    }
  };
  try {
    const history = {
      1: [
        { turn_id: 3, prompt: "q", reply: "short", status: "succeeded" },
        { turn_id: 5, prompt: "fork", reply: "only here", status: "succeeded" },
      ],
      2: [{ turn_id: 3, prompt: "q", reply: "long ".repeat(200), status: "succeeded" }],
    };
    const mounted = mount({ history });
    const { $ } = mounted;
    const [observer] = observers;
    const cell = (w, t) => $(`[data-window-id='${w}'] [data-turn-id='${t}'] .cm-row-content`);
    const row = (w, t) => $(`[data-window-id='${w}'] [data-testid=turn-row][data-turn-id='${t}']`);
    const min = (w, t) => row(w, t).style.getPropertyValue("--cm-row-min");
    assert.ok(observer.targets.has(cell(2, 5)), "the empty row of a fork is lined up too");
    observer.resize(cell(1, 3), 80);
    observer.resize(cell(2, 3), 400);
    observer.resize(cell(1, 5), 120);
    observer.resize(cell(2, 5), 0);
    assert.deepEqual([min(1, 3), min(2, 3)], ["400px", "400px"]);
    // The newest turn keeps its own heights (nothing comes after it)…
    assert.deepEqual([min(1, 5), min(2, 5)], ["", ""]);
    // …until a turn comes after it.
    type($("[data-testid=shared-input]"), "More?");
    $("[data-testid=send-button]").click();
    answerSend(mounted, 6, [1, 2]);
    assert.deepEqual([min(1, 5), min(2, 5)], ["120px", "120px"]);
    observer.resize(cell(2, 3), 200); // a reply drawn afresh, shorter
    assert.deepEqual([min(1, 3), min(2, 3)], ["200px", "200px"]);
  } finally {
    delete globalThis.ResizeObserver;
  }
});

test("Esc in the board stops the replies still open, and only then", () => {
  const mounted = mount({ history: FAILED_HISTORY });
  const { $, model } = mounted;
  const escape = (target) =>
    target.dispatchEvent(new window.KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
  escape($("[data-testid=shared-input]"));
  assert.equal(model.sent.filter((m) => m.type === "cancel").length, 0, "nothing to stop");
  type($("[data-testid=shared-input]"), "Go on");
  $("[data-testid=send-button]").click();
  answerSend(mounted, 4, [1, 2]);
  escape($("[data-testid=shared-input]"));
  const { request_id, ...cancel } = model.sent.at(-1);
  assert.deepEqual(cancel, { type: "cancel", turn_id: 4, window_ids: null });
});

test("drafts and edits survive the columns being rebuilt and the view made again", () => {
  const { $, model, remount } = mount({ history: FAILED_HISTORY });
  type($("[data-testid=shared-input]"), "a shared draft");
  type($("[data-window-id='2'] [data-testid=column-input]"), "a draft for 2");
  $("[data-window-id='1'] [data-testid=exchange-edit]").click();
  model.set("windows", [...WINDOWS, { ...WINDOWS[0], id: 3, name: "model-3" }]);
  env.flushFrames();
  assert.equal($("[data-testid=shared-input]").value, "a shared draft");
  assert.equal($("[data-window-id='2'] [data-testid=column-input]").value, "a draft for 2");
  assert.equal($("[data-window-id='1'] [data-testid=column-input]").value, "Hi?");
  remount();
  assert.equal($("[data-testid=shared-input]").value, "a shared draft");
  assert.equal($("[data-window-id='2'] [data-testid=column-input]").value, "a draft for 2");
  assert.equal($("[data-window-id='1'] [data-testid=column-input-editing]").hidden, false);
});

/** A scrolling element with the geometry a browser would give it. */
function fakeBody(scrollHeight, clientHeight) {
  const listeners = new Map();
  return {
    scrollTop: 0,
    scrollHeight,
    clientHeight,
    addEventListener: (name, callback) => listeners.set(name, callback),
    fire: (name) => listeners.get(name)?.(),
  };
}

test("sync scroll: the column the reader scrolled leads, the board's own scrolls do not", () => {
  const a = new ScrollFollow(fakeBody(2000, 500));
  const b = new ScrollFollow(fakeBody(1500, 500));
  for (const f of [a, b]) f.measure();
  // The reader scrolls a up.
  a.body.fire("wheel");
  a.body.scrollTop = 1200;
  a.body.fire("scroll");
  a.measure();
  b.measure();
  assert.equal(a.takeLead(), true);
  assert.equal(b.takeLead(), false);
  assert.equal(a.following, false, "the reader left the bottom");
  b.scrollWith(a);
  assert.equal(b.body.scrollTop, 1000, "as far as b goes");
  assert.equal(b.following, false);
  // b's scroll event, from the board's own write, does not make b the leader.
  b.body.fire("scroll");
  b.measure();
  assert.equal(b.takeLead(), false);
  // A catch-up to the bottom is the board's too.
  a.body.scrollTop = 1500;
  a.body.fire("wheel");
  a.measure();
  a.catchUp();
  a.body.scrollTop = 1500;
  a.body.fire("scroll");
  a.measure();
  assert.equal(a.takeLead(), false);
});

test("the Sync scroll toggle is shared by the board's views", () => {
  const { $, controller } = mount();
  const toggle = $("[data-testid=sync-scroll]");
  assert.equal(toggle.checked, false);
  toggle.checked = true;
  toggle.dispatchEvent(new window.Event("change"));
  env.flushFrames();
  assert.equal(controller.store.syncScroll, true);
});
