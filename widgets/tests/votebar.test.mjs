// The vote bar: shown once every reply of the latest turn has ended, one button per
// column plus tie and all bad; a click sends a vote; the votes trait marks the choice.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { FakeEventSource, FakeModel, installDom } from "./dom.mjs";

const env = installDom();
const { BoardController } = await import("../src/controller.js");
const { mountBoard } = await import("../src/view/board.js");

const windows = (n) =>
  Array.from({ length: n }, (_, i) => ({
    id: 10 + i,
    name: `Model ${"ABC"[i]}`,
    model_name: "",
    params_diff: {},
    system_prompt: null,
  }));
const exchange = (turn_id, status) => ({ turn_id, prompt: "q", reply: "r", status });

const cleanups = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function mount(state) {
  const model = new FakeModel(state);
  const controller = new BoardController(model, { EventSource: FakeEventSource, baseUrl: "/" });
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = mountBoard({ el, model, controller });
  cleanups.push(() => {
    cleanup();
    controller.dispose();
    el.remove();
  });
  env.flushFrames();
  const bar = el.querySelector('[data-testid="vote-bar"]');
  const options = () =>
    [...bar.querySelectorAll('[data-testid="vote-option"]')].map((b) => b.textContent);
  return { model, bar, options };
}

test("two columns: A / B / tie / both bad, once both replies ended", () => {
  const { model, bar, options } = mount({
    windows: windows(2),
    history: { 10: [exchange(5, "succeeded")], 11: [exchange(5, "streaming")] },
  });
  assert.equal(bar.hidden, true);
  model.set("history", { 10: [exchange(5, "succeeded")], 11: [exchange(5, "failed")] });
  assert.equal(bar.hidden, false);
  assert.deepEqual(options(), ["Model A is better", "Model B is better", "Tie", "Both bad"]);
});

test("three columns: the best one, tie or all bad; a click votes on the latest turn", () => {
  const { model, bar, options } = mount({
    windows: windows(3),
    history: {
      10: [exchange(4, "succeeded"), exchange(6, "succeeded")],
      11: [exchange(4, "succeeded"), exchange(6, "cancelled")],
      12: [exchange(4, "succeeded"), exchange(6, "succeeded")],
    },
  });
  assert.deepEqual(options(), [
    "Model A is best",
    "Model B is best",
    "Model C is best",
    "Tie",
    "All bad",
  ]);
  bar.querySelector('[data-choice="11"]').click();
  const sent = model.sent.findLast((m) => m.type === "vote");
  assert.equal(sent.turn_id, 6);
  assert.equal(sent.winner, 11);
  assert.equal(bar.querySelector('[data-testid="vote-status"]').textContent, "Saving…");
  model.set("votes", { 6: { winner: 11, vote_id: 1, blind: true } });
  const chosen = bar.querySelector('[aria-pressed="true"]');
  assert.equal(chosen.dataset.choice, "11");
  assert.equal(bar.dataset.voted, "true");
  assert.match(bar.querySelector('[data-testid="vote-status"]').textContent, /Model B is best/);
});

test("a single column has nothing to compare", () => {
  const { bar } = mount({ windows: windows(1), history: { 10: [exchange(1, "succeeded")] } });
  assert.equal(bar.hidden, true);
});
