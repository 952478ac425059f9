// How numbers and params read in a column.

/** "850 ms", "1.24 s", "" when unknown. */
export function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** "12 → 348" (prompt → completion tokens), "" when unknown. */
export function formatTokens(prompt, completion) {
  if (completion == null && prompt == null) return "";
  return `${prompt ?? "?"} → ${completion ?? "?"}`;
}

export function formatCost(cost) {
  if (cost == null || !Number.isFinite(cost)) return "";
  return `cost ${cost < 0.01 ? cost.toPrecision(2) : cost.toFixed(4)}`;
}

export function formatRate(tokensPerSecond) {
  if (tokensPerSecond == null || !Number.isFinite(tokensPerSecond)) return "";
  return `${tokensPerSecond.toFixed(1)} tok/s`;
}

/** One chip per param that differs from the model's defaults: ["temperature 0.2", …]. */
export function paramChips(params) {
  return Object.entries(params || {}).map(([name, value]) => {
    const shown = typeof value === "object" ? JSON.stringify(value) : String(value);
    return { name, text: `${name} ${shown}` };
  });
}
