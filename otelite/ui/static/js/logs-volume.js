// The volume of a log query: its lines counted per time bucket by detected level, as
// stacked bars over the page's range, with each level's total. The counts come from the
// metric query Grafana asks Loki for; a server that cannot answer it gets no histogram
// (and no complaint: the lines are what was asked for).

import { get } from "./api.js";
import { stackedBars } from "./charts.js";
import { h, replace } from "./dom.js";
import { number } from "./format.js";
import { LEVELS, UNKNOWN_LEVEL, isLogQuery, volumeQuery } from "./logql.js";
import { levelColour } from "./log-lines.js";
import { autoStep, durationText, sampleValue } from "./promql.js";

const BARS = 100; // about one bar per 10 pixels of the page's width

// Levels bottom up: the known ones by severity, then "unknown", then any other word.
function levelRank(level) {
  const known = LEVELS.indexOf(level);
  return known >= 0 ? known : level === UNKNOWN_LEVEL ? LEVELS.length : LEVELS.length + 1;
}

/**
 * The histogram of `text`'s lines over `range` in `el`, unless `current()` has become
 * false by the time the counts arrive; `onSelect(fromMs, toMs)` when bars are dragged
 * across. Resolves to a cleanup function.
 */
export async function logsVolume(el, { text, range, current, onSelect }) {
  replace(el);
  if (!isLogQuery(text)) return () => {};
  const step = autoStep(range.endMs - range.startMs, BARS);
  // Each point t counts the lines in (t - step, t]: the points on whole steps from the
  // first after the range's start to the first at or after its end.
  const first = Math.floor(range.startMs / 1000 / step) * step + step;
  const last = Math.max(first, Math.ceil(range.endMs / 1000 / step) * step);
  let body;
  try {
    body = await get("/loki/api/v1/query_range", { query: volumeQuery(text, durationText(step)), start: first, end: last, step });
  } catch {
    return () => {}; // no metric queries here (or not this one): the lines stand alone
  }
  if (!current() || !body || !body.data || body.data.resultType !== "matrix") return () => {};
  const points = Math.round((last - first) / step) + 1;
  const byLevel = new Map();
  for (const { metric, values } of body.data.result) {
    const level = String(metric.detected_level || UNKNOWN_LEVEL).toLowerCase();
    const counts = byLevel.get(level) || new Array(points).fill(0);
    for (const [t, v] of values) {
      const i = Math.round((Number(t) - first) / step);
      if (i >= 0 && i < points) counts[i] += sampleValue(v);
    }
    byLevel.set(level, counts);
  }
  const levels = [...byLevel.keys()].sort((a, b) => levelRank(a) - levelRank(b) || (a < b ? -1 : 1));
  const series = levels.map((level) => ({ label: level, values: byLevel.get(level), colour: levelColour(level) }));
  const totals = levels.map((level) => [level, byLevel.get(level).reduce((a, b) => a + b, 0)]);
  const chart = h("div", { class: "chart volume-bars", dataset: { step: String(step), bars: String(points) } });
  replace(
    el,
    h(
      "p",
      { class: "volume-legend muted small" },
      `Lines per ${durationText(step)} by level: `,
      totals.length
        ? totals.map(([level, total]) =>
            h(
              "span",
              { class: "volume-level", dataset: { level, total: String(total) } },
              h("span", { class: "swatch", style: { background: levelColour(level) } }),
              `${level} ${number(total)}`,
            ),
          )
        : "none in this time range",
    ),
    chart,
  );
  const xs = Array.from({ length: points }, (_, i) => first + i * step - step / 2);
  return stackedBars(chart, {
    xs,
    series,
    xRange: [range.startMs / 1000, range.endMs / 1000],
    onSelect: onSelect && ((from, to) => onSelect(from * 1000, to * 1000)),
  });
}
