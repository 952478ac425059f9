// The page side of bench/board_firehose.py: the board's bundle (widgets/static/board.js)
// mounted on a stand-in for the kernel's widget model, fed by a stand-in for the turn's
// EventSource that replays the demo provider's tokens at a fixed pace, and measured.
//
// window.runFirehose({columns, tokens, tps, settleMs, prefill}) resolves with the figures.
// With `prefill`, that many tokens of each reply arrive at once first, and the page sets
// window.firehosePrefilled once the board has drawn them: what is measured is the rest of
// the stream, into replies already that long.

import widget from "./board.js";

const nodesUnder = (root) => {
  let count = 0;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_ALL);
  while (walker.nextNode()) count += 1;
  return count;
};

// No spreading of long arrays into Math.max: 160,000 arguments overflow the stack.
const maximum = (values) => values.reduce((a, b) => (b > a ? b : a), 0);

const percentile = (values, q) => {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * q))];
};

/** The turn's events, replayed at `tps` tokens a second in every window. */
class ReplayedStream {
  static current = null;
  constructor() {
    this.listeners = new Map();
    this.onopen = null;
    this.closed = false;
    ReplayedStream.current = this;
  }
  addEventListener(name, callback) {
    if (!this.listeners.has(name)) this.listeners.set(name, []);
    this.listeners.get(name).push(callback);
  }
  close() {
    this.closed = true;
  }
  emit(name, id, data) {
    if (this.closed) return;
    const event = { type: name, data: JSON.stringify(data), lastEventId: String(id) };
    for (const callback of this.listeners.get(name) ?? []) callback(event);
  }
}

class BenchModel {
  constructor(state) {
    this.state = state;
    this.listeners = new Map();
  }
  get(name) {
    return this.state[name];
  }
  on(name, callback) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(callback);
  }
  off(name, callback) {
    this.listeners.get(name)?.delete(callback);
  }
  send(message) {
    if (message.type !== "send") return;
    // The kernel answers with the turn and its stream.
    setTimeout(() => {
      for (const callback of this.listeners.get("msg:custom") ?? []) {
        callback({
          type: "turn",
          request_id: message.request_id,
          turn_id: 1,
          window_ids: this.state.windows.map((w) => w.id),
          content: message.content,
          stream: { path: "bench/turn/1", ticket: "bench" },
        });
      }
    }, 0);
  }
}

window.runFirehose = async ({ columns, tokens, tps, settleMs = 3000, prefill = 0 }) => {
  globalThis.chatmoreMarks = true;
  globalThis.EventSource = ReplayedStream;
  const windows = Array.from({ length: columns }, (_, i) => ({
    id: i + 1,
    name: `demo-${i + 1}`,
    model_name: "demo-swift",
    params_diff: {},
    system_prompt: null,
  }));
  const model = new BenchModel({
    windows,
    history: {},
    conversation_id: 1,
    title: "Firehose",
    transport: "auto",
    height: 520,
    _chatmore_version: "dev",
  });
  const board = widget();
  board.initialize({ model });
  const el = document.getElementById("board");
  board.render({ model, el });

  // Measurements: long tasks, frames, draws.
  const longTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: "longtask", buffered: true });
  const draws = new Map(); // key -> [[time, length]]
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.name !== "chatmore:drawn") continue;
      for (const { key, length } of entry.detail) {
        if (!draws.has(key)) draws.set(key, []);
        draws.get(key).push([entry.startTime, length]);
      }
    }
  }).observe({ type: "mark" });
  const frames = [];
  let measuring = true;
  const frame = (time) => {
    frames.push(time);
    if (measuring) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);

  // Send, as a user does.
  const input = el.querySelector("[data-testid=shared-input]");
  input.value = "Write a long answer.";
  input.dispatchEvent(new Event("input"));
  el.querySelector("[data-testid=send-button]").click();
  while (!ReplayedStream.current) await new Promise((resolve) => setTimeout(resolve, 5));
  const stream = ReplayedStream.current;
  stream.onopen?.({ type: "open" });

  // The replies' first `prefill` tokens, at once; then time for the board to draw them.
  const next = windows.map(() => 0);
  const lengths = windows.map(() => 0);
  let id = 0;
  if (prefill > 0) {
    windows.forEach((window, w) => {
      for (; next[w] < prefill; next[w] += 1) {
        const delta = tokens[next[w]];
        lengths[w] += delta.length;
        const data = { turn_id: 1, window_id: window.id, delta_text: delta };
        stream.emit("chunk", ++id, data);
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  window.firehosePrefilled = true;

  // The pump: every few milliseconds, each window's tokens that are due arrive, one
  // event each, as an EventSource delivers what a network read brought.
  const arrivals = new Map(); // key -> [[scheduled, handled, length]]
  const waits = [];
  const start = performance.now() + 50;
  const interval = 1000 / tps;
  let lastFinal = null;
  await new Promise((resolve) => {
    const pump = () => {
      const now = performance.now();
      let open = 0;
      windows.forEach((window, w) => {
        const offset = (w * interval) / windows.length;
        const due = (i) => start + offset + (i - prefill) * interval;
        while (next[w] < tokens.length && due(next[w]) <= now) {
          const scheduled = due(next[w]);
          const delta = tokens[next[w]];
          lengths[w] += delta.length;
          next[w] += 1;
          const data = { turn_id: 1, window_id: window.id, delta_text: delta };
          stream.emit("chunk", ++id, data);
          const handled = performance.now();
          const key = `${window.id}:1`;
          if (!arrivals.has(key)) arrivals.set(key, []);
          arrivals.get(key).push([scheduled, handled, lengths[w]]);
          waits.push(handled - scheduled);
          if (next[w] === tokens.length) {
            stream.emit("final", ++id, {
              turn_id: 1,
              window_id: window.id,
              finish_reason: "stop",
              usage: { prompt_tokens: 10, completion_tokens: tokens.length },
              ttft_ms: 50,
              latency_ms: Math.round(now - start),
            });
            lastFinal = performance.now();
          }
        }
        if (next[w] < tokens.length) open += 1;
      });
      if (open) setTimeout(pump, 4);
      else {
        stream.emit("done", ++id, { turn_id: 1 });
        resolve();
      }
    };
    setTimeout(pump, 50);
  });
  const streamEnd = performance.now();
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  measuring = false;

  // Display lag: from an event's arrival to the start of the first frame after the draw
  // that put its text in the DOM (by then that frame has been shown).
  const nextFrame = (time) => {
    let lo = 0;
    let hi = frames.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (frames[mid] <= time) lo = mid + 1;
      else hi = mid;
    }
    return lo < frames.length ? frames[lo] : time;
  };
  const lags = [];
  for (const [key, events] of arrivals) {
    const drawn = draws.get(key) ?? [];
    let d = 0;
    for (const [scheduled, , length] of events) {
      while (d < drawn.length && drawn[d][1] < length) d += 1;
      if (d === drawn.length) break;
      lags.push(nextFrame(drawn[d][0]) - scheduled);
    }
  }

  // Frames per second, per whole second of the stream.
  const perSecond = [];
  for (let t = start; t + 1000 <= streamEnd; t += 1000)
    perSecond.push(frames.filter((f) => f >= t && f < t + 1000).length);
  let gap = 0;
  for (let i = 1; i < frames.length; i++)
    if (frames[i] <= streamEnd) gap = Math.max(gap, frames[i] - frames[i - 1]);

  const during = longTasks.filter((t) => t.start >= start && t.start < streamEnd);
  const after = longTasks.filter((t) => lastFinal !== null && t.start + t.duration >= lastFinal);
  const replies = [...el.querySelectorAll("[data-testid=reply]")];
  const grid = el.querySelector("[data-testid=columns]");
  // Tables: wider than a narrow column, they scroll sideways; a number stays on one line.
  const tables = [...el.querySelectorAll("[data-testid=reply] table")];
  const numbers = [...el.querySelectorAll("[data-testid=reply] td")].filter((td) =>
    /^[\d,.-]+$/.test(td.textContent.trim()),
  );
  const broken = numbers.filter((td) => {
    const line = parseFloat(getComputedStyle(td).lineHeight);
    return td.getBoundingClientRect().height > 1.6 * line + 6;
  });
  const bodies = [...el.querySelectorAll("[data-testid=column-messages]")];
  return {
    streamMs: streamEnd - start,
    events: waits.length,
    longTasks: {
      count: during.length,
      totalMs: during.reduce((sum, t) => sum + t.duration, 0),
      maxMs: maximum(during.map((t) => t.duration)),
    },
    afterEndMaxMs: maximum(after.map((t) => t.duration)),
    fps: {
      mean: perSecond.length ? perSecond.reduce((a, b) => a + b, 0) / perSecond.length : null,
      worst: perSecond.length ? Math.min(...perSecond) : null,
      longestGapMs: gap,
    },
    lagMs: {
      p50: percentile(lags, 0.5),
      p95: percentile(lags, 0.95),
      max: lags.length ? maximum(lags) : null,
      samples: lags.length,
    },
    eventWaitMs: { p95: percentile(waits, 0.95), max: maximum(waits) },
    dom: {
      board: nodesUnder(grid),
      perReplyMax: maximum(replies.map(nodesUnder)),
    },
    tables: {
      count: tables.length,
      scrolling: tables.filter((t) => t.scrollWidth > t.clientWidth).length,
      numbers: numbers.length,
      brokenNumbers: broken.length,
    },
    atBottom: bodies.filter((b) => b.scrollHeight - b.scrollTop - b.clientHeight < 48).length,
    columns: bodies.length,
  };
};
