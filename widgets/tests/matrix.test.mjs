// The matrix's store: rows are cases × samples, cells land by (case, sample, window), and
// sorting by a window's figure puts missing values last and reverses on a second click.
import assert from "node:assert/strict";
import { test } from "node:test";

import { MatrixStore } from "../src/matrix/store.js";
import { figures, preview } from "../src/matrix/format.js";

function store() {
  const s = new MatrixStore();
  s.setShape({
    cases: [
      { case_id: 10, position: 0, prompt: "a" },
      { case_id: 11, position: 1, prompt: "b" },
      { case_id: 12, position: 2, prompt: "c" },
    ],
    samples: 1,
    windows: [
      { id: 1, name: "fast" },
      { id: 2, name: "slow" },
    ],
  });
  return s;
}

const cell = (caseId, windowId, latency, status = "succeeded") => ({
  result_id: caseId * 10 + windowId,
  case_id: caseId,
  sample: 0,
  window_id: windowId,
  status,
  reply: `reply ${caseId}`,
  latency_ms: latency,
  completion_tokens: 5,
  cost: null,
});

test("rows are the cases in order, and cells fill in as they come", () => {
  const s = store();
  let changes = 0;
  s.subscribe(() => (changes += 1));
  assert.deepEqual(
    s.rows.map((r) => r.prompt),
    ["a", "b", "c"],
  );
  assert.equal(s.cell(s.rows[0], 1), undefined);
  s.addCells([cell(10, 1, 300)]);
  assert.equal(s.cell(s.rows[0], 1).reply, "reply 10");
  assert.equal(changes, 1);
  s.addCells([cell(10, 1, 250)]); // the same cell again: replaced, not duplicated
  assert.equal(s.cells.size, 1);
  assert.equal(s.cell(s.rows[0], 1).latency_ms, 250);
});

test("sorting by a window's figure puts cells without it last, then reverses", () => {
  const s = store();
  s.addCells([cell(10, 2, 900), cell(12, 2, 100)]);
  s.sortBy("window", 2);
  assert.deepEqual(
    s.rows.map((r) => r.prompt),
    ["c", "a", "b"],
  );
  s.sortBy("window", 2);
  assert.deepEqual(
    s.rows.map((r) => r.prompt),
    ["a", "c", "b"],
  );
  s.sortBy("case");
  assert.deepEqual(
    s.rows.map((r) => r.prompt),
    ["a", "b", "c"],
  );
});

test("a cell's preview and figures say what happened", () => {
  assert.equal(preview(undefined), "pending");
  assert.equal(
    preview({ status: "failed", error_code: "PROVIDER_TIMEOUT", error_message: "slow" }),
    "PROVIDER_TIMEOUT: slow",
  );
  assert.equal(
    figures({ latency_ms: 1500, completion_tokens: 12, cost: 0.002 }),
    "1.50 s · 12 tok · cost 0.0020",
  );
  assert.equal(figures({ latency_ms: 80, completion_tokens: null, cost: null }), "80 ms");
});
