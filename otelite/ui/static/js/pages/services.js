// Services: requests, errors and latency (RED) per service over the range, with trends;
// one service's operations with the same columns.

import { get, segment } from "../api.js";
import { lineChart, sparkline } from "../charts.js";
import { h, replace, table } from "../dom.js";
import { emptyState, errorState } from "../empty.js";
import { SPAN_KINDS, colour, duration, number, percent, timestamp } from "../format.js";
import { rangeParams, timeRange } from "../range.js";
import { href } from "../router.js";

export function render(main, view, alive) {
  const params = view.params;
  const chosen = params.get("service");
  const range = timeRange(params);
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  replace(main, h("h1", null, "Services"), h("p", { class: "muted" }, "Requests are server, consumer and root spans."), body);
  const cleanups = [];
  get("/api/ui/services", { start: range.start, end: range.end, buckets: 40 })
    .then(async (stats) => {
      if (!alive()) return;
      if (!stats.services.length) {
        replace(body, emptyState("services", "No spans arrived in this time range."));
        return;
      }
      const grid = bucketGrid(stats);
      replace(body, servicesTable(stats.services, grid, params));
      const service = chosen && stats.services.find((s) => s.name === chosen);
      if (service) {
        const [{ operations }, deploys] = await Promise.all([
          get(`/api/services/${segment(chosen)}/operations`, { start: range.start, end: range.end }),
          deployments(chosen, range),
        ]);
        if (!alive()) return;
        const seconds = (stats.endUnixMs - stats.startUnixMs) / 1000;
        const charts = h("div", { class: "charts3" });
        body.append(
          h("h2", null, h("span", { class: "svc", style: { borderColor: colour(chosen) } }, chosen)),
          h("p", null, h("a", { "data-nav": true, href: href("/traces", { q: service.requestsQuery, ...rangeParams(params) }) }, "Its requests among the traces →"), " ", h("a", { "data-nav": true, href: href("/logs", { service: chosen, ...rangeParams(params) }) }, "Logs of this service →")),
          charts,
          deploys.length ? deploymentsTable(deploys) : null,
          operationsTable(chosen, operations, seconds, params),
        );
        const markers = deploys.map((d) => ({
          x: d.timeUnixMs / 1000,
          label: d.rollback ? `${d.version} (rollback)` : d.version,
          title: `${chosen} ${d.version} from ${timestamp(d.timeUnixMs)}, replacing ${d.previous.join(", ")}`,
        }));
        const xs = grid.starts.map((ms) => ms / 1000);
        const series = (pick) => grid.values(service, pick);
        for (const [title, pick, colourOf, format] of [
          ["Requests / s", (b) => b.ratePerSecond, "#4e79a7", number],
          ["Errors / s", (b) => b.ratePerSecond * b.errorRate, "#d62728", number],
          ["Latency", null, null, duration],
        ]) {
          const el = h("div", { class: "chart" });
          charts.append(h("div", null, h("h3", null, title), el));
          const lines = pick
            ? [{ label: title, values: series(pick).map((v) => v ?? 0), colour: colourOf }]
            : [50, 95, 99].map((q, i) => ({ label: `p${q}`, values: series((b) => b[`p${q}Ms`]), colour: ["#59a14f", "#f28e2b", "#d62728"][i] }));
          cleanups.push(lineChart(el, { xs, series: lines, height: 180, format, markers }));
        }
      }
    })
    .catch((error) => alive() && replace(body, errorState(error)));
  return () => cleanups.forEach((c) => c());
}

// The service's deploys (version changes) in the range; the charts show the page without
// them when they cannot be had.
function deployments(service, range) {
  return get("/api/deployments", { service, start: range.start, end: range.end })
    .then((answer) => answer.deployments)
    .catch(() => []);
}

function deploymentsTable(deploys) {
  const change = (d, pick, format) => `${d.before.requestCount ? format(pick(d.before)) : "–"} → ${d.after.requestCount ? format(pick(d.after)) : "–"}`;
  const rows = deploys.map((d) =>
    h(
      "tr",
      null,
      h("td", null, timestamp(d.timeUnixMs)),
      h("td", null, d.version, d.rollback ? h("span", { class: "type" }, "rollback") : null),
      h("td", null, d.previous.join(", ")),
      h("td", { class: "num" }, change(d, (w) => w.ratePerSecond, number)),
      h("td", { class: "num" }, change(d, (w) => w.errorRate, percent)),
      h("td", { class: "num" }, change(d, (w) => w.p95Ms, duration)),
    ),
  );
  return h("div", null, h("h3", null, "Deployments"), table(["Time", "Version", "Replacing", "Requests/s", "Errors", "p95"], rows, { class: "grid deployments" }));
}

// Every bucket of the range, so trends show gaps (no requests) as zero rate, not as nothing.
function bucketGrid(stats) {
  const size = stats.bucketMs;
  const starts = [];
  for (let t = Math.floor(stats.startUnixMs / size) * size; t < stats.endUnixMs; t += size) starts.push(t);
  return {
    starts,
    values(service, pick) {
      const byStart = new Map(service.trend.map((b) => [Math.floor(b.startUnixMs / size) * size, b]));
      return starts.map((t) => (byStart.has(t) ? pick(byStart.get(t)) : null));
    },
  };
}

function servicesTable(services, grid, params) {
  const rows = services.map((s) => {
    const rate = grid.values(s, (b) => b.ratePerSecond).map((v) => v ?? 0);
    const errors = grid.values(s, (b) => b.errorRate).map((v) => v ?? 0);
    const p95 = grid.values(s, (b) => b.p95Ms);
    return h(
      "tr",
      { class: params.get("service") === s.name ? "selected" : "" },
      h("td", null, h("a", { "data-nav": true, href: href("/services", { ...rangeParams(params), service: s.name }) }, h("span", { class: "svc", style: { borderColor: colour(s.name) } }, s.name))),
      h("td", { class: "num" }, number(s.ratePerSecond)),
      h("td", null, sparkline(rate, { colour: "#4e79a7" })),
      h("td", { class: s.errorCount ? "num error-count" : "num" }, percent(s.errorRate)),
      h("td", null, sparkline(errors, { colour: "#d62728" })),
      h("td", { class: "num" }, duration(s.p50Ms)),
      h("td", { class: "num" }, duration(s.p95Ms)),
      h("td", { class: "num" }, duration(s.p99Ms)),
      h("td", null, sparkline(p95, { colour: "#f28e2b" })),
    );
  });
  return table(["Service", "Requests/s", "", "Errors", "", "p50", "p95", "p99", "p95 trend"], rows, { class: "grid services" });
}

function operationsTable(service, operations, seconds, params) {
  const rows = operations.map((op) =>
    h(
      "tr",
      null,
      h("td", null, h("a", { "data-nav": true, href: href("/traces", { service, name: op.name, ...rangeParams(params) }) }, op.name)),
      h("td", null, SPAN_KINDS[op.spanKind] || String(op.spanKind)),
      h("td", { class: "num" }, String(op.spanCount)),
      h("td", { class: "num" }, number(op.spanCount / seconds)),
      h("td", { class: op.errorCount ? "num error-count" : "num" }, percent(op.spanCount ? op.errorCount / op.spanCount : 0)),
      h("td", { class: "num" }, duration(op.p50Ms)),
      h("td", { class: "num" }, duration(op.p95Ms)),
      h("td", { class: "num" }, duration(op.p99Ms)),
    ),
  );
  return h("div", null, h("h3", null, "Operations"), table(["Span name", "Kind", "Spans", "Per second", "Errors", "p50", "p95", "p99"], rows, { class: "grid operations" }));
}
