// PromQL on the metrics page: the form, and its expression run on the Prometheus API over
// the page's time range. The URL holds the expression (q), the step, the legend format and
// the mode (graph: a range query; table: an instant query at the range's end), so a link
// shows the same view.

import { get } from "./api.js";
import { h, replace } from "./dom.js";
import { errorState } from "./empty.js";
import { autoStep, durationSeconds } from "./promql.js";
import { promqlForm } from "./promql-box.js";
import { instantResult, rangeResult } from "./promql-result.js";
import { timeRange } from "./range.js";
import { update } from "./router.js";

/** The URL parameters this view keeps. */
export const PROMQL_PARAMS = ["q", "step", "legend", "mode"];

/** The form and the result of the URL's expression. Returns {element, cleanup}. */
export function promqlView(params, alive) {
  const range = timeRange(params);
  const auto = autoStep(range.endMs - range.startMs);
  const state = {
    q: params.get("q") || "",
    step: params.get("step") || "",
    legend: params.get("legend") || "",
    mode: params.get("mode") === "table" ? "table" : "graph",
  };
  const result = h("div", { class: "promql-result" });
  let cleanup = () => {};

  const run = async () => {
    cleanup();
    cleanup = () => {};
    form.clearError();
    replace(result, h("p", { class: "muted" }, "Running…"));
    const step = state.step ? durationSeconds(state.step) : auto;
    try {
      if (state.mode === "table") {
        const at = range.endMs / 1000;
        const body = await get("/api/v1/query", { query: state.q, time: at });
        if (!alive()) return;
        instantResult(result, body.data, { format: state.legend, at });
        warn(body.warnings);
      } else {
        // A start and end on whole steps: the points stay put as a relative range moves on.
        const [start, end] = [range.startMs, range.endMs].map((ms) => (step ? Math.floor(ms / 1000 / step) * step : ms / 1000));
        const body = await get("/api/v1/query_range", { query: state.q, start, end, step: state.step || auto });
        if (!alive()) return;
        cleanup = rangeResult(result, body.data, { format: state.legend, step: step || auto });
        warn(body.warnings);
      }
    } catch (error) {
      if (!alive()) return;
      failed(error);
    }
  };

  // The server's warnings under the result.
  const warn = (warnings) => {
    if (warnings && warnings.length) result.append(h("p", { class: "muted small" }, `Warnings: ${warnings.join("; ")}`));
  };

  // Bad input is the form's to show, at its position when the server names one (unless
  // the text has changed since); a query that cannot be answered, or runs out of time,
  // says so in place of the result.
  const failed = (error) => {
    if (error.status === 400 && form.text() === state.q) {
      form.showError(error);
      replace(result, h("p", { class: "muted" }, "Nothing to show: the server refused the query (see above)."));
    } else if (error.status === 422) {
      replace(result, problem("The query could not be answered: ", error));
    } else if (error.status === 503) {
      replace(result, problem("The query ran out of time: ", error), h("p", { class: "muted small" }, "A shorter range or a longer step reads fewer points."));
    } else {
      replace(result, errorState(error));
    }
  };

  // A new expression, step, legend or mode goes in the URL; the same one again runs again.
  const onRun = (asked) => {
    const before = location.search;
    update({ q: asked.q.trim() ? asked.q : null, step: asked.step || null, legend: asked.legend || null, mode: asked.mode === "table" ? "table" : null });
    if (location.search === before && asked.q.trim()) run();
  };

  const form = promqlForm({ state, autoStep: auto, range, onRun });
  if (state.q.trim()) run();
  const element = h("div", null, form.element, result);
  return { element, cleanup: () => cleanup() };
}

function problem(prefix, error) {
  return h("div", { class: "api-error", role: "alert" }, prefix, String(error.message || error));
}
