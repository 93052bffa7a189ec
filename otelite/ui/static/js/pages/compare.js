// Two traces compared (/compare?a=&b=): trace b's (service, operation) paths against
// trace a's, as a tree, with each node's spans and time in both and what changed.

import { get } from "../api.js";
import { h, replace, table } from "../dom.js";
import { errorState } from "../empty.js";
import { colour, duration } from "../format.js";
import { href, navigate } from "../router.js";

const CHANGES = ["added", "missing", "slower", "faster", "same"];

export function render(main, view, alive) {
  const a = view.params.get("a") || "";
  const b = view.params.get("b") || "";
  const field = (name, value) => h("input", { name, value, size: 34, class: "mono", placeholder: `trace ${name} id`, required: true });
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(form);
        navigate(href("/compare", { a: data.get("a").trim(), b: data.get("b").trim() }));
      },
    },
    h("label", null, "Trace a", field("a", a)),
    h("label", null, "Trace b", field("b", b)),
    h("button", { type: "submit", class: "primary" }, "Compare"),
  );
  const results = h("div", { class: "results" });
  replace(main, h("h1", null, "Compare two traces"), form, results);
  if (!a || !b) {
    replace(results, h("p", { class: "muted" }, "Give the ids of two traces, or tick two traces in the results of a search."));
    return;
  }
  replace(results, h("p", { class: "muted" }, "Comparing…"));
  get("/api/compare/traces", { a, b })
    .then((found) => {
      if (alive()) replace(results, ...comparison(found));
    })
    .catch((error) => {
      if (alive()) replace(results, errorState(error));
    });
}

function comparison(found) {
  const side = (name) => {
    const s = found[name];
    return h(
      "span",
      null,
      `${name}: `,
      h("a", { href: `/trace/${s.traceId}`, "data-nav": true, class: "mono" }, s.traceId),
      ` · ${s.spans} spans · ${duration(s.durationNs / 1e6)}`,
      s.truncated ? h("span", { class: "error-count" }, " (only its first spans are compared)") : null,
    );
  };
  const summary = CHANGES.filter((c) => found.summary[c]).map((c) => h("span", { class: `change ${c}` }, `${found.summary[c]} ${c}`));
  const rows = found.nodes.map((node) =>
    h(
      "tr",
      { class: `aligned ${node.change}`, dataset: { depth: node.depth } },
      h(
        "td",
        null,
        h(
          "span",
          { style: { paddingLeft: `${node.depth * 16}px` } },
          h("span", { class: "svc", style: { borderColor: colour(node.service) } }, node.service || "?"),
          " ",
          h("span", { class: "span-name" }, node.operation),
        ),
      ),
      h("td", { class: "num" }, spans(node.a)),
      h("td", { class: "num" }, spans(node.b)),
      h("td", { class: "num" }, self(node.a), " → ", self(node.b)),
      h("td", null, h("span", { class: `change ${node.change}` }, describe(node))),
    ),
  );
  return [
    h("p", { class: "facts" }, side("a"), h("br"), side("b")),
    h("p", { class: "compare-summary" }, summary),
    table(["Operation", "In a", "In b", "Self time", "Change"], rows, { class: "grid aligned-traces" }),
  ];
}

function spans(stats) {
  if (!stats) return "–";
  const total = duration(stats.totalNs / 1e6);
  return stats.count === 1 ? total : `${total} (${stats.count} spans)`;
}

function self(stats) {
  return stats ? duration(stats.selfNs / 1e6) : "–";
}

function describe(node) {
  let text = node.change;
  if (node.change === "slower" || node.change === "faster") {
    text += ` ${node.deltaNs > 0 ? "+" : "−"}${duration(Math.abs(node.deltaNs) / 1e6)}`;
  }
  if (node.added && node.change !== "added") text += `, ${node.added} more`;
  if (node.missing && node.change !== "missing") text += `, ${node.missing} fewer`;
  return text;
}
