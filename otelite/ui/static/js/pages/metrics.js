// Metrics: a PromQL expression plotted (promql-view.js), the catalog (name, type, unit,
// description), and one metric plotted with attribute filters and grouping: rates for
// monotonic sums, values for gauges and other sums, quantiles for histograms and summaries.
// How a sum adds up over time (cumulative or delta, monotonic or not) comes with each
// series from the API.

import { get, segment } from "../api.js";
import { lineChart } from "../charts.js";
import { h, replace, table } from "../dom.js";
import { emptyState, errorState } from "../empty.js";
import { colour, number } from "../format.js";
import { timeRange } from "../range.js";
import { href, update } from "../router.js";
import { attributeInputs, readAttributes } from "../attributes.js";
import { PROMQL_PARAMS, promqlView } from "../promql-view.js";
import { forwardingPanel } from "../forwarding-panel.js";
import { QUANTILES, align, bucketPoints, describeKind, mergeBuckets, numberPoints, quantile, sumMode, summaryPoints } from "../metric-math.js";

const MAX_LINES = 20;

export function render(main, view, alive) {
  const params = view.params;
  const range = timeRange(params);
  const chosen = params.get("metric");
  const filter = h("input", { type: "search", placeholder: "Filter metrics…", "aria-label": "filter metrics", value: params.get("filter") || "" });
  const list = h("div", { class: "metric-list" }, h("p", { class: "muted" }, "Loading…"));
  const plot = h("section", { class: "metric-plot" }, chosen ? h("p", { class: "muted" }, "Loading…") : h("p", { class: "muted" }, "Pick a metric to plot it."));
  const promql = promqlView(params, alive);
  // otelite's own state beside its metrics: forwarding, when the pipeline file has exporters.
  const forwarding = forwardingPanel(alive);
  replace(main, h("h1", null, "Metrics"), promql.element, h("div", { class: "metrics-layout" }, h("div", null, filter, list), plot), forwarding.element);
  let cleanup = () => {};

  get("/api/metrics", { start: range.start, end: range.end })
    .then(({ metrics }) => {
      if (!alive()) return;
      if (!metrics.length) {
        replace(list, emptyState("metrics", "No metric points arrived in this time range."));
        return;
      }
      const show = () => {
        const needle = filter.value.trim().toLowerCase();
        const rows = metrics
          .filter((m) => !needle || m.name.toLowerCase().includes(needle) || (m.description || "").toLowerCase().includes(needle))
          .map((m) =>
            h(
              "tr",
              { class: m.name === chosen && (!params.get("type") || params.get("type") === m.type) ? "selected" : "" },
              h("td", null, h("a", { "data-nav": true, class: "metric-link", href: href("/metrics", { ...keep(params), metric: m.name, type: m.type }) }, m.name), h("div", { class: "muted small" }, m.description || "")),
              h("td", null, h("span", { class: "type" }, m.type)),
              h("td", null, m.unit || ""),
              h("td", { class: "num" }, String(m.seriesCount)),
            ),
          );
        replace(list, table(["Name", "Type", "Unit", "Series"], rows, { class: "grid metrics" }));
      };
      filter.addEventListener("input", show);
      show();
    })
    .catch((error) => alive() && replace(list, errorState(error)));

  if (chosen) {
    get(`/api/metrics/${segment(chosen)}/series`, { start: range.start, end: range.end, attr: params.getAll("attr") })
      .then(({ series }) => {
        if (!alive()) return;
        const type = params.get("type");
        const chosenSeries = type ? series.filter((s) => s.type === type) : series;
        cleanup = plotMetric(plot, chosen, chosenSeries, params);
      })
      .catch((error) => alive() && replace(plot, errorState(error)));
  }
  return () => {
    promql.cleanup();
    forwarding.cleanup();
    cleanup();
  };
}

// The range and the PromQL view survive picking another metric; the metric's own options
// do not.
function keep(params) {
  const out = {};
  for (const key of ["range", "start", "end", ...PROMQL_PARAMS]) if (params.get(key)) out[key] = params.get(key);
  return out;
}

function seriesLabel(s) {
  const entries = Object.entries(s.attributes);
  return entries.length ? entries.map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ") : "(no attributes)";
}

function groupOf(s, by) {
  if (!by) return seriesLabel(s);
  const value = by in s.attributes ? s.attributes[by] : s.resource[by];
  return `${by}=${value === undefined ? "(none)" : typeof value === "object" ? JSON.stringify(value) : value}`;
}

function plotMetric(el, name, series, params) {
  const by = params.get("by") || "";
  const type = series.length ? series[0].type : params.get("type");
  const keys = [...new Set(series.flatMap((s) => [...Object.keys(s.attributes), ...Object.keys(s.resource)]))].sort();
  const form = h(
    "form",
    { class: "filters", onsubmit: (event) => {
      event.preventDefault();
      update({ attr: readAttributes(form), by: new FormData(form).get("by") || null });
    } },
    attributeInputs(params.getAll("attr"), { known: seenAttributes(series) }),
    h("label", null, "Group by", h("select", { name: "by" }, h("option", { value: "" }, "each series"), keys.map((k) => h("option", { value: k, selected: k === by }, k)))),
    h("button", { type: "submit", class: "primary" }, "Apply"),
  );
  const chart = h("div", { class: "chart" });
  const heading = h("h2", null, name, " ", h("span", { class: "type" }, type || ""));
  if (!series.length) {
    replace(el, heading, form, emptyState("points for this metric", "No point matches in this time range."));
    return () => {};
  }
  const groups = new Map();
  for (const s of series) {
    const key = groupOf(s, by);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(s);
  }
  let lines;
  let what;
  if (type === "gauge" || type === "sum") {
    const modes = new Set(series.map((s) => (s.type === "sum" ? sumMode(s) : "value")));
    const values = by ? "value, summed per group" : "value";
    what = modes.size > 1 ? `rate per second for monotonic series, ${values} for the others` : modes.has("rate") ? "rate per second" : values;
    lines = [...groups].map(([label, members]) => ({ label, points: sumAtSameTime(members.map(numberPoints)) }));
  } else if (type === "histogram" || type === "exponential_histogram") {
    what = by ? "p95 per group" : "p50 / p95 / p99 of all series";
    const perGroup = [...groups].map(([label, members]) => ({ label, points: mergeAtSameTime(members.map(bucketPoints)) }));
    lines = by
      ? perGroup.map((g) => ({ label: g.label, points: g.points.map(([t, b]) => [t, quantile(b, 0.95)]) }))
      : QUANTILES.map((q) => ({ label: `p${q * 100}`, points: mergeAtSameTime(series.map(bucketPoints)).map(([t, b]) => [t, quantile(b, q)]) }));
  } else {
    what = "quantiles as reported";
    lines = series.flatMap((s) => [...summaryPoints(s)].map(([q, points]) => ({ label: `${seriesLabel(s)} q${q}`, points })));
  }
  const shown = lines.slice(0, MAX_LINES);
  const { xs, series: aligned } = align(shown);
  replace(
    el,
    heading,
    h("p", { class: "muted plotted" }, `${series.length} series`, kinds(series), ` · plotted: ${what}`, lines.length > MAX_LINES ? ` · first ${MAX_LINES} of ${lines.length} lines` : ""),
    form,
    chart,
  );
  return lineChart(chart, { xs, series: aligned.map((s) => ({ ...s, colour: colour(s.label) })), format: number });
}

// " · cumulative, monotonic" (each kind once), or nothing for types without one.
function kinds(series) {
  const found = [...new Set(series.map(describeKind).filter(Boolean))];
  return found.length ? ` · ${found.join("; ")}` : "";
}

function seenAttributes(series) {
  const known = new Map();
  for (const s of series) {
    for (const [k, v] of Object.entries({ ...s.resource, ...s.attributes })) {
      if (!known.has(k)) known.set(k, new Set());
      known.get(k).add(typeof v === "object" ? JSON.stringify(v) : String(v));
    }
  }
  return new Map([...known].map(([k, values]) => [k, [...values].slice(0, 50)]));
}

// Series of one group report at the same instants (one SDK collection); add them up there.
function sumAtSameTime(pointLists) {
  const total = new Map();
  for (const points of pointLists) for (const [t, y] of points) total.set(t, (total.get(t) || 0) + y);
  return [...total].sort((a, b) => a[0] - b[0]);
}

function mergeAtSameTime(bucketLists) {
  const at = new Map();
  for (const points of bucketLists) for (const [t, b] of points) at.set(t, [...(at.get(t) || []), b]);
  return [...at].sort((a, b) => a[0] - b[0]).map(([t, lists]) => [t, mergeBuckets(lists)]);
}
