// Traces search: filters in the URL, a duration scatter and a results table, live tail.

import { get, segment } from "../api.js";
import { scatter } from "../charts.js";
import { h, replace, table } from "../dom.js";
import { emptyState, errorState } from "../empty.js";
import { colour, duration, nsToMs, timestamp } from "../format.js";
import { timeRange } from "../range.js";
import { href, navigate, update } from "../router.js";
import { attributeInputs, readAttributes } from "../attributes.js";

const FIELDS = ["service", "name", "minDuration", "maxDuration", "status", "limit"];
const LIVE_INTERVAL_MS = 2000;

export function render(main, view, alive) {
  const params = view.params;
  const services = h("select", { name: "service", "aria-label": "service" }, h("option", { value: "" }, "all services"));
  const names = h("datalist", { id: "span-names" });
  const form = h(
    "form",
    { class: "filters", onsubmit: (event) => submit(event, form) },
    h("label", null, "Service", services),
    h("label", null, "Span name", h("input", { name: "name", list: "span-names", value: params.get("name") || "", placeholder: "any" })),
    names,
    attributeInputs(params.getAll("attr"), { signal: "spans", service: params.get("service") }),
    h("label", null, "Min duration", h("input", { name: "minDuration", size: 7, value: params.get("minDuration") || "", placeholder: "e.g. 100ms" })),
    h("label", null, "Max duration", h("input", { name: "maxDuration", size: 7, value: params.get("maxDuration") || "", placeholder: "e.g. 2s" })),
    h(
      "label",
      null,
      "Status",
      h(
        "select",
        { name: "status" },
        ["", "error", "ok", "unset"].map((s) => h("option", { value: s, selected: params.get("status") === s }, s || "any")),
      ),
    ),
    h("label", null, "Limit", h("input", { name: "limit", type: "number", min: 1, max: 1000, size: 4, value: params.get("limit") || "50" })),
    h("button", { type: "submit", class: "primary" }, "Search"),
    h(
      "label",
      { class: "live" },
      h("input", {
        type: "checkbox",
        name: "live",
        checked: params.get("live") === "1",
        onchange: (event) => update({ live: event.target.checked ? "1" : null }),
      }),
      "Live",
    ),
  );
  const chart = h("div", { class: "chart scatter" });
  const results = h("div", { class: "results" }, h("p", { class: "muted" }, "Searching…"));
  replace(main, h("h1", null, "Traces"), form, chart, results);

  get("/api/services", { start: "now-7d", end: "now" }).then(({ services: found }) => {
    const chosen = params.get("service") || "";
    const known = found.map((s) => s.name);
    if (chosen && !known.includes(chosen)) known.push(chosen);
    for (const name of known.sort()) services.append(h("option", { value: name, selected: name === chosen }, name));
  }).catch(() => {}); // the choices are a convenience; the results say what went wrong
  if (params.get("service")) {
    get(`/api/services/${segment(params.get("service"))}/operations`).then(({ operations }) => {
      for (const op of operations) names.append(h("option", { value: op.name }));
    }).catch(() => {});
  }

  let cleanupChart = () => {};
  const search = async () => {
    const range = timeRange(params);
    const query = { start: range.start, end: range.end, attr: params.getAll("attr") };
    for (const field of FIELDS) query[field] = params.get(field);
    query.limit = query.limit || "50";
    let traces;
    try {
      ({ traces } = await get("/api/search/traces", query));
    } catch (error) {
      if (alive()) replace(results, errorState(error));
      return;
    }
    if (!alive()) return;
    cleanupChart();
    cleanupChart = () => {};
    replace(chart);
    if (!traces.length) {
      replace(results, emptyState("traces", filtered(params) ? "No trace matches these filters in this time range." : null));
      return;
    }
    const points = traces.map((t) => ({ x: nsToMs(t.startTimeUnixNano) / 1000, y: Math.max(t.durationMs, 0.001), error: t.errorCount > 0 }));
    cleanupChart = scatter(chart, {
      points,
      xRange: [range.startMs / 1000, range.endMs / 1000],
      onPick: (i) => navigate(href(`/trace/${traces[i].traceId}`)),
    });
    replace(results, h("p", { class: "muted count" }, `${traces.length} traces, newest first`), resultsTable(traces));
  };
  search();
  const timer = params.get("live") === "1" ? setInterval(search, LIVE_INTERVAL_MS) : null;
  return () => {
    if (timer) clearInterval(timer);
    cleanupChart();
  };
}

function filtered(params) {
  return FIELDS.some((f) => f !== "limit" && params.get(f)) || params.getAll("attr").length > 0;
}

function submit(event, form) {
  event.preventDefault();
  const data = new FormData(form);
  const changes = {};
  for (const field of FIELDS) changes[field] = (data.get(field) || "").trim() || null;
  if (changes.limit === "50") changes.limit = null;
  changes.attr = readAttributes(form);
  update(changes);
}

function resultsTable(traces) {
  const rows = traces.map((t) => {
    const start = nsToMs(t.startTimeUnixNano);
    return h(
      "tr",
      { class: t.errorCount ? "has-error" : "" },
      h(
        "td",
        null,
        h(
          "a",
          { href: `/trace/${t.traceId}`, "data-nav": true, class: "trace-link" },
          h("span", { class: "svc", style: { borderColor: colour(t.rootServiceName || "") } }, t.rootServiceName || "?"),
          " ",
          h("span", { class: "span-name" }, t.rootSpanName || "(root not received)"),
        ),
        h("div", { class: "trace-id mono muted" }, t.traceId),
      ),
      h("td", { title: timestamp(start) }, timestamp(start)),
      h("td", { class: "num" }, duration(t.durationMs)),
      h("td", { class: "num" }, String(t.spanCount)),
      h("td", { class: t.errorCount ? "num error-count" : "num" }, String(t.errorCount)),
      h("td", null, t.services.map((s) => h("span", { class: "chip", style: { borderColor: colour(s) } }, s))),
    );
  });
  return table(["Trace", "Start", "Duration", "Spans", "Errors", "Services"], rows, { class: "grid traces" });
}
