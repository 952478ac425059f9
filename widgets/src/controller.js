// The model-level half of the board: created once per widget model in `initialize`, shared
// by every view. It routes the kernel's custom messages, owns the turn streams and the
// store; views only draw the store and call `send`, `retry`, `cancel` and `stopAll`.

import { t } from "./i18n.js";
import { isTerminal } from "./protocol.js";
import { VERSION } from "./version.js";
import { Store } from "./state/store.js";
import { jupyterBaseUrl } from "./transport/baseurl.js";
import { RequestError, Requests } from "./transport/requests.js";
import { TurnStream } from "./transport/stream.js";

/**
 * @typedef {object} ControllerOptions
 * @property {typeof EventSource|null} [EventSource] null: always relay
 * @property {string} [baseUrl]
 * @property {{setTimeout: Function, clearTimeout: Function}} [timers]
 * @property {number} [timeoutMs] how long to wait for the kernel's answer
 */

export class BoardController {
  /**
   * @param {import("@anywidget/types").AnyModel} model
   * @param {ControllerOptions} [options]
   */
  constructor(model, options = {}) {
    this.model = model;
    this.EventSource =
      options.EventSource !== undefined ? options.EventSource : globalThis.EventSource;
    this.baseUrl = options.baseUrl ?? jupyterBaseUrl();
    this.timers = options.timers ?? globalThis;
    this.store = new Store();
    this.requests = new Requests((message) => model.send(message), {
      timeoutMs: options.timeoutMs,
      timers: this.timers,
    });
    /** @type {Map<number, TurnStream|"relay">} turns being followed, by id */
    this.streams = new Map();

    this.handlers = {
      "msg:custom": (message) => this.onMessage(message),
      "change:windows": () => this.store.setWindows(model.get("windows")),
      "change:history": () => this.store.setHistory(model.get("history")),
      "change:conversation_id": () => this.switchConversation(),
    };
    for (const [name, handler] of Object.entries(this.handlers)) model.on(name, handler);

    this.store.setWindows(model.get("windows"));
    this.store.setHistory(model.get("history"));
    this.checkVersion();
    // A page reload (or a second browser) finds turns still running: follow them again.
    for (const turnId of this.store.openTurns()) this.follow(turnId, null, { replay: true });
  }

  get transport() {
    return this.model.get("transport");
  }

  checkVersion() {
    const python = this.model.get("_chatmore_version");
    if (python && python !== VERSION && VERSION !== "dev") {
      this.store.setNotice({
        code: "VERSION_MISMATCH",
        message: t("board.version_mismatch", { frontend: VERSION, python }),
      });
    }
  }

  /**
   * Send a message to every window (`windowIds` null) or to some of them; with
   * `replaces`, in place of that turn (the windows' last), as a retry or an edit does.
   * Resolves when the kernel started the turn; rejects with a RequestError otherwise.
   */
  send(content, windowIds = null, replaces = null) {
    const message = { type: "send", content, window_ids: windowIds };
    if (replaces != null) message.replaces_turn_id = replaces;
    return this.requests.request(message);
  }

  /** Send a window's last prompt again, to it alone, in place of its last exchange. */
  retry(windowId) {
    const latest = this.store.latest(windowId);
    if (!latest || !isTerminal(latest.status)) return;
    this.send(latest.prompt, [windowId], latest.turn_id).catch((error) => this.reportError(error));
  }

  /** Stop one turn's replies (all of its windows when `windowIds` is null). */
  cancel(turnId, windowIds = null) {
    this.requests.post({ type: "cancel", turn_id: turnId, window_ids: windowIds }, (error) =>
      this.reportError(error),
    );
  }

  /** Stop every turn that still has a reply open. */
  stopAll() {
    for (const turnId of this.store.openTurns()) this.cancel(turnId, null);
  }

  reportError(error) {
    if (error instanceof RequestError && error.code === "CLOSED") return;
    this.store.setNotice({ code: error.code || "INTERNAL_ERROR", message: error.message });
  }

  /** @param {Record<string, any>} message */
  onMessage(message) {
    if (!message || typeof message !== "object") return;
    switch (message.type) {
      case "turn":
        return this.onTurn(message);
      case "ticket":
        return void this.requests.settle(message);
      case "events":
        return this.onEvents(message.turn_id, message.events || []);
      case "error":
        return this.onError(message);
    }
  }

  onTurn(message) {
    const mine = this.requests.owns(message);
    const replaces = message.replaces_turn_id ?? null;
    this.store.addTurn(message.turn_id, message.content, message.window_ids || [], replaces);
    // Only the browser that asked uses the ticket sent along; the others ask for their own.
    const ticket = mine ? message.stream?.ticket : null;
    this.follow(message.turn_id, message.stream?.path, { ticket });
    if (mine) this.requests.settle(message);
  }

  onEvents(turnId, events) {
    const stream = this.streams.get(turnId);
    if (stream instanceof TurnStream) stream.noteRelayed(events);
    if (this.store.applyEvents(turnId, events)) this.streams.delete(turnId);
  }

  onError(message) {
    if (this.requests.settle(message)) return;
    if (message.request_id != null) return; // another browser's request
    if (message.turn_id != null && this.streams.has(message.turn_id)) {
      // The relay could not follow the turn: its open replies end with that error.
      this.streams.delete(message.turn_id);
      this.store.failTurn(message.turn_id, { code: message.code, message: message.message });
      return;
    }
    this.store.setNotice({ code: message.code, message: message.message });
  }

  /**
   * Start following a turn: through the server's stream (transport "auto", when the
   * browser has EventSource), else through the kernel's relay.
   */
  follow(turnId, path, { ticket = null, replay = false } = {}) {
    if (this.streams.has(turnId)) return;
    if (replay) this.store.replayTurn(turnId);
    const streamPath = path || `chatmore/streams/turn/${turnId}`;
    if (this.transport === "relay" || !this.EventSource) {
      this.streams.set(turnId, "relay");
      this.requestRelay(turnId, null);
      return;
    }
    const stream = new TurnStream({
      turnId,
      path: streamPath,
      baseUrl: this.baseUrl,
      EventSource: this.EventSource,
      timers: this.timers,
      requestTicket: (id) =>
        this.requests.request({ type: "ticket", turn_id: id }).then((answer) => answer.ticket),
      requestRelay: (id, lastEventId) => this.requestRelay(id, lastEventId),
      onEvents: (events) => {
        if (this.store.applyEvents(turnId, events)) this.streams.delete(turnId);
      },
    });
    this.streams.set(turnId, stream);
    stream.start(ticket);
  }

  requestRelay(turnId, lastEventId) {
    this.model.send({ type: "relay", turn_id: turnId, last_event_id: lastEventId });
  }

  switchConversation() {
    this.closeStreams();
    this.store.reset(this.model.get("history"));
  }

  closeStreams() {
    for (const stream of this.streams.values()) if (stream instanceof TurnStream) stream.close();
    this.streams.clear();
  }

  /** The model is going away: stop listening and close every stream. */
  dispose() {
    for (const [name, handler] of Object.entries(this.handlers)) this.model.off(name, handler);
    this.closeStreams();
    this.requests.dispose();
    this.store.listeners.clear();
  }
}
