// The PromQL form of the metrics page: the expression (a query field that marks a parse
// error where the server found it), the step, the legend format, graph or table, and a
// picker that writes a metric's Prometheus name into the expression.

import { get } from "./api.js";
import { h, replace } from "./dom.js";
import { durationText, errorPosition } from "./promql.js";
import { queryField } from "./query-field.js";

const SUFFIXES = ["_bucket", "_count", "_sum"]; // series of a histogram's or summary's family

let counter = 0;

/**
 * The form: `state` {q, step, legend, mode} to start with, `autoStep` the step (seconds)
 * used when none is given, `range` the time range names are listed for, `onRun(state)`
 * when the user runs it (Enter in the expression, or the button).
 * Returns {element, text(), showError(error), clearError()}.
 */
export function promqlForm({ state, autoStep, range, onRun }) {
  const field = queryField({
    label: "PromQL expression",
    placeholder: 'sum by (job) (rate(http_server_request_duration_seconds_count[5m]))',
    value: state.q,
    position: errorPosition,
    onRun: () => run(),
  });
  const { textarea } = field;
  const step = h("input", { name: "step", size: 7, value: state.step, placeholder: `auto (${durationText(autoStep)})`, "aria-label": "step" });
  const legendFormat = h("input", { name: "legend", size: 26, value: state.legend, placeholder: "{{label}} …", "aria-label": "legend format" });
  const mode = h(
    "select",
    { name: "mode", "aria-label": "result" },
    h("option", { value: "graph", selected: state.mode !== "table" }, "graph (range query)"),
    h("option", { value: "table", selected: state.mode === "table" }, "table (instant query)"),
  );
  const listId = `promql-names-${++counter}`;
  const names = h("datalist", { id: listId });
  const picker = h("input", { type: "search", list: listId, size: 28, placeholder: "metric name…", "aria-label": "insert metric" });

  const read = () => ({ q: textarea.value, step: step.value.trim(), legend: legendFormat.value, mode: mode.value });
  const run = () => onRun(read());

  // A picked name goes in at the caret (or replaces the selection).
  const insert = (name) => {
    const from = textarea.selectionStart;
    const to = textarea.selectionEnd;
    textarea.value = textarea.value.slice(0, from) + name + textarea.value.slice(to);
    textarea.focus();
    textarea.setSelectionRange(from + name.length, from + name.length);
    field.clearError();
    field.fit();
  };
  let known = new Set();
  picker.addEventListener("change", () => {
    if (!known.has(picker.value)) return;
    insert(picker.value);
    picker.value = "";
  });
  metricNames(range).then((found) => {
    known = new Set(found.map((f) => f.name));
    replace(names, found.map((f) => h("option", { value: f.name, label: f.detail })));
  });

  for (const input of [step, legendFormat]) {
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        run();
      }
    });
  }
  mode.addEventListener("change", run);

  const element = h(
    "section",
    { class: "promql" },
    h("div", { class: "query-row" }, h("span", { class: "tq-title" }, "PromQL"), field.element, h("button", { type: "button", class: "primary", onclick: run }, "Run PromQL")),
    h(
      "div",
      { class: "filters promql-options" },
      h("label", null, "Step", step),
      h("label", null, "Legend", legendFormat),
      h("label", null, "Show", mode),
      h("label", null, "Insert metric", picker, names),
      h("span", { class: "muted small" }, "Enter runs the expression, Shift+Enter starts a new line. A legend such as {{route}} takes each series' label values."),
    ),
  );
  return { element, text: () => textarea.value, showError: field.showError, clearError: field.clearError };
}

// The series names PromQL selects, each with its family's type and help where known.
async function metricNames(range) {
  const window = { start: range.startMs / 1000, end: range.endMs / 1000 };
  const [names, metadata] = await Promise.all([
    get("/api/v1/label/__name__/values", window).catch(() => null),
    get("/api/v1/metadata").catch(() => null),
  ]);
  const families = (metadata && metadata.data) || {};
  return ((names && names.data) || []).map((name) => {
    const family = families[name] || SUFFIXES.map((s) => name.endsWith(s) && families[name.slice(0, -s.length)]).find(Boolean);
    const about = family && family[0];
    return { name, detail: about ? [about.type, about.help].filter(Boolean).join(" · ") : "" };
  });
}
