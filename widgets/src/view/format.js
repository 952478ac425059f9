// How numbers and params read in a column, the locale's way (i18n.js).

import { formatNumber, t } from "../i18n.js";

/** "850 ms", "1.24 s", "" when unknown. */
export function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
  return ms < 1000
    ? t("unit.ms", { value: formatNumber(Math.round(ms)) })
    : t("unit.s", { value: formatNumber(ms / 1000, FIXED(2)) });
}

/** "in 12 · out 348" (prompt and completion tokens), "" when unknown. */
export function formatTokens(prompt, completion) {
  if (completion == null && prompt == null) return "";
  const count = (n) => (n == null ? "?" : formatNumber(n));
  return t("metric.tokens", { prompt: count(prompt), completion: count(completion) });
}

/** Exactly `digits` decimals. */
const FIXED = (digits) => ({ minimumFractionDigits: digits, maximumFractionDigits: digits });

const SYMBOLS = { USD: "$", EUR: "€", GBP: "£", JPY: "¥", CNY: "¥" };

/** "$0.0012", "0.0012 CHF"; "" without a cost (a model without prices). */
export function formatCost(cost, currency = null) {
  if (cost == null || !Number.isFinite(cost)) return "";
  // Small amounts keep two significant digits; larger ones four decimals.
  const amount =
    cost === 0
      ? formatNumber(0)
      : cost < 0.01
        ? formatNumber(cost, { minimumSignificantDigits: 2, maximumSignificantDigits: 2 })
        : formatNumber(cost, FIXED(4));
  const code = (currency || "USD").toUpperCase();
  return code in SYMBOLS ? `${SYMBOLS[code]}${amount}` : `${amount} ${code}`;
}

export function formatRate(tokensPerSecond) {
  if (tokensPerSecond == null || !Number.isFinite(tokensPerSecond)) return "";
  return t("metric.rate", { value: formatNumber(tokensPerSecond, FIXED(1)) });
}

function chip(name, value) {
  const shown = typeof value === "object" ? JSON.stringify(value) : String(value);
  return { name, text: `${name} ${shown}` };
}

/**
 * A column's params as chips: [{name, text: "temperature 0.2"}, …]. Those that differ
 * from the model's defaults; and on a sweep (the same model in several columns) every
 * param any of those columns sets, each with this column's value, defaults included —
 * so that each column of a temperature sweep shows its temperature.
 * @param {import("../state/store.js").BoardWindow} window
 * @param {import("../state/store.js").BoardWindow[]} windows every column of the board
 */
export function paramChips(window, windows = [window]) {
  const diff = window.params_diff || {};
  const siblings = windows.filter((w) => w.model_name && w.model_name === window.model_name);
  if (siblings.length < 2) return Object.entries(diff).map(([name, value]) => chip(name, value));
  const effective = window.effective_params || {};
  const names = new Set(siblings.flatMap((w) => Object.keys(w.params_diff || {})));
  return [...names]
    .filter((name) => name in diff || name in effective)
    .map((name) => chip(name, name in diff ? diff[name] : effective[name]));
}
