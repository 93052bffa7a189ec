// A trace (OTLP/JSON resourceSpans) as a tree of spans with times relative to its start.

import { anyValue, nsToMs } from "./format.js";

/**
 * Build the model: `{spans, roots, startNs, startMs, durationMs, services, byId}`.
 * Each span: {id, parentId, name, kind, service, offsetMs, durationMs, error, status,
 * attributes, resource, scope, events, links, children, depth, raw}.
 * Spans whose parent did not arrive are shown as roots.
 */
export function buildTrace(resourceSpans) {
  const spans = [];
  let startNs = null;
  let endNs = null;
  for (const rs of resourceSpans) {
    const resource = (rs.resource && rs.resource.attributes) || [];
    const serviceAttr = resource.find((kv) => kv.key === "service.name");
    const service = serviceAttr ? anyValue(serviceAttr.value).text : "unknown_service";
    for (const ss of rs.scopeSpans || []) {
      const scope = ss.scope || {};
      for (const raw of ss.spans || []) {
        const start = BigInt(raw.startTimeUnixNano || "0");
        let end = BigInt(raw.endTimeUnixNano || "0");
        if (end < start) end = start; // clamp what is derived, as the store does
        if (startNs === null || start < startNs) startNs = start;
        if (endNs === null || end > endNs) endNs = end;
        const status = raw.status || {};
        spans.push({
          id: raw.spanId,
          traceId: raw.traceId,
          parentId: raw.parentSpanId || "",
          name: raw.name || "",
          kind: raw.kind || 0,
          service,
          startNs: start,
          durationMs: Number(end - start) / 1e6,
          status: { code: status.code || 0, message: status.message || "" },
          error: status.code === 2,
          attributes: raw.attributes || [],
          resource,
          resourceSchemaUrl: rs.schemaUrl || "",
          scope,
          events: raw.events || [],
          links: raw.links || [],
          traceState: raw.traceState || "",
          children: [],
          depth: 0,
          offsetMs: 0,
        });
      }
    }
  }
  const byId = new Map(spans.map((s) => [s.id, s]));
  const roots = [];
  for (const span of spans) {
    span.offsetMs = Number(span.startNs - startNs) / 1e6;
    const parent = span.parentId && span.parentId !== span.id ? byId.get(span.parentId) : null;
    if (parent) parent.children.push(span);
    else roots.push(span);
  }
  const byStart = (a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0);
  roots.sort(byStart);
  // Depths and child order, iteratively (a 10,000-deep chain must not blow the stack).
  const stack = roots.map((r) => [r, 0]);
  while (stack.length) {
    const [span, depth] = stack.pop();
    span.depth = depth;
    span.children.sort(byStart);
    for (const child of span.children) stack.push([child, depth + 1]);
  }
  const services = [...new Set(spans.map((s) => s.service))].sort();
  return {
    spans,
    roots,
    byId,
    startNs,
    startMs: startNs === null ? 0 : nsToMs(startNs),
    durationMs: startNs === null ? 0 : Number(endNs - startNs) / 1e6,
    services,
  };
}

/** The spans shown in order: depth-first, skipping the descendants of collapsed spans. */
export function visibleSpans(trace, collapsed) {
  const out = [];
  const stack = [...trace.roots].reverse();
  while (stack.length) {
    const span = stack.pop();
    out.push(span);
    if (!collapsed.has(span.id)) {
      for (let i = span.children.length - 1; i >= 0; i--) stack.push(span.children[i]);
    }
  }
  return out;
}

/** Whether `span` mentions `needle` (lower case) in its name, service or attributes. */
export function spanMatches(span, needle) {
  if (!span.searchText) {
    const parts = [span.name, span.service, span.id];
    for (const kv of span.attributes) parts.push(kv.key, anyValue(kv.value).text);
    for (const event of span.events) parts.push(event.name || "");
    span.searchText = parts.join("\n").toLowerCase();
  }
  return span.searchText.includes(needle);
}
