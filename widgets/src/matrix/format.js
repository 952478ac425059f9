// Short figures for the cells: seconds, tokens, cost, the locale's way (../i18n.js).

import { formatNumber, label, t } from "../i18n.js";

const fixed = (digits) => ({ minimumFractionDigits: digits, maximumFractionDigits: digits });

export function seconds(ms) {
  if (ms == null) return "";
  return ms < 1000
    ? t("unit.ms", { value: formatNumber(ms) })
    : t("unit.s", { value: formatNumber(ms / 1000, fixed(ms < 10000 ? 2 : 1)) });
}

export function cost(value) {
  if (value == null) return "";
  if (value === 0) return formatNumber(0);
  return value < 0.01
    ? formatNumber(value, { minimumSignificantDigits: 2, maximumSignificantDigits: 2 })
    : formatNumber(value, fixed(4));
}

export function figures(cell) {
  if (!cell) return "";
  const parts = [];
  if (cell.latency_ms != null) parts.push(seconds(cell.latency_ms));
  if (cell.completion_tokens != null)
    parts.push(t("matrix.tokens", { count: formatNumber(cell.completion_tokens) }));
  if (cell.cost != null) parts.push(t("matrix.cost", { value: cost(cell.cost) }));
  return parts.join(" · ");
}

export function preview(cell) {
  if (!cell) return t("status.pending");
  if (cell.status === "failed" || cell.status === "cancelled") {
    if (cell.status === "cancelled" && (cell.error_code || "CANCELLED") === "CANCELLED")
      return t("exchange.stopped");
    return `${cell.error_code || cell.status}: ${cell.error_message || ""}`;
  }
  if (cell.status === "queued" || cell.status === "streaming") return label("status", cell.status);
  return (cell.reply || "").slice(0, 400);
}
