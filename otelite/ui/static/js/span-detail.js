// The span detail panel: status, timing, attributes with their types, resource, scope,
// events, links (which navigate), and the way to the span's logs.

import { h, table } from "./dom.js";
import { SPAN_KINDS, STATUS, anyValue, duration, timestamp } from "./format.js";
import { href } from "./router.js";

/** A key / value / type table of OTLP/JSON attributes. */
export function attributeTable(attributes, emptyText = "none") {
  if (!attributes || !attributes.length) return h("p", { class: "muted" }, emptyText);
  return table(
    ["Key", "Value", "Type"],
    attributes.map((kv) => {
      const value = anyValue(kv.value);
      return h(
        "tr",
        null,
        h("td", { class: "key" }, kv.key),
        h("td", { class: `value t-${value.type}` }, value.text),
        h("td", null, h("span", { class: "type" }, value.type)),
      );
    }),
    { class: "attributes" },
  );
}

export function spanDetail(span, trace, logsRange, more = []) {
  const statusName = STATUS[span.status.code] || String(span.status.code);
  const facts = [
    ["Service", span.service],
    ["Kind", SPAN_KINDS[span.kind] || String(span.kind)],
    ["Status", span.status.message ? `${statusName}: ${span.status.message}` : statusName],
    ["Start", `${timestamp(trace.startMs + span.offsetMs)} (+${duration(span.offsetMs)})`],
    ["Duration", duration(span.durationMs)],
    ["Span id", span.id],
    ["Parent id", span.parentId || "(root)"],
  ];
  if (span.traceState) facts.push(["Trace state", span.traceState]);
  facts.push(...more); // [label, text] pairs the view adds
  const scope = span.scope || {};
  return h(
    "div",
    { class: "span-detail" },
    h("h2", { class: span.error ? "error" : "" }, span.name),
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", null, k), h("dd", { class: k.endsWith("id") ? "mono" : "" }, v)])),
    h(
      "p",
      null,
      h("a", { class: "button", "data-nav": true, href: href("/logs", { traceId: span.traceId, spanId: span.id, ...logsRange }) }, "Logs for this span"),
    ),
    h("h3", null, "Attributes"),
    attributeTable(span.attributes),
    h("h3", null, `Events (${span.events.length})`),
    span.events.length
      ? span.events.map((event) =>
          h(
            "div",
            { class: "event" },
            h("div", null, h("b", null, event.name || "(unnamed)"), " ", h("span", { class: "muted" }, `+${duration(Number(BigInt(event.timeUnixNano || "0") - trace.startNs) / 1e6)}`)),
            attributeTable(event.attributes, "no attributes"),
          ),
        )
      : h("p", { class: "muted" }, "none"),
    h("h3", null, `Links (${span.links.length})`),
    span.links.length
      ? span.links.map((link) =>
          h(
            "div",
            { class: "link" },
            h("a", { "data-nav": true, class: "mono", href: href(`/trace/${encodeURIComponent(link.traceId)}`, { span: link.spanId }) }, `${link.traceId} / ${link.spanId}`),
            attributeTable(link.attributes, "no attributes"),
          ),
        )
      : h("p", { class: "muted" }, "none"),
    h("h3", null, "Resource"),
    attributeTable(span.resource),
    h("h3", null, "Scope"),
    h("p", null, h("span", { class: "mono" }, scope.name || "(unnamed)"), scope.version ? ` ${scope.version}` : ""),
    attributeTable(scope.attributes, "no scope attributes"),
  );
}
