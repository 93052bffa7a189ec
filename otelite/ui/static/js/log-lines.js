// Log lines as a LogQL query returns them: time, detected level (its colour shared with the
// volume histogram), the line, the service, a link to the line's trace; a click shows the
// line's labels by kind: stream labels, structured metadata, parsed labels.

import { h, table } from "./dom.js";
import { colour, timestamp } from "./format.js";
import { UNKNOWN_LEVEL, levelOf } from "./logql.js";
import { href } from "./router.js";

/** The colour of each detected level, in the rows and the histogram alike. */
export const LEVEL_COLOURS = {
  trace: "#6ed0e0",
  debug: "#1f78c1",
  info: "#59a14f",
  warn: "#e0a800",
  error: "#d62728",
  critical: "#8250df",
  fatal: "#6e40c9",
  [UNKNOWN_LEVEL]: "#8c959f",
};
const OTHER_LEVEL = "#b07aa1"; // a level word Loki keeps as it found it

export function levelColour(level) {
  return LEVEL_COLOURS[level] || OTHER_LEVEL;
}

const KINDS = [
  ["stream", "Stream labels"],
  ["metadata", "Structured metadata"],
  ["parsed", "Parsed labels"],
];
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** The labels of `entries` by name: Map name → {kind, values: Set}, for completions. */
export function labelsSeen(entries) {
  const seen = new Map();
  for (const entry of entries) {
    for (const [kind, detail] of [["metadata", "structured metadata"], ["parsed", "parsed label"]]) {
      for (const [name, value] of Object.entries(entry[kind])) {
        if (!seen.has(name)) seen.set(name, { kind: detail, values: new Set() });
        seen.get(name).values.add(value);
      }
    }
  }
  return seen;
}

/** A `<table>` of `entries` ({ns, line, stream, metadata, parsed}), in their order. */
export function logLines(entries) {
  const rows = [];
  for (const entry of entries) {
    const level = levelOf(entry);
    const shade = levelColour(level);
    const trace = traceHref(entry);
    const detail = h("tr", { class: "log-detail hidden" }, h("td", { colspan: 5 }, lineDetail(entry, trace)));
    rows.push(
      h(
        "tr",
        { class: `log lvl-${level}`, dataset: { ns: String(entry.ns), level }, onclick: () => detail.classList.toggle("hidden") },
        h("td", { class: "nowrap time", style: { boxShadow: `inset 3px 0 ${shade}` } }, timestamp(Number(entry.ns / 1000000n))),
        h("td", null, h("span", { class: "level", style: { color: shade, borderColor: shade } }, level)),
        h("td", null, entry.stream.service_name ? h("span", { class: "chip", style: { borderColor: colour(entry.stream.service_name) } }, entry.stream.service_name) : null),
        h("td", { class: "body-cell" }, h("span", { class: "line" }, entry.line)),
        h(
          "td",
          null,
          trace ? h("a", { "data-nav": true, class: "trace-link", href: trace, onclick: (event) => event.stopPropagation() }, "trace →") : null,
        ),
      ),
      detail,
    );
  }
  return table(["Time", "Level", "Service", "Line", ""], rows, { class: "grid logs" });
}

// The trace view of a line's trace_id (at its span_id), or null when it has none.
function traceHref(entry) {
  const labels = { ...entry.stream, ...entry.metadata, ...entry.parsed };
  const traceId = String(labels.trace_id || "").toLowerCase();
  const spanId = String(labels.span_id || "").toLowerCase();
  if (!TRACE_ID.test(traceId) || traceId === ZERO_TRACE) return null;
  return href(`/trace/${traceId}`, SPAN_ID.test(spanId) && spanId !== ZERO_SPAN ? { span: spanId } : {});
}

// The line's labels by kind; its trace id links to its trace.
function lineDetail(entry, trace) {
  return h(
    "div",
    { class: "line-labels" },
    h("dl", { class: "facts" }, h("dt", null, "Time (ns)"), h("dd", { class: "mono" }, String(entry.ns))),
    KINDS.map(([kind, title]) => {
      const pairs = Object.entries(entry[kind]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return h(
        "section",
        { class: `labels-${kind}` },
        h("h3", null, `${title} (${pairs.length})`),
        pairs.length
          ? table(
              ["Label", "Value"],
              pairs.map(([name, value]) =>
                h(
                  "tr",
                  null,
                  h("td", { class: "key" }, name),
                  h("td", { class: "value" }, trace && name === "trace_id" ? h("a", { "data-nav": true, href: trace }, value) : value),
                ),
              ),
              { class: "attributes labels" },
            )
          : h("p", { class: "muted" }, "none"),
      );
    }),
  );
}
