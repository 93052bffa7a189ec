// Logs: newest first, filters in the URL, bodies shown by their AnyValue type, a link from
// each record with a trace id to its trace (and span), live tail.

import { get } from "../api.js";
import { h, replace, table } from "../dom.js";
import { emptyState, errorState } from "../empty.js";
import { anyValue, colour, nsToMs, plain, severityName, timestamp } from "../format.js";
import { timeRange } from "../range.js";
import { href, update } from "../router.js";
import { attributeInputs, readAttributes } from "../attributes.js";
import { attributeTable } from "../span-detail.js";

const FIELDS = ["service", "severity", "text", "traceId", "spanId", "limit"];
const LIVE_INTERVAL_MS = 2000;
const ZERO_TRACE = "0".repeat(32);

export function render(main, view, alive) {
  const params = view.params;
  const services = h("select", { name: "service", "aria-label": "service" }, h("option", { value: "" }, "all services"));
  const input = (name, attrs) => h("input", { name, value: params.get(name) || "", ...attrs });
  const form = h(
    "form",
    { class: "filters", onsubmit: (event) => submit(event, form) },
    h("label", null, "Service", services),
    h(
      "label",
      null,
      "Min severity",
      h(
        "select",
        { name: "severity" },
        ["", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].map((s) => h("option", { value: s, selected: (params.get("severity") || "") === s }, s || "any")),
      ),
    ),
    h("label", null, "Text", input("text", { type: "search", placeholder: "in the body", size: 16 })),
    attributeInputs(params.getAll("attr"), { signal: "logs", service: params.get("service") }),
    h("label", null, "Trace id", input("traceId", { size: 20, class: "mono", placeholder: "any" })),
    params.get("spanId") ? h("label", null, "Span id", input("spanId", { size: 12, class: "mono" })) : null,
    h("label", null, "Limit", input("limit", { type: "number", min: 1, max: 5000, size: 5, value: params.get("limit") || "200" })),
    h("button", { type: "submit", class: "primary" }, "Search"),
    h(
      "label",
      { class: "live" },
      h("input", { type: "checkbox", checked: params.get("live") === "1", onchange: (e) => update({ live: e.target.checked ? "1" : null }) }),
      "Live",
    ),
  );
  const results = h("div", { class: "results" }, h("p", { class: "muted" }, "Searching…"));
  replace(main, h("h1", null, "Logs"), form, results);

  get("/api/services", { start: "now-7d", end: "now" }).then(({ services: found }) => {
    const chosen = params.get("service") || "";
    const known = found.map((s) => s.name);
    if (chosen && !known.includes(chosen)) known.push(chosen);
    for (const name of known.sort()) services.append(h("option", { value: name, selected: name === chosen }, name));
  }).catch(() => {}); // the choices are a convenience; the results say what went wrong

  const search = async () => {
    const range = timeRange(params);
    const query = { start: range.start, end: range.end, attr: params.getAll("attr") };
    for (const field of FIELDS) if (field !== "spanId") query[field] = params.get(field);
    query.limit = query.limit || "200";
    let logs;
    try {
      ({ logs } = await get("/api/search/logs", query));
    } catch (error) {
      if (alive()) replace(results, errorState(error));
      return;
    }
    if (!alive()) return;
    // The API filters by trace; a span's logs are the trace's logs with its span id.
    const spanId = params.get("spanId");
    if (spanId) logs = logs.filter((log) => log.spanId === spanId);
    if (!logs.length) {
      const narrowed = FIELDS.some((f) => f !== "limit" && params.get(f)) || params.getAll("attr").length;
      replace(results, emptyState("logs", narrowed ? "No log record matches these filters in this time range." : null));
      return;
    }
    replace(results, h("p", { class: "muted count" }, `${logs.length} records, newest first`), logsTable(logs));
  };
  search();
  const timer = params.get("live") === "1" ? setInterval(search, LIVE_INTERVAL_MS) : null;
  return () => timer && clearInterval(timer);
}

function submit(event, form) {
  event.preventDefault();
  const data = new FormData(form);
  const changes = {};
  for (const field of FIELDS) changes[field] = (data.get(field) || "").trim() || null;
  if (changes.limit === "200") changes.limit = null;
  changes.attr = readAttributes(form);
  update(changes);
}

/** The body by its type: strings as text, maps and arrays as indented JSON. */
function body(value) {
  const shown = anyValue(value);
  if (shown.type === "map" || shown.type === "array") {
    return h("pre", { class: "body json" }, JSON.stringify(plain(value), null, 2));
  }
  if (shown.type === "empty") return h("span", { class: "muted" }, "(no body)");
  return h(
    "span",
    { class: `body t-${shown.type}` },
    shown.text,
    shown.type === "string" ? null : h("span", { class: "type" }, shown.type),
  );
}

function logsTable(logs) {
  const rows = [];
  for (const log of logs) {
    const time = nsToMs(log.timeUnixNano !== "0" ? log.timeUnixNano : log.observedTimeUnixNano);
    const severity = log.severityText || severityName(log.severityNumber);
    const level = severityName(log.severityNumber).replace(/\d$/, "").toLowerCase();
    const hasTrace = log.traceId && log.traceId !== ZERO_TRACE;
    const detail = h("tr", { class: "log-detail hidden" }, h("td", { colspan: 5 }, logDetail(log)));
    rows.push(
      h(
        "tr",
        { class: `log lvl-${level || "none"}`, onclick: () => detail.classList.toggle("hidden") },
        h("td", { class: "nowrap" }, timestamp(time)),
        h("td", null, h("span", { class: `sev sev-${level || "none"}` }, severity || "–")),
        h("td", null, h("span", { class: "chip", style: { borderColor: colour(log.serviceName || "") } }, log.serviceName || "")),
        h("td", { class: "body-cell" }, body(log.body)),
        h(
          "td",
          null,
          hasTrace
            ? h("a", { "data-nav": true, class: "trace-link", href: href(`/trace/${log.traceId}`, log.spanId && log.spanId !== "0".repeat(16) ? { span: log.spanId } : {}), onclick: (e) => e.stopPropagation() }, "trace →")
            : null,
        ),
      ),
      detail,
    );
  }
  return table(["Time", "Severity", "Service", "Body", ""], rows, { class: "grid logs" });
}

function logDetail(log) {
  const facts = [
    ["Observed", timestamp(nsToMs(log.observedTimeUnixNano))],
    ["Severity number", String(log.severityNumber)],
    ["Trace id", log.traceId],
    ["Span id", log.spanId],
  ];
  if (log.eventName) facts.push(["Event name", log.eventName]);
  return h(
    "div",
    null,
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", null, k), h("dd", { class: "mono" }, v || "–")])),
    h("h3", null, "Attributes"),
    attributeTable(log.attributes),
  );
}
