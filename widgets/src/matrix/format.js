// Short figures for the cells: seconds, tokens, cost.

export function seconds(ms) {
  if (ms == null) return "";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

export function cost(value) {
  if (value == null) return "";
  if (value === 0) return "0";
  return value < 0.01 ? value.toPrecision(2) : value.toFixed(4);
}

export function figures(cell) {
  if (!cell) return "";
  const parts = [];
  if (cell.latency_ms != null) parts.push(seconds(cell.latency_ms));
  if (cell.completion_tokens != null) parts.push(`${cell.completion_tokens} tok`);
  if (cell.cost != null) parts.push(`cost ${cost(cell.cost)}`);
  return parts.join(" · ");
}

export function preview(cell) {
  if (!cell) return "pending";
  if (cell.status === "failed" || cell.status === "cancelled") {
    return `${cell.error_code || cell.status}: ${cell.error_message || ""}`;
  }
  if (cell.status === "queued" || cell.status === "streaming") return cell.status;
  return (cell.reply || "").slice(0, 400);
}
