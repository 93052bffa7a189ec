"""PromQL over native histograms (see ``_native`` for how they are carried).

Functions (Prometheus's semantics, ``promql/functions.go`` and ``quantile.go``):

- ``histogram_count``, ``histogram_sum``, ``histogram_avg``: the count, the sum, their
  ratio; float samples are left out;
- ``histogram_stddev``, ``histogram_stdvar``: the spread of the observations around
  their mean (the sum over the count), each taken to be at its bucket's geometric
  middle, ``±sqrt(lower·upper)``, or at 0 in the zero bucket;
- ``histogram_quantile(φ, h)``: the bucket holding the observation of rank ``φ·count``,
  interpolated in it as Prometheus 3 does for standard exponential buckets:
  exponentially (``lower·(upper/lower)^f``) in a positive or negative bucket, linearly
  in the zero bucket, which counts from 0 when the histogram has observations on one
  side of it only; ±Inf for φ outside [0, 1], NaN for an empty histogram;
- ``histogram_fraction(lower, upper, h)``: the observations up to ``upper`` less those
  up to ``lower``, over the count, each interpolated in its bucket the same way.

Prometheus 3 walks from the top bucket down for φ >= 0.5; that is the same number
computed from the other end, so otelite walks up always.

Range functions are in ``_native_windows``.

Aggregations: ``sum`` and ``avg`` add histograms (``avg`` divides by how many there
are); ``count`` and ``group`` count them with the floats. At a step where a group has
both floats and histograms, ``sum`` and ``avg`` answer nothing for it, as Prometheus.
Every other aggregation and function leaves histograms out, as Prometheus does for most
of them; the operators are in ``_binary`` and ``_native_binary``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from otelite.query.promql._aggregate import aggregate
from otelite.query.promql._native import (
    PART,
    Buckets,
    Histograms,
    fold_histograms,
    histogram_labels,
    histogram_rows,
    joined,
    split_histograms,
)
from otelite.query.promql._series import (
    Floats,
    Vector,
    drop_name,
)

__all__ = [
    "HISTOGRAM_FUNCTIONS",
    "aggregate_all",
    "histogram_fraction",
    "native_quantile",
]

_Bools = npt.NDArray[np.bool_]


def _count(vector: Vector) -> Vector:
    return histogram_rows(vector, "count", keep_name=False)


def _sum(vector: Vector) -> Vector:
    return histogram_rows(vector, "sum", keep_name=False)


def _avg(vector: Vector) -> Vector:
    counts, sums = _count(vector), _sum(vector)
    where = {labels: row for row, labels in enumerate(counts.labels)}
    rows = [where.get(labels, -1) for labels in sums.labels]
    kept = [i for i, row in enumerate(rows) if row >= 0]
    if not kept:
        return Vector.empty(vector.steps)
    count = counts.values[[rows[i] for i in kept]]
    with np.errstate(all="ignore"):
        values = sums.values[kept] / count
    present = sums.present[kept] & counts.present[[rows[i] for i in kept]]
    return Vector.of([sums.labels[i] for i in kept], values, present)


def _each_histogram(vector: Vector, compute: Callable[[Histograms], Floats]) -> Vector:
    """``compute`` of each native histogram of the vector (a value per step), under
    the histogram's labels without the metric name."""
    found = fold_histograms(vector)
    if not found:
        return Vector.empty(vector.steps)
    values = np.array([compute(h) for h in found])
    present = np.array([h.present for h in found])
    return Vector.of([drop_name(h.labels) for h in found], values, present)


def _variance(h: Histograms) -> Floats:
    """The variance of a histogram's observations around their mean (the sum over the
    count), each taken to be at its bucket's middle as Prometheus estimates it for
    exponential buckets: the geometric mean of the bounds (negated below zero), 0 in
    the zero bucket (counted only when it counts more than nothing, as Prometheus)."""
    low, high = h.bounds(np.arange(len(h.positive), dtype=np.int64))
    middle = np.sqrt(low * high)
    with np.errstate(all="ignore"):
        mean = h.sum / h.count
        spread = np.where(h.zero_count > 0, h.zero_count * mean**2, 0.0)
        for counts, at in ((h.positive, middle), (h.negative, -middle)):
            spread = spread + np.where(counts != 0, counts * (at - mean) ** 2, 0.0).sum(axis=0)
        return np.asarray(spread / h.count)


def _stdvar(vector: Vector) -> Vector:
    return _each_histogram(vector, _variance)


def _stddev(vector: Vector) -> Vector:
    return _each_histogram(vector, lambda h: np.sqrt(_variance(h)))


HISTOGRAM_FUNCTIONS: dict[str, Callable[[Vector], Vector]] = {
    "histogram_count": _count,
    "histogram_sum": _sum,
    "histogram_avg": _avg,
    "histogram_stddev": _stddev,
    "histogram_stdvar": _stdvar,
}
"""Functions of one instant vector that read its native histograms."""


def native_quantile(phi: Floats, vector: Vector) -> Vector:
    """``histogram_quantile(φ, vector)`` of the vector's native histograms."""
    return _each_histogram(vector, lambda h: _quantile(phi, h))


def _quantile(phi: Floats, h: Histograms) -> Floats:
    b = h.buckets()
    steps = np.arange(b.counts.shape[1])
    below = np.cumsum(b.counts, axis=0)
    rank = phi * h.count
    filled = b.counts > 0
    hit = filled & (below >= rank[None, :])
    # Past every bucket (a count larger than the buckets hold): the top bucket's bound.
    top = len(b.counts) - 1 - np.argmax(filled[::-1], axis=0)
    row = np.where(hit.any(axis=0), np.argmax(hit, axis=0), top)
    lower, upper = b.lower[row, steps], b.upper[row, steps]
    inside = b.counts[row, steps]
    with np.errstate(all="ignore"):
        fraction = np.clip((rank - (below[row, steps] - inside)) / inside, 0.0, 1.0)
        linear = lower + (upper - lower) * fraction
        log_lower, log_upper = np.log2(np.abs(lower)), np.log2(np.abs(upper))
        rising = np.exp2(log_lower + (log_upper - log_lower) * fraction)
        falling = -np.exp2(log_upper + (log_lower - log_upper) * (1 - fraction))
    out = np.where(row == b.zero, linear, np.where(row > b.zero, rising, falling))
    out = np.where(lower == upper, upper, out)
    out = np.where((h.count == 0) | ~filled.any(axis=0), np.nan, out)
    out = np.where(phi < 0, -np.inf, out)
    out = np.where(phi > 1, np.inf, out)
    return np.where(np.isnan(phi), np.nan, out)


def histogram_fraction(lower: Floats, upper: Floats, vector: Vector) -> Vector:
    """``histogram_fraction(lower, upper, vector)`` of the vector's native histograms."""

    def fraction(h: Histograms) -> Floats:
        b = h.buckets()
        with np.errstate(all="ignore"):
            return np.asarray((_up_to(upper, h, b) - _up_to(lower, h, b)) / h.count)

    return _each_histogram(vector, fraction)


def _up_to(x: Floats, h: Histograms, b: Buckets) -> Floats:
    """How many observations are at most ``x``, interpolated in the bucket ``x`` is in;
    all of them (the count) from the top bucket's upper bound on."""
    at = x[None, :]
    lower, upper = b.lower, b.upper
    with np.errstate(all="ignore"):
        linear = (at - lower) / (upper - lower)
        rising = (np.log2(at) - np.log2(lower)) / (np.log2(upper) - np.log2(lower))
        log_lower, log_upper = np.log2(-lower), np.log2(-upper)
        falling = (log_lower - np.log2(-at)) / (log_lower - log_upper)
    rows = np.arange(len(b.counts))[:, None]
    inside = np.where(rows == b.zero, linear, np.where(rows > b.zero, rising, falling))
    share = np.where(at <= lower, 0.0, np.where(at >= upper, 1.0, inside))
    counted = np.minimum((b.counts * share).sum(axis=0), h.count)
    filled = b.counts > 0
    top = len(b.counts) - 1 - np.argmax(filled[::-1], axis=0)
    highest = np.where(filled.any(axis=0), b.upper[top, np.arange(len(x))], -np.inf)
    return np.where(x >= highest, h.count, counted)


# --- aggregations ---


def aggregate_all(
    op: str,
    vector: Vector,
    names: Sequence[str],
    without: bool,
    parameter: Floats | str | None = None,
) -> Vector:
    """``aggregate`` over floats and native histograms alike (see the module's
    docstring for what each operator does with histograms)."""
    floats, parts = split_histograms(vector)
    if not parts.labels:
        return aggregate(op, vector, names, without, parameter)
    if op in ("count", "group"):
        return aggregate(op, joined(floats, histogram_rows(parts, "count")), names, without)
    on_floats = aggregate(op, floats, names, without, parameter)
    if op not in ("sum", "avg"):
        return on_floats
    summed = aggregate("sum", parts, names if without else [*names, PART], without)
    counts = aggregate("count", histogram_rows(parts, "count"), names, without)
    per_group = {labels: row for row, labels in enumerate(counts.labels)}
    floats_at = {labels: row for row, labels in enumerate(on_floats.labels)}
    group = [histogram_labels(labels) for labels in summed.labels]
    values, present = summed.values, summed.present.copy()
    if op == "avg":
        rows = np.array([per_group[g] for g in group], dtype=np.intp)
        with np.errstate(all="ignore"):
            values = values / counts.values[rows]
    # A group with floats and histograms at a step has no answer there.
    mixed = np.zeros(on_floats.present.shape, dtype=bool)
    for row, g in enumerate(group):
        other = floats_at.get(g)
        if other is not None:
            both = present[row] & on_floats.present[other]
            mixed[other] |= both
            present[row] &= ~both
    kept_floats = Vector.of(on_floats.labels, on_floats.values, on_floats.present & ~mixed)
    return joined(kept_floats, Vector.of(summed.labels, values, present))
