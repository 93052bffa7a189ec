// The critical path of many traces: for the traces a TraceQL query matches in the range,
// which operations their durations waited on, against a baseline. The URL holds it all:
// `q`, `baseline` (a query; default the same), `vs` (`others`: the range's other traces,
// the default; `before`: the period of the same length just before), `limit`.

import { get } from "../api.js";
import { h, replace, table } from "../dom.js";
import { errorState } from "../empty.js";
import { colour, duration, percent } from "../format.js";
import { timeRange } from "../range.js";
import { href, update } from "../router.js";
import { queryBox } from "../traceql-box.js";
import { quoteString } from "../traceql.js";

const DEFAULT_LIMIT = "100";

export function render(main, view, alive) {
  const params = view.params;
  const range = timeRange(params);
  const vs = params.get("vs") === "before" ? "before" : "others";
  const box = queryBox({ value: params.get("q") || "{ }", range: () => range, onRun: () => run() });
  const baseline = h("input", { name: "baseline", size: 40, value: params.get("baseline") || "", placeholder: "the same query", "aria-label": "baseline query" });
  const against = h(
    "select",
    { name: "vs", "aria-label": "baseline" },
    h("option", { value: "others", selected: vs === "others" }, "the other traces of the range"),
    h("option", { value: "before", selected: vs === "before" }, "the period just before"),
  );
  const limit = h("input", { name: "limit", type: "number", min: 1, max: 1000, size: 4, value: params.get("limit") || DEFAULT_LIMIT, "aria-label": "traces per side" });
  const run = () =>
    update({
      q: box.textarea.value.trim() || null,
      baseline: baseline.value.trim() || null,
      vs: against.value === "before" ? "before" : null,
      limit: limit.value === DEFAULT_LIMIT ? null : limit.value,
    });
  const form = h(
    "form",
    { class: "filters", onsubmit: (event) => (event.preventDefault(), run()) },
    h("label", null, "Compare with", against),
    h("label", null, "Baseline query", baseline),
    h("label", null, "Traces per side", limit),
    h("button", { type: "submit", class: "primary" }, "Compare"),
  );
  const results = h("div", { class: "results" }, h("p", { class: "muted" }, "Adding up critical paths…"));
  replace(
    main,
    h("h1", null, "Critical path"),
    h("p", { class: "muted" }, "Where the time of the traces a query matches goes: each operation's share of their critical paths, against a baseline."),
    h("div", { class: "query-row traceql" }, h("span", { class: "tq-title" }, "TraceQL"), box.element, h("button", { type: "button", class: "primary", onclick: run }, "Run")),
    form,
    results,
  );

  const query = { q: params.get("q") || "{ }", start: range.start, end: range.end, limit: params.get("limit") || DEFAULT_LIMIT };
  if (params.get("baseline")) query.baseline = params.get("baseline");
  if (vs === "before") {
    const length = range.endMs - range.startMs;
    query.baselineStart = new Date(range.startMs - length).toISOString();
    query.baselineEnd = new Date(range.startMs).toISOString();
  }
  get("/api/critical-path", query)
    .then((body) => {
      if (alive()) replace(results, summary(body), operationsTable(body, params));
    })
    .catch((error) => {
      if (!alive()) return;
      if (error.status === 400 && /^q: /.test(error.message)) box.showError(error);
      replace(results, errorState(error));
    });
}

function summary(body) {
  const side = (name, group) => {
    const notes = [group.sampled ? "the newest only" : null, group.cut ? "some left out (span bound)" : null].filter(Boolean);
    const mean = group.meanPathNs === null ? "–" : duration(group.meanPathNs / 1e6);
    return h(
      "li",
      { class: `side ${name}` },
      h("b", null, name === "selection" ? "Selection" : "Baseline"),
      ": ",
      h("span", { class: "mono" }, group.others ? "the other traces" : group.query),
      ` · ${group.traces} traces · mean critical path ${mean}`,
      notes.length ? h("span", { class: "warning" }, ` · ${notes.join(", ")}`) : null,
    );
  };
  return h("ul", { class: "path-summary" }, side("selection", body.selection), side("baseline", body.baseline));
}

function operationsTable(body, params) {
  const rows = body.operations.map((o) => {
    const traces = body.selection.traces;
    const change = o.difference;
    return h(
      "tr",
      { class: "path-operation" },
      h("td", null, h("span", { class: "svc", style: { borderColor: colour(o.service) } }, o.service)),
      h("td", null, h("a", { href: href("/traces", { q: operationQuery(o), range: params.get("range"), start: params.get("start"), end: params.get("end") }), "data-nav": true, class: "span-name" }, o.name)),
      h(
        "td",
        { class: "share-bars" },
        h("div", { class: "share-bar", style: { width: `${(o.share * 100).toFixed(1)}%`, background: colour(o.service) }, title: `selection ${percent(o.share)}` }),
        h("div", { class: "share-bar baseline", style: { width: `${(o.baselineShare * 100).toFixed(1)}%` }, title: `baseline ${percent(o.baselineShare)}` }),
      ),
      h("td", { class: "num" }, percent(o.share)),
      h("td", { class: "num muted" }, percent(o.baselineShare)),
      h("td", { class: `num ${change > 0.005 ? "worse" : change < -0.005 ? "better" : ""}` }, `${change >= 0 ? "+" : "−"}${(Math.abs(change) * 100).toFixed(1)} pp`),
      h("td", { class: "num" }, o.perTraceNs === null ? "–" : duration(o.perTraceNs / 1e6)),
      h("td", { class: "num" }, `${o.traces} / ${traces}`),
      h("td", null, o.exampleTraceId ? h("a", { href: `/trace/${o.exampleTraceId}`, "data-nav": true, class: "example", title: "the trace where it spends the most time on the critical path" }, "a trace →") : null),
    );
  });
  const more = body.operationCount > body.operations.length ? h("p", { class: "muted" }, `${body.operationCount - body.operations.length} more operations not shown`) : null;
  return [table(["Service", "Operation", "Share of the critical path", "Share", "Baseline", "Change", "Per trace", "On the path of", "Example"], rows, { class: "grid critical-path" }), more];
}

// The traces where this operation ran, to look at some.
function operationQuery(o) {
  return `{ resource.service.name = ${quoteString(o.service)} && name = ${quoteString(o.name)} }`;
}
