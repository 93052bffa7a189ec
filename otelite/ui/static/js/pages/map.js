// Service map: services, their databases and peers, and the calls between them over the
// range. The server places each node (a layer per column, callers left of callees); this
// page draws them as SVG: edge width by request rate, colour by error rate. A service's
// node opens its page; the tables below list every node and call with its figures.

import { get } from "../api.js";
import { h, replace, table } from "../dom.js";
import { emptyState, errorState } from "../empty.js";
import { colour, duration, number, percent } from "../format.js";
import { rangeParams, timeRange } from "../range.js";
import { href, navigate } from "../router.js";

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 200;
const NODE_H = 46;
const COLUMN_W = NODE_W + 80;
const ROW_H = NODE_H + 26;
const PAD = 24;
const MAX_LABEL = 22;
// Error rate → edge colour: healthy, some failures, many.
const ERROR_LEVELS = [
  [0.05, "bad", "#cf222e"],
  [0.01, "warn", "#d1620a"],
  [0, "ok", "#8c959f"],
];

const MAX_RANGE_MS = 24 * 3600 * 1000;

export function render(main, view, alive) {
  const params = view.params;
  const focus = params.get("service");
  const range = timeRange(params);
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  replace(
    main,
    h("h1", null, "Service map"),
    h(
      "p",
      { class: "muted" },
      "Calls between services, and to the databases and peers they call: edge width by requests per second, colour by error rate. Click a service for its page.",
      focus ? [" Showing the calls of ", h("b", null, focus), " · ", h("a", { "data-nav": true, href: href("/map", rangeParams(params)) }, "show all")] : null,
    ),
    body,
  );
  // The map reads at most a day (the server's bound): a longer range shows its last day.
  // Both ends in ms then, a second inside the bound, so the server's "now" cannot stretch it.
  const clipped = range.endMs - range.startMs > MAX_RANGE_MS;
  const end = clipped ? String(Math.floor(range.endMs)) : range.end;
  const start = clipped ? String(Math.floor(range.endMs) - MAX_RANGE_MS + 1000) : range.start;
  get("/api/service-graph", { start, end, service: focus })
    .then((graph) => {
      if (!alive()) return;
      if (!graph.nodes.length) {
        replace(body, emptyState("calls", "No spans arrived in this time range."));
        return;
      }
      replace(
        body,
        clipped ? h("p", { class: "muted clipped" }, "The map reads at most 24 hours: it shows the last 24 hours of this range.") : null,
        graph.truncated ? h("p", { class: "api-error" }, `Only the ${graph.limits.maxNodes} busiest nodes and ${graph.limits.maxEdges} busiest calls are shown.`) : null,
        h("div", { class: "map-canvas" }, drawing(graph, params)),
        legend(),
        h("h3", null, "Nodes"),
        nodesTable(graph.nodes, params),
        h("h3", null, "Calls"),
        edgesTable(graph.edges, params),
      );
    })
    .catch((error) => alive() && replace(body, errorState(error)));
}

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function drawing(graph, params) {
  const layers = Math.max(...graph.nodes.map((n) => n.layer)) + 1;
  const perLayer = new Map();
  for (const n of graph.nodes) perLayer.set(n.layer, Math.max(perLayer.get(n.layer) || 0, n.row + 1));
  const tallest = Math.max(...perLayer.values());
  // Each column centred on the tallest one.
  const at = new Map(
    graph.nodes.map((n) => {
      const offset = ((tallest - perLayer.get(n.layer)) * ROW_H) / 2;
      return [n.id, { x: PAD + n.layer * COLUMN_W, y: PAD + offset + n.row * ROW_H, node: n }];
    }),
  );
  const width = PAD * 2 + (layers - 1) * COLUMN_W + NODE_W;
  const height = PAD * 2 + tallest * ROW_H + 40;
  const busiest = Math.max(...graph.edges.map((e) => e.ratePerSecond), 1e-9);
  const markers = s("defs", null, ERROR_LEVELS.map(([, name, fill]) => s("marker", { id: `arrow-${name}`, viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse", markerUnits: "userSpaceOnUse" }, s("path", { d: "M0,0 L10,5 L0,10 z", fill }))));
  // Calls of several kinds between the same two nodes are drawn side by side.
  const between = new Map();
  for (const e of graph.edges) {
    const key = JSON.stringify([e.client, e.server]);
    between.set(key, [...(between.get(key) || []), e]);
  }
  const edges = graph.edges.map((e) => {
    const twins = between.get(JSON.stringify([e.client, e.server]));
    const shift = (twins.indexOf(e) - (twins.length - 1) / 2) * 8;
    return edgeShape(e, at.get(e.client), at.get(e.server), busiest, shift);
  });
  const nodes = graph.nodes.map((n) => nodeShape(n, at.get(n.id), params));
  // As wide as the page allows, never wider than drawn: a deep map shrinks to fit.
  const svg = s("svg", { class: "service-map", width: "100%", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "service map" }, markers, s("g", { class: "edges" }, edges), s("g", { class: "nodes" }, nodes));
  svg.style.maxWidth = `${width}px`;
  return svg;
}

function level(errorRate) {
  return ERROR_LEVELS.find(([floor]) => errorRate >= floor);
}

function edgeShape(edge, from, to, busiest, shift) {
  const [, name, stroke] = level(edge.errorRate);
  const width = 1.5 + 7 * Math.sqrt(edge.ratePerSecond / busiest);
  let d;
  if (to.x > from.x) {
    const [x1, y1, x2, y2] = [from.x + NODE_W, from.y + NODE_H / 2 + shift, to.x, to.y + NODE_H / 2 + shift];
    const bend = (x2 - x1) / 2;
    d = `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
  } else {
    // A call back left (a cycle) or within a column: an arc below both nodes.
    const [x1, y1, x2, y2] = [from.x + NODE_W / 2 + shift, from.y + NODE_H, to.x + NODE_W / 2 + shift, to.y + NODE_H];
    const drop = Math.max(y1, y2) + ROW_H / 2;
    d = `M${x1},${y1} C${x1},${drop} ${x2},${drop} ${x2},${y2}`;
  }
  const title = `${edge.client} → ${edge.server}${edge.connection ? ` (${edge.connection.replace("_", " ")})` : ""}\n${figuresText(edge)}`;
  return s("path", { class: `edge edge-${name}`, d, fill: "none", stroke, "stroke-width": width.toFixed(2), "stroke-opacity": 0.75, "marker-end": `url(#arrow-${name})`, "data-client": edge.client, "data-server": edge.server }, s("title", null, title));
}

function nodeShape(node, place, params) {
  const service = node.kind === "service";
  const label = node.id.length > MAX_LABEL ? `${node.id.slice(0, MAX_LABEL - 1)}…` : node.id;
  const summary = node.requestCount ? `${number(node.ratePerSecond)}/s · ${percent(node.errorRate)} err · p95 ${duration(node.p95Ms)}` : node.kind === "client" ? "calls in" : "no requests";
  const open = () => navigate(href("/services", { ...rangeParams(params), service: node.id }));
  return s(
    "g",
    {
      class: `node node-${node.kind}${service ? " clickable" : ""}`,
      transform: `translate(${place.x},${place.y})`,
      "data-node": node.id,
      tabindex: service ? 0 : null,
      role: service ? "link" : null,
      onclick: service ? open : null,
      onkeydown: service ? (event) => event.key === "Enter" && open() : null,
    },
    s("title", null, `${node.id} (${node.kind})\n${figuresText(node)}`),
    s("rect", { width: NODE_W, height: NODE_H, rx: node.kind === "client" ? NODE_H / 2 : 6, class: "box" }),
    service ? s("rect", { width: 5, height: NODE_H, rx: 2, fill: colour(node.id) }) : null,
    s("text", { x: 12, y: 19, class: "label" }, label),
    s("text", { x: 12, y: 36, class: "figures" }, summary),
  );
}

function figuresText(f) {
  if (!f.requestCount) return "no requests in this range";
  return `${f.requestCount} requests (${number(f.ratePerSecond)}/s), ${percent(f.errorRate)} errors\np50 ${duration(f.p50Ms)} · p95 ${duration(f.p95Ms)} · p99 ${duration(f.p99Ms)}`;
}

function legend() {
  return h(
    "p",
    { class: "muted small map-legend" },
    ERROR_LEVELS.slice().reverse().map(([floor, name, fill], i) => h("span", { class: `map-key map-key-${name}` }, h("i", { style: { background: fill } }), ["errors < 1%", "1–5%", "≥ 5%"][i])),
    " · wider: more requests per second · ",
    ["service", "database", "peer", "client"].map((kind) => h("span", { class: `map-kind map-kind-${kind}` }, kind === "client" ? "caller" : kind === "peer" ? "uninstrumented peer" : kind)),
  );
}

function nodesTable(nodes, params) {
  const rows = nodes
    .slice()
    .sort((a, b) => b.requestCount - a.requestCount || a.id.localeCompare(b.id))
    .map((n) =>
      h(
        "tr",
        null,
        h("td", null, n.kind === "service" ? h("a", { "data-nav": true, href: href("/services", { ...rangeParams(params), service: n.id }) }, h("span", { class: "svc", style: { borderColor: colour(n.id) } }, n.id)) : n.id),
        h("td", null, n.kind),
        ...figureCells(n),
        h("td", null, n.requestsQuery ? h("a", { "data-nav": true, href: href("/traces", { ...rangeParams(params), q: n.requestsQuery }) }, "traces →") : null, n.kind === "service" ? " · " : null, n.kind === "service" ? h("a", { "data-nav": true, href: href("/map", { ...rangeParams(params), service: n.id }) }, "its calls") : null),
      ),
    );
  return table(["Node", "Kind", "Requests/s", "Errors", "p50", "p95", "p99", ""], rows, { class: "grid map-nodes" });
}

function edgesTable(edges, params) {
  const rows = edges
    .slice()
    .sort((a, b) => b.ratePerSecond - a.ratePerSecond || a.client.localeCompare(b.client))
    .map((e) => h("tr", null, h("td", null, e.client), h("td", null, e.server), h("td", null, e.connection ? e.connection.replace("_", " ") : "call"), ...figureCells(e)));
  return table(["Client", "Server", "Kind", "Requests/s", "Errors", "p50", "p95", "p99"], rows, { class: "grid map-edges" });
}

function figureCells(f) {
  return [
    h("td", { class: "num" }, number(f.ratePerSecond)),
    h("td", { class: f.errorCount ? "num error-count" : "num" }, percent(f.errorRate)),
    h("td", { class: "num" }, duration(f.p50Ms)),
    h("td", { class: "num" }, duration(f.p95Ms)),
    h("td", { class: "num" }, duration(f.p99Ms)),
  ];
}
