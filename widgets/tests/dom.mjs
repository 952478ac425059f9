// A browser-like global environment from jsdom, for the tests that draw the board.
import { JSDOM } from "jsdom";

/** Install a jsdom window as the globals the board uses; return it and a frame pump. */
export function installDom(html = "<!doctype html><html><body></body></html>") {
  const dom = new JSDOM(html, { pretendToBeVisual: false });
  const { window } = dom;
  const frames = [];
  globalThis.window = window;
  globalThis.document = window.document;
  globalThis.Node = window.Node;
  globalThis.HTMLElement = window.HTMLElement;
  globalThis.requestAnimationFrame = (callback) => frames.push(callback);
  globalThis.cancelAnimationFrame = () => {};
  // A clock that moves only from frame to frame: render costs read as zero, so how
  // often a reply is drawn does not depend on the speed of the machine running the test.
  let now = 0;
  Object.defineProperty(globalThis, "performance", {
    value: { now: () => now },
    configurable: true,
    writable: true,
  });
  return {
    window,
    /** Run the animation frames requested so far (and those they request). */
    flushFrames(limit = 20) {
      let ran = 0;
      while (frames.length && ran < limit) {
        now += 16;
        frames.shift()();
        ran += 1;
      }
      return ran;
    },
    pendingFrames: () => frames.length,
  };
}

/** A stand-in for anywidget's model: traits, change events and sent messages. */
export class FakeModel {
  constructor(state = {}) {
    this.state = {
      windows: [],
      history: {},
      conversation_id: null,
      title: "",
      transport: "auto",
      height: 520,
      _chatmore_version: "dev",
      ...state,
    };
    this.listeners = new Map();
    this.sent = [];
  }
  get(name) {
    return this.state[name];
  }
  set(name, value) {
    this.state[name] = value;
    this.emit(`change:${name}`);
  }
  on(name, callback) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(callback);
  }
  off(name, callback) {
    this.listeners.get(name)?.delete(callback);
  }
  emit(name, ...args) {
    for (const callback of this.listeners.get(name) ?? []) callback(...args);
  }
  send(message) {
    this.sent.push(message);
  }
  /** A custom message from the kernel. */
  receive(message) {
    this.emit("msg:custom", message, []);
  }
  listenerCount() {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }
}

/** A stand-in for EventSource that the test drives by hand. */
export class FakeEventSource {
  static instances = [];
  constructor(url) {
    this.url = url;
    this.closed = false;
    this.listeners = new Map();
    this.onopen = null;
    FakeEventSource.instances.push(this);
  }
  addEventListener(name, callback) {
    if (!this.listeners.has(name)) this.listeners.set(name, []);
    this.listeners.get(name).push(callback);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.({ type: "open" });
  }
  /** Deliver a named SSE event. */
  emit(name, id, data) {
    const event = { type: name, data: JSON.stringify(data), lastEventId: String(id) };
    for (const callback of this.listeners.get(name) ?? []) callback(event);
  }
  /** The connection failed or dropped (EventSource's own error: no data). */
  fail() {
    for (const callback of this.listeners.get("error") ?? []) callback({ type: "error" });
  }
  static reset() {
    FakeEventSource.instances = [];
  }
  static last() {
    return FakeEventSource.instances[FakeEventSource.instances.length - 1];
  }
}

/** Timers run by hand: `run()` fires every timer due, in order. */
export class ManualTimers {
  constructor() {
    this.timers = new Map();
    this.next = 1;
  }
  setTimeout = (callback, delay) => {
    const id = this.next++;
    this.timers.set(id, { callback, delay });
    return id;
  };
  clearTimeout = (id) => {
    this.timers.delete(id);
  };
  run() {
    const due = [...this.timers.entries()];
    this.timers.clear();
    for (const [, { callback }] of due) callback();
    return due.map(([, { delay }]) => delay);
  }
}

/** Let pending promise callbacks run. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));
