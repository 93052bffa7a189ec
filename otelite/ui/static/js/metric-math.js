// Turning metric points into plottable lines: rates for monotonic sums, values for gauges,
// quantiles for histograms (explicit and exponential) and summaries.

const QUANTILES = [0.5, 0.95, 0.99];

const seconds = (ns) => Number(BigInt(ns) / 1000000n) / 1000;

// AggregationTemporality, as the API returns it per series (the OTLP enum).
const DELTA = 1;
const CUMULATIVE = 2;

/** How a sum series is plotted: "rate" for monotonic sums, "value" for the others. */
export function sumMode(series) {
  const known = series.aggregationTemporality === DELTA || series.aggregationTemporality === CUMULATIVE;
  return series.isMonotonic && known ? "rate" : "value";
}

/** What a series is, in words: "cumulative, monotonic", "delta", ... ("" for gauges). */
export function describeKind(series) {
  const temporality = { [DELTA]: "delta", [CUMULATIVE]: "cumulative" }[series.aggregationTemporality];
  if (series.type === "sum") return `${temporality || "unspecified"}, ${series.isMonotonic ? "monotonic" : "not monotonic"}`;
  return temporality || "";
}

/**
 * [[t, y], ...] for a gauge or sum series: values, or for monotonic sums the rate per
 * second of each interval. A cumulative series is differenced point to point; when it
 * restarts (its start time moves or its value drops) the new value is the increase. A
 * delta point's value is divided by its own interval.
 */
export function numberPoints(series) {
  const points = series.points;
  const at = (p) => seconds(p.timeUnixNano);
  if (series.type !== "sum" || sumMode(series) === "value") return points.map((p) => [at(p), Number(p.value)]);
  const out = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const previous = points[i - 1];
    let increase;
    let dt;
    if (series.aggregationTemporality === CUMULATIVE) {
      if (!previous) continue; // the first point only sets the baseline
      const restarted = p.startTimeUnixNano !== previous.startTimeUnixNano || Number(p.value) < Number(previous.value);
      increase = restarted ? Number(p.value) : Number(p.value) - Number(previous.value);
      dt = at(p) - at(previous);
    } else {
      increase = Number(p.value);
      // A delta point covers start → time; without a start, the time since the last point.
      dt = BigInt(p.startTimeUnixNano) > 0n ? at(p) - seconds(p.startTimeUnixNano) : previous ? at(p) - at(previous) : 0;
    }
    if (dt > 0) out.push([at(p), increase / dt]);
  }
  return out;
}

/** A histogram point's buckets as [{lo, hi, count}] (counts as in the point). */
function buckets(point, type) {
  if (type === "histogram") {
    const bounds = point.explicitBounds.map(Number);
    return point.bucketCounts.map((c, i) => ({
      lo: i === 0 ? Math.min(point.min ?? 0, bounds[0] ?? 0) : bounds[i - 1],
      hi: i < bounds.length ? bounds[i] : Math.max(point.max ?? bounds[bounds.length - 1] ?? 0, bounds[bounds.length - 1] ?? 0),
      count: Number(c),
    }));
  }
  const base = 2 ** (2 ** -point.scale);
  const out = [];
  const negative = point.negative || {};
  (negative.bucketCounts || []).forEach((c, k) => {
    const i = (negative.offset || 0) + k;
    out.push({ lo: -(base ** (i + 1)), hi: -(base ** i), count: Number(c) });
  });
  out.reverse();
  if (point.zeroCount) out.push({ lo: 0, hi: 0, count: Number(point.zeroCount) });
  const positive = point.positive || {};
  (positive.bucketCounts || []).forEach((c, k) => {
    const i = (positive.offset || 0) + k;
    out.push({ lo: base ** i, hi: base ** (i + 1), count: Number(c) });
  });
  return out;
}

/**
 * [[t, buckets]] per point: the counts of each interval. Delta points are intervals already;
 * a cumulative series becomes the differences of consecutive points (a restart, when the
 * start time moves or a count drops, starts over); a single point counts since its start.
 */
export function bucketPoints(series) {
  const points = series.points;
  const at = (p) => [seconds(p.timeUnixNano), buckets(p, series.type)];
  if (points.length < 2 || series.aggregationTemporality !== CUMULATIVE) return points.map(at);
  const out = [];
  for (let i = 1; i < points.length; i++) {
    const [t, current] = at(points[i]);
    const previous = buckets(points[i - 1], series.type);
    // By boundaries, not position: an exponential histogram's offset may move.
    const before = new Map(previous.map((b) => [`${b.lo}|${b.hi}`, b.count]));
    const diff = current.map((b) => ({ ...b, count: b.count - (before.get(`${b.lo}|${b.hi}`) ?? 0) }));
    const restarted = points[i].startTimeUnixNano !== points[i - 1].startTimeUnixNano || diff.some((b) => b.count < 0);
    out.push([t, restarted ? current : diff]);
  }
  return out;
}

/** Sum bucket lists interval by interval (same boundaries add up). */
export function mergeBuckets(lists) {
  const merged = new Map();
  for (const list of lists) {
    for (const b of list) {
      const key = `${b.lo}|${b.hi}`;
      const at = merged.get(key);
      if (at) at.count += b.count;
      else merged.set(key, { ...b });
    }
  }
  return [...merged.values()].sort((a, b) => a.lo - b.lo || a.hi - b.hi);
}

/** The q-quantile of bucketed counts, interpolating linearly inside the bucket. */
export function quantile(list, q) {
  const total = list.reduce((n, b) => n + b.count, 0);
  if (!total) return null;
  const rank = q * total;
  let seen = 0;
  for (const b of list) {
    if (b.count && seen + b.count >= rank) {
      return b.lo + ((b.hi - b.lo) * (rank - seen)) / b.count;
    }
    seen += b.count;
  }
  return list[list.length - 1].hi;
}

export { QUANTILES };

/** Summary points → {q: [[t, value]]} for the quantiles the points carry. */
export function summaryPoints(series) {
  const out = new Map();
  for (const p of series.points) {
    for (const qv of p.quantileValues) {
      if (!out.has(qv.quantile)) out.set(qv.quantile, []);
      out.get(qv.quantile).push([seconds(p.timeUnixNano), Number(qv.value)]);
    }
  }
  return out;
}

/** Align lines ([{label, points: [[t, y]]}]) on one x axis: {xs, series: [{label, values}]}. */
export function align(lines) {
  const xs = [...new Set(lines.flatMap((l) => l.points.map(([t]) => t)))].sort((a, b) => a - b);
  const index = new Map(xs.map((t, i) => [t, i]));
  return {
    xs,
    series: lines.map((l) => {
      const values = new Array(xs.length).fill(null);
      for (const [t, y] of l.points) values[index.get(t)] = Number.isFinite(y) ? y : null;
      return { label: l.label, values };
    }),
  };
}
