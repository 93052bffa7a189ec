// Traces search: filters or a TraceQL query in the URL, a duration scatter and a results
// table, live tail. The form writes the TraceQL it means into the query box as it changes.

import { get, segment } from "../api.js";
import { scatter } from "../charts.js";
import { h, replace, table } from "../dom.js";
import { emptyState, errorState } from "../empty.js";
import { areaSelection, showGroupComparison } from "../group-compare.js";
import { colour, duration, nsToMs, timestamp } from "../format.js";
import { timeRange } from "../range.js";
import { href, navigate } from "../router.js";
import { attributeInputs } from "../attributes.js";
import { liveToggle, queryForm, queryRow, serviceSelect } from "../query-form.js";
import { queryBox } from "../traceql-box.js";
import { formQuery } from "../traceql.js";

const FIELDS = ["service", "name", "minDuration", "maxDuration", "status", "limit"];
const LIVE_INTERVAL_MS = 2000;
const DEFAULT_LIMIT = "50";
const filtersForm = queryForm({ fields: FIELDS, defaultLimit: DEFAULT_LIMIT });
const SPANS_PER_SET = 20; // matched spans listed per trace, and marked in its view
// Tempo's rootServiceName for a trace whose root span has not arrived.
const ROOT_NOT_RECEIVED = "<root span not yet received>";

export function render(main, view, alive) {
  const params = view.params;
  const chosen = params.get("service");
  const services = serviceSelect(chosen);
  const names = h("datalist", { id: "span-names" });
  const query = params.get("q");
  const box = queryBox({
    value: query === null ? formQuery(filtersForm.fromUrl(params)) : query,
    range: () => timeRange(params),
    onRun: (text) => run(text),
  });
  const form = h(
    "form",
    { class: "filters", onsubmit: filtersForm.submit },
    h("label", null, "Service", services.element),
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
    h("label", null, "Limit", h("input", { name: "limit", type: "number", min: 1, max: 1000, size: 4, value: params.get("limit") || DEFAULT_LIMIT })),
    h("button", { type: "submit", class: "primary" }, "Search"),
    liveToggle(params),
  );
  const traceql = queryRow({ language: "TraceQL", box, onRun: (text) => run(text) });
  const chart = h("div", { class: "chart scatter", title: "Drag across an area to compare its traces with the rest" });
  const comparison = h("div", { class: "group-comparison", hidden: true });
  const results = h("div", { class: "results" }, h("p", { class: "muted" }, "Searching…"));
  replace(main, h("h1", null, "Traces"), form, traceql, chart, comparison, results);
  // A group of spans against every other span of the range: an area of the scatter (its
  // traces' spans), or the spans the query matches.
  const compareGroup = (group) => {
    comparison.hidden = false;
    showGroupComparison(comparison, {
      query: group,
      range: timeRange(params),
      alive,
      onClose: () => {
        comparison.hidden = true;
        replace(comparison);
      },
    });
  };

  filtersForm.follow(form, box, formQuery);
  const run = (text) => filtersForm.run(text, form, search);

  get("/api/services", { start: "now-7d", end: "now" }).then(({ services: found }) => {
    services.fill(found.map((s) => s.name));
  }).catch(() => {}); // the choices are a convenience; the results say what went wrong
  if (chosen) {
    get(`/api/services/${segment(chosen)}/operations`).then(({ operations }) => {
      for (const op of operations) names.append(h("option", { value: op.name }));
    }).catch(() => {});
  }

  let cleanupChart = () => {};
  const search = async () => {
    const range = timeRange(params);
    let traces;
    try {
      traces = query === null ? await formSearch(params, range) : await traceqlSearch(query, params, range);
    } catch (error) {
      if (!alive()) return;
      // A query the server refuses is the box's to show, at its position when it has one
      // (unless the text there has changed since).
      if (query !== null && error.status === 400 && box.textarea.value === query) {
        box.showError(error);
        replace(chart);
        replace(results);
      } else {
        replace(results, errorState(error));
      }
      return;
    }
    if (!alive()) return;
    cleanupChart();
    cleanupChart = () => {};
    replace(chart);
    if (!traces.length) {
      const hint = query !== null ? "No trace matches this query in this time range." : filtered(params) ? "No trace matches these filters in this time range." : null;
      replace(results, emptyState("traces", hint));
      return;
    }
    const points = traces.map((t) => ({ x: nsToMs(t.startTimeUnixNano) / 1000, y: Math.max(t.durationMs, 0.001), error: t.errorCount > 0 }));
    cleanupChart = scatter(chart, {
      points,
      xRange: [range.startMs / 1000, range.endMs / 1000],
      onPick: (i) => navigate(traceHref(traces[i])),
      onSelect: (area) => compareGroup(areaSelection(area)),
    });
    const picked = pickTwo();
    // The same traces' critical path, added up: where their time goes.
    const pathQuery = query !== null ? query : formQuery(filtersForm.fromUrl(params));
    const pathLink = h("a", { href: href("/critical-path", { q: pathQuery, range: params.get("range"), start: params.get("start"), end: params.get("end") }), "data-nav": true, class: "path-link" }, "Critical path of these traces →");
    // What sets the matched spans apart (`{ }` matches every span: nothing to set apart).
    const matched = pathQuery.replace(/\s+/g, "") === "{}" ? null : h(
      "button",
      { type: "button", class: "compare-matched", onclick: () => compareGroup({ selection: pathQuery, label: "the spans the query matches" }) },
      "Compare the matched spans with the rest",
    );
    replace(
      results,
      h("p", { class: "muted count" }, `${traces.length} traces, newest first `, picked.button, " ", matched, " ", pathLink),
      resultsTable(traces, { matched: query !== null, pick: picked.pick }),
    );
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

async function formSearch(params, range) {
  const query = { start: range.start, end: range.end, attr: params.getAll("attr") };
  for (const field of FIELDS) query[field] = params.get(field);
  query.limit = query.limit || DEFAULT_LIMIT;
  const { traces } = await get("/api/search/traces", query);
  return traces;
}

// Tempo's search, in the shape of otelite's own trace summaries plus what the query matched.
async function traceqlSearch(q, params, range) {
  const body = await get("/api/search", {
    q,
    start: range.start,
    end: range.end,
    limit: params.get("limit") || DEFAULT_LIMIT,
    spss: SPANS_PER_SET,
  });
  return (body.traces || []).map((t) => {
    const stats = Object.entries(t.serviceStats || {});
    const sets = t.spanSets || (t.spanSet ? [t.spanSet] : []);
    const spanIds = sets.flatMap((set) => (set.spans || []).map((span) => span.spanID.padStart(16, "0")));
    return {
      traceId: t.traceID.padStart(32, "0"), // Tempo trims leading zeros
      rootServiceName: t.rootServiceName === ROOT_NOT_RECEIVED ? "" : t.rootServiceName || "",
      rootSpanName: t.rootTraceName || "",
      startTimeUnixNano: t.startTimeUnixNano,
      durationMs: t.durationMs || 0, // left out when zero, as Tempo does
      spanCount: stats.reduce((n, [, s]) => n + (s.spanCount || 0), 0),
      errorCount: stats.reduce((n, [, s]) => n + (s.errorCount || 0), 0),
      services: stats.map(([name]) => name).sort(),
      matched: sets.reduce((n, set) => n + (set.matched || 0), 0),
      matchedSpans: [...new Set(spanIds)],
    };
  });
}

// A trace's view, with the spans its query matched marked.
function traceHref(trace) {
  return href(`/trace/${trace.traceId}`, { match: (trace.matchedSpans || []).join(",") });
}

// Tick two traces to compare them: the first ticked is a, the second b.
function pickTwo() {
  const ticked = [];
  const button = h("button", { type: "button", class: "compare-picked", disabled: true }, "Compare the two ticked");
  button.addEventListener("click", () => navigate(href("/compare", { a: ticked[0], b: ticked[1] })));
  const pick = (traceId) =>
    h("input", {
      type: "checkbox",
      class: "pick",
      "aria-label": `compare trace ${traceId}`,
      onchange: (event) => {
        const at = ticked.indexOf(traceId);
        if (event.target.checked && at < 0) ticked.push(traceId);
        if (!event.target.checked && at >= 0) ticked.splice(at, 1);
        button.disabled = ticked.length !== 2;
      },
    });
  return { button, pick };
}

function resultsTable(traces, { matched = false, pick } = {}) {
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
          { href: traceHref(t), "data-nav": true, class: "trace-link" },
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
      matched ? h("td", { class: "num matched-count", title: "spans the query matched" }, String(t.matched)) : null,
      h("td", null, t.services.map((s) => h("span", { class: "chip", style: { borderColor: colour(s) } }, s))),
      pick ? h("td", { class: "pick" }, pick(t.traceId)) : null,
    );
  });
  const headers = ["Trace", "Start", "Duration", "Spans", "Errors", matched ? "Matched" : null, "Services", pick ? "Compare" : null].filter(Boolean);
  return table(headers, rows, { class: "grid traces" });
}
