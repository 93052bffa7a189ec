// PromQL as the page shows it: where the server says a parse error is, the legend of a
// series, the step of a range query, and sample values as the Prometheus API writes them.

/**
 * A Prometheus error message → {line, column} (1-based, the column in characters), or
 * null when it names no position: otelite writes "1:14: parse error: ..." as Prometheus does.
 */
export function errorPosition(text) {
  const found = /^(\d+):(\d+): parse error: /.exec(text || "");
  return found ? { line: Number(found[1]), column: Number(found[2]) } : null;
}

/** A series' name as Prometheus shows it: `name{a="b", c="d"}`, `{a="b"}`, or `{}`. */
export function seriesName(metric) {
  const name = metric.__name__ || "";
  const labels = Object.keys(metric)
    .filter((k) => k !== "__name__")
    .sort()
    .map((k) => `${k}=${JSON.stringify(metric[k])}`);
  return labels.length || !name ? `${name}{${labels.join(", ")}}` : name;
}

/**
 * The legend of a series: `format` with each `{{label}}` replaced by the series' value of
 * that label ("" where it has none), or its name when there is no format.
 */
export function legend(metric, format) {
  if (!format) return seriesName(metric);
  return format.replace(/\{\{\s*([^{}\s]+)\s*\}\}/g, (_, label) => metric[label] ?? "");
}

/** A sample value as the API writes it ("1.5", "NaN", "+Inf") → a number. */
export function sampleValue(text) {
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  return Number(text);
}

const UNITS = { y: 365 * 86400, w: 7 * 86400, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };

/** Seconds in a step as the API takes it ("15", "1.5", "1m30s", "500ms"), or null. */
export function durationSeconds(text) {
  const cleaned = String(text || "").trim();
  if (/^\d+(\.\d+)?$/.test(cleaned)) return Number(cleaned);
  if (!/^(\d+(ms|[ywdhms]))+$/.test(cleaned)) return null;
  let total = 0;
  for (const [, n, unit] of cleaned.matchAll(/(\d+)(ms|[ywdhms])/g)) total += Number(n) * UNITS[unit];
  return total;
}

/** Seconds as a duration ("15s", "1m", "1h30m", "250ms"). */
export function durationText(seconds) {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  let rest = Math.round(seconds);
  let out = "";
  for (const unit of ["d", "h", "m", "s"]) {
    const n = Math.floor(rest / UNITS[unit]);
    if (n) out += `${n}${unit}`;
    rest -= n * UNITS[unit];
  }
  return out;
}

// Steps a chosen one is rounded up to, so that a view's points fall on round times.
const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
const POINTS = 300; // about one point per 3 pixels of a chart's width

/** The step, in seconds, for a range of `spanMs`: about `points` points, on a round time. */
export function autoStep(spanMs, points = POINTS) {
  const wanted = spanMs / 1000 / points;
  return NICE_STEPS.find((s) => s >= wanted) || Math.ceil(wanted / 86400) * 86400;
}
