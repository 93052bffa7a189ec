// Charts on uPlot (vendor/uPlot.esm.js): time series, a duration scatter, sparklines.

import uPlot from "../vendor/uPlot.esm.js";
import { h } from "./dom.js";
import { duration, number, timestamp } from "./format.js";

function width(el, fallback = 800) {
  return Math.max(200, el.clientWidth || fallback);
}

// Charts follow their container's width.
function autosize(el, plot) {
  const observer = new ResizeObserver(() => plot.setSize({ width: width(el), height: plot.height }));
  observer.observe(el);
  return () => {
    observer.disconnect();
    plot.destroy();
  };
}

/**
 * Lines over time. `xs`: Unix seconds; `series`: [{label, values, colour}]; `legend`
 * false leaves the legend to the caller; `markers`: [{x: Unix s, label, title, colour}]
 * draws a vertical line with its label at each moment (deploys). Returns a cleanup function.
 */
export function lineChart(el, { xs, series, height = 260, format = number, legend = true, markers = [] }) {
  const plot = new uPlot(
    {
      width: width(el),
      height,
      legend: { show: legend },
      hooks: markerHooks(markers),
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [{}, { values: (u, ticks) => ticks.map((t) => format(t)), size: 70 }],
      series: [
        { value: (u, v) => (v === null ? "–" : timestamp(v * 1000)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.colour,
          width: 1.5,
          spanGaps: true,
          points: { show: xs.length < 60 },
          value: (u, v) => (v === null || v === undefined ? "–" : format(v)),
        })),
      ],
    },
    [xs, ...series.map((s) => s.values)],
    el,
  );
  return autosize(el, plot);
}

// Markers are elements over the plot, not canvas strokes: their labels stay text (to read,
// select and find), and each redraw (a resize, a zoom) moves them to their moment.
function markerHooks(markers) {
  if (!markers.length) return {};
  const els = markers.map((m) =>
    h("div", { class: "chart-marker", title: m.title || m.label, style: { borderColor: m.colour || "#8250df" } }, h("span", null, m.label)),
  );
  return {
    ready: [(u) => u.over.append(...els)],
    draw: [
      (u) =>
        markers.forEach((m, i) => {
          const left = u.valToPos(m.x, "x");
          els[i].style.left = `${left}px`;
          els[i].style.display = left >= 0 && left <= u.over.clientWidth ? "" : "none";
        }),
    ],
  };
}

/**
 * Trace durations over time: one dot per trace, errors in red; clicking a dot calls
 * `onPick(index)` with the index into `points` ([{x: Unix s, y: ms, error: bool}]).
 * With `onSelect`, dragging out an area calls it with {from, to} (Unix s) and {min, max}
 * (ms): the area's times and durations.
 */
export function scatter(el, { points, onPick, onSelect, xRange }) {
  const order = points.map((_, i) => i).sort((a, b) => points[a].x - points[b].x);
  const xs = order.map((i) => points[i].x);
  const ok = order.map((i) => (points[i].error ? null : points[i].y));
  const bad = order.map((i) => (points[i].error ? points[i].y : null));
  const dots = (colour) => ({
    stroke: colour,
    fill: colour,
    paths: () => null,
    points: { show: true, size: 7, stroke: colour, fill: colour },
    value: (u, v) => (v === null ? "–" : duration(v)),
  });
  // A drag ends in a click too: that one picks no dot.
  let dragged = false;
  const plot = new uPlot(
    {
      width: width(el),
      height: 200,
      legend: { show: false },
      cursor: { drag: { x: Boolean(onSelect), y: Boolean(onSelect), setScale: false }, points: { size: 9 } },
      hooks: onSelect ? { setSelect: [(u) => selected(u)] } : {},
      scales: {
        x: { time: true, range: xRange ? () => xRange : undefined },
        y: { distr: 3, range: (u, min, max) => [Math.max(0.001, (min || 1) / 2), (max || 1) * 2] },
      },
      axes: [{}, { values: (u, ticks) => ticks.map((t) => duration(t)), size: 70 }],
      series: [{}, { label: "ok", ...dots("#4e79a7") }, { label: "error", ...dots("#d62728") }],
    },
    [xs, ok, bad],
    el,
  );
  function selected(u) {
    const { left, top, width: w, height: tall } = u.select;
    if (w < 3 || tall < 3) return;
    dragged = true;
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    onSelect({
      from: u.posToVal(left, "x"),
      to: u.posToVal(left + w, "x"),
      min: u.posToVal(top + tall, "y"),
      max: u.posToVal(top, "y"),
    });
  }
  plot.over.addEventListener("mousedown", () => {
    dragged = false;
  });
  // The nearest dot to the pointer, in pixels, within 12 px.
  plot.over.addEventListener("click", (event) => {
    if (dragged) {
      dragged = false;
      return;
    }
    const x = event.offsetX;
    const y = event.offsetY;
    let best = -1;
    let bestDistance = 144;
    for (let k = 0; k < xs.length; k++) {
      const value = ok[k] ?? bad[k];
      const dx = plot.valToPos(xs[k], "x") - x;
      const dy = plot.valToPos(value, "y") - y;
      const d = dx * dx + dy * dy;
      if (d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    if (best >= 0) onPick(order[best]);
  });
  plot.over.classList.add("clickable");
  return autosize(el, plot);
}

/** A small trend line without axes (values may hold nulls). */
export function sparkline(values, { colour = "#4e79a7", width: w = 120, height = 28 } = {}) {
  const el = h("span", { class: "spark" });
  const xs = values.map((_, i) => i);
  new uPlot(
    {
      width: w,
      height,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(max || 0, 1e-9)] } },
      axes: [{ show: false }, { show: false }],
      // Sparse trends show their few points as dots (a line needs two).
      series: [{}, { stroke: colour, width: 1.25, fill: `${colour}22`, spanGaps: true, points: { show: values.filter((v) => v !== null).length < 3, size: 4 } }],
    },
    [xs, values],
    el,
  );
  return el;
}

/**
 * Counts over time as stacked bars. `xs`: the bars' middles in Unix seconds; `series`:
 * [{label, values, colour}], the first at the bottom; `xRange` [from, to] in Unix seconds;
 * dragging across bars calls `onSelect(from, to)`. Returns a cleanup function.
 */
export function stackedBars(el, { xs, series, xRange, onSelect, height = 120 }) {
  // Each drawn series is the sum of those below it and its own, drawn tallest first so
  // that the lower ones paint over it.
  const stacked = [];
  let sums = xs.map(() => 0);
  for (const s of series) {
    sums = sums.map((sum, i) => sum + (s.values[i] || 0));
    stacked.push({ ...s, values: sums.map((sum, i) => (s.values[i] ? sum : null)) });
  }
  const drawn = stacked.reverse();
  const bars = uPlot.paths.bars({ size: [0.9, 40] });
  const plot = new uPlot(
    {
      width: width(el),
      height,
      legend: { show: false },
      cursor: { drag: { x: Boolean(onSelect), y: false }, points: { show: false } },
      scales: { x: { time: true, range: xRange ? () => xRange : undefined }, y: { range: (u, min, max) => [0, Math.max(max || 0, 1)] } },
      axes: [{}, { values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? number(t) : "")), size: 50 }],
      series: [{}, ...drawn.map((s) => ({ label: s.label, fill: s.colour, stroke: s.colour, width: 0, paths: bars, points: { show: false } }))],
      hooks: onSelect
        ? {
            setSelect: [
              (u) => {
                if (u.select.width < 2) return;
                onSelect(u.posToVal(u.select.left, "x"), u.posToVal(u.select.left + u.select.width, "x"));
              },
            ],
          }
        : {},
    },
    [xs, ...drawn.map((s) => s.values)],
    el,
  );
  return autosize(el, plot);
}
