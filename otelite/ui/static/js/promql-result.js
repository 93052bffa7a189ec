// A PromQL result as the metrics page shows it: a range query's series as lines with a
// legend table (last, min, max), an instant query's vector, scalar or samples as a table.
// Cells that hold a sample carry its value as the API wrote it in data-value.

import { lineChart } from "./charts.js";
import { h, replace, table } from "./dom.js";
import { number, seriesColour, timestamp } from "./format.js";
import { align } from "./metric-math.js";
import { durationText, legend, sampleValue, seriesName } from "./promql.js";

const MAX_LINES = 50; // a chart with more lines is no longer readable

/** A range query's matrix in `el`: lines and their legend. Returns a cleanup function. */
export function rangeResult(el, data, { format, step }) {
  const found = data.result;
  if (!found.length) {
    replace(el, noSeries("in this time range"));
    return () => {};
  }
  const lines = found.map((s) => ({
    label: legend(s.metric, format),
    name: seriesName(s.metric),
    samples: s.values,
    points: s.values.map(([t, v]) => [t, sampleValue(v)]),
  }));
  const plotted = lines.slice(0, MAX_LINES);
  const { xs, series } = align(plotted);
  const chart = h("div", { class: "chart", dataset: { series: String(plotted.length) } });
  const rows = lines.map((line, i) => {
    const values = line.points.map(([, y]) => y).filter(Number.isFinite);
    const last = line.samples[line.samples.length - 1][1];
    return h(
      "tr",
      { class: "promql-series" },
      h(
        "td",
        { class: "legend", title: line.name },
        i < MAX_LINES ? h("span", { class: "swatch", style: { background: seriesColour(i) } }) : null,
        line.label,
      ),
      valueCell(last),
      valueCell(values.length ? String(Math.min(...values)) : null),
      valueCell(values.length ? String(Math.max(...values)) : null),
    );
  });
  replace(
    el,
    h(
      "p",
      { class: "muted plotted" },
      `${lines.length} series · step ${durationText(step)}`,
      lines.length > MAX_LINES ? ` · the first ${MAX_LINES} plotted` : "",
    ),
    chart,
    table(["Series", "Last", "Min", "Max"], rows, { class: "grid promql-legend" }),
  );
  return lineChart(chart, {
    xs,
    series: series.map((s, i) => ({ ...s, colour: seriesColour(i) })),
    format: number,
    legend: false,
  });
}

/** An instant query's result in `el`, as of `at` (Unix seconds). */
export function instantResult(el, data, { format, at }) {
  const when = `at ${timestamp(at * 1000)}`;
  const { resultType: kind, result } = data;
  let rows;
  let headers = ["Series", "Value"];
  if (kind === "scalar" || kind === "string") {
    rows = [h("tr", { class: "promql-series" }, h("td", { class: "legend" }, kind), valueCell(result[1]))];
  } else if (kind === "matrix") {
    headers = ["Series", "Samples"];
    rows = result.map((s) =>
      h(
        "tr",
        { class: "promql-series" },
        h("td", { class: "legend", title: seriesName(s.metric) }, legend(s.metric, format)),
        h("td", { class: "samples" }, s.values.map(([t, v]) => h("div", null, h("span", { class: "num", dataset: { value: v } }, v), h("span", { class: "muted" }, ` @ ${timestamp(t * 1000)}`)))),
      ),
    );
  } else {
    rows = result.map((s) =>
      h("tr", { class: "promql-series" }, h("td", { class: "legend", title: seriesName(s.metric) }, legend(s.metric, format)), valueCell(s.value[1])),
    );
  }
  if (!rows.length) {
    replace(el, noSeries(when));
    return;
  }
  const count = kind === "scalar" || kind === "string" ? `a ${kind}` : `${rows.length} series`;
  replace(el, h("p", { class: "muted plotted" }, `${count} ${when}`), table(headers, rows, { class: "grid promql-table" }));
}

// A sample's value: shown rounded, kept exact in data-value.
function valueCell(text) {
  if (text === null) return h("td", { class: "num" }, "–");
  const value = sampleValue(text);
  return h("td", { class: "num", dataset: { value: text } }, Number.isFinite(value) ? number(value) : text);
}

function noSeries(when) {
  return h("div", { class: "empty-result" }, h("strong", null, "No series"), ` — the expression selects nothing ${when}.`);
}
