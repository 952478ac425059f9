// The vote bar: under the columns, once every reply to the latest turn has ended, one
// button per column ("Model A is better" / "… is best"), "Tie" and "Both bad" / "All
// bad". A vote goes to the kernel, which stores it; the `votes` trait then marks the
// choice, and on a blind board the `windows` trait brings the models' names.
//
// The bar reads only the board's traits (windows, history, votes), so it needs nothing
// from the columns' rendering.

import { isTerminal } from "../protocol.js";
import { t } from "../i18n.js";
import { h } from "./dom.js";

/**
 * The latest turn shown in two columns or more, with its windows in column order.
 * @param {Array<{id: number, name: string}>} windows
 * @param {Record<string, Array<{turn_id: number, status: string}>>} history
 */
export function latestComparison(windows, history) {
  let latest = null;
  for (const exchanges of Object.values(history || {}))
    for (const x of exchanges) if (latest === null || x.turn_id > latest) latest = x.turn_id;
  if (latest === null) return null;
  const shown = [];
  let done = true;
  for (const window of windows) {
    const x = (history[String(window.id)] || []).find((e) => e.turn_id === latest);
    if (!x) continue;
    shown.push(window);
    if (!isTerminal(x.status)) done = false;
  }
  return shown.length >= 2 ? { turnId: latest, windows: shown, done } : null;
}

/** The buttons' choices and labels: each column, then a tie and "all bad". */
export function voteChoices(windows) {
  const two = windows.length === 2;
  return [
    ...windows.map((w) => ({
      winner: w.id,
      text: t(two ? "vote.better" : "vote.best", { name: w.name }),
    })),
    { winner: "tie", text: t("vote.tie") },
    { winner: "all_bad", text: t(two ? "vote.both_bad" : "vote.all_bad") },
  ];
}

/**
 * @param {{model: import("@anywidget/types").AnyModel,
 *          controller: import("../controller.js").BoardController}} props
 * @returns {{el: HTMLElement, dispose: () => void}}
 */
export function mountVoteBar({ model, controller }) {
  const prompt = h("span", { class: "cm-vote-prompt" }, t("vote.prompt"));
  const buttons = h("div", { class: "cm-vote-options", role: "group" });
  const status = h("span", { class: "cm-vote-status", dataset: { testid: "vote-status" } });
  const el = h(
    "div",
    { class: "cm-vote-bar", dataset: { testid: "vote-bar" }, hidden: true },
    prompt,
    buttons,
    status,
  );
  /** @type {{turnId: number, winner: number|string}|null} */
  let pending = null;

  function vote(turnId, winner) {
    pending = { turnId, winner };
    draw();
    controller.requests.post({ type: "vote", turn_id: turnId, winner }, (error) => {
      pending = null;
      draw();
      controller.reportError(error);
    });
  }

  function draw() {
    const comparison = latestComparison(model.get("windows") || [], model.get("history"));
    el.hidden = !comparison || !comparison.done;
    if (el.hidden) return;
    const { turnId, windows } = comparison;
    const cast = (model.get("votes") || {})[String(turnId)];
    if (pending && cast && pending.turnId === turnId && cast.winner === pending.winner)
      pending = null;
    const busy = pending !== null && pending.turnId === turnId;
    const choices = voteChoices(windows);
    buttons.replaceChildren(
      ...choices.map(({ winner, text }) => {
        const chosen = cast?.winner === winner;
        const button = h(
          "button",
          {
            type: "button",
            class: chosen ? "cm-vote cm-vote-chosen" : "cm-vote",
            "aria-pressed": chosen ? "true" : "false",
            disabled: busy,
            dataset: { testid: "vote-option", choice: String(winner) },
          },
          text,
        );
        button.addEventListener("click", () => vote(turnId, winner));
        return button;
      }),
    );
    el.dataset.turnId = String(turnId);
    el.dataset.voted = cast ? "true" : "false";
    const picked = choices.find((c) => c.winner === cast?.winner);
    status.textContent = busy
      ? t("vote.saving")
      : picked
        ? t("vote.yours", { choice: picked.text })
        : "";
  }

  const events = ["change:windows", "change:history", "change:votes"];
  for (const name of events) model.on(name, draw);
  draw();
  return {
    el,
    dispose() {
      for (const name of events) model.off(name, draw);
    },
  };
}
