"""PromQL's functions of instant vectors: math, clamping, time parts, label rewriting,
sorting, and ``histogram_quantile`` over classic (``le``) buckets.

All drop the metric name except ``sort``, ``sort_desc``, ``label_replace`` and
``label_join``, as in Prometheus (``promql/functions.go``). The functions of values
leave native histograms out; ``histogram_quantile`` reads them (``_native_ops``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

from otelite.query.promql._native import joined, split_histograms
from otelite.query.promql._native_ops import native_quantile
from otelite.query.promql._series import (
    NAME,
    Floats,
    Labels,
    QueryError,
    Vector,
    drop_name,
    merge_same_labels,
)
from otelite.query.promql._windows import phi_outside

__all__ = [
    "ELEMENTWISE",
    "TIME_PARTS",
    "histogram_quantile",
    "label_join",
    "label_replace",
    "mapped",
    "time_part",
]

ELEMENTWISE: dict[str, Callable[[Floats], Floats]] = {
    "abs": np.abs,
    "ceil": np.ceil,
    "floor": np.floor,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "ln": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "sgn": np.sign,
    "acos": np.arccos,
    "acosh": np.arccosh,
    "asin": np.arcsin,
    "asinh": np.arcsinh,
    "atan": np.arctan,
    "atanh": np.arctanh,
    "cos": np.cos,
    "cosh": np.cosh,
    "sin": np.sin,
    "sinh": np.sinh,
    "tan": np.tan,
    "tanh": np.tanh,
    "deg": np.degrees,
    "rad": np.radians,
}
"""Functions of each value alone."""


def mapped(vector: Vector, function: Callable[[Floats], Floats]) -> Vector:
    """``function`` of every value, the metric name dropped; native histograms are
    left out."""
    vector, _ = split_histograms(vector)
    with np.errstate(all="ignore"):
        values = function(vector.values)
    labels = [drop_name(lb) for lb in vector.labels]
    return merge_same_labels(Vector(labels, values, vector.present))


def _day_of_week(moment: datetime) -> int:
    return (moment.weekday() + 1) % 7  # Sunday is 0


def _days_in_month(moment: datetime) -> int:
    following = moment.replace(day=28) + (moment.replace(day=28) - moment.replace(day=24))
    return int((following.replace(day=1) - moment.replace(day=1)).days)


TIME_PARTS: dict[str, Callable[[datetime], int]] = {
    "minute": lambda m: m.minute,
    "hour": lambda m: m.hour,
    "day_of_week": _day_of_week,
    "day_of_month": lambda m: m.day,
    "day_of_year": lambda m: m.timetuple().tm_yday,
    "days_in_month": _days_in_month,
    "month": lambda m: m.month,
    "year": lambda m: m.year,
}


def time_part(name: str, seconds: Floats) -> Floats:
    """A part of each time (Unix seconds), in UTC; NaN stays NaN."""
    part = TIME_PARTS[name]
    distinct, where = np.unique(seconds, return_inverse=True)
    parts = np.array(
        [
            np.nan if not np.isfinite(s) else float(part(datetime.fromtimestamp(s, UTC)))
            for s in distinct
        ]
    )
    return parts[where].reshape(seconds.shape)


def label_replace(
    vector: Vector, destination: str, replacement: str, source: str, regex: str
) -> Vector:
    """``label_replace``: where ``regex`` matches all of ``source``'s value, set
    ``destination`` to ``replacement`` with ``$1``/``${name}`` expanded."""
    try:
        pattern = re.compile(f"(?:{regex})\\Z", re.DOTALL)
    except re.error as error:
        raise QueryError(f"invalid regular expression in label_replace(): {regex}") from error
    if not _valid_label(destination):
        raise QueryError(f"invalid destination label name in label_replace(): {destination}")
    template = _go_template(replacement)
    labels: list[Labels] = []
    for lb in vector.labels:
        values = dict(lb)
        found = pattern.match(values.get(source, ""))
        if found is not None:
            result = found.expand(template)
            if result:
                values[destination] = result
            else:
                values.pop(destination, None)
        labels.append(tuple(sorted(values.items())))
    return merge_same_labels(Vector(labels, vector.values, vector.present))


def label_join(vector: Vector, destination: str, separator: str, sources: list[str]) -> Vector:
    """``label_join``: ``destination`` set to the ``sources``' values joined."""
    if not _valid_label(destination):
        raise QueryError(f"invalid destination label name in label_join(): {destination}")
    labels: list[Labels] = []
    for lb in vector.labels:
        values = dict(lb)
        joined = separator.join(values.get(s, "") for s in sources)
        if joined:
            values[destination] = joined
        else:
            values.pop(destination, None)
        labels.append(tuple(sorted(values.items())))
    return merge_same_labels(Vector(labels, vector.values, vector.present))


def _valid_label(name: str) -> bool:
    return bool(re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", name))


def _go_template(replacement: str) -> str:
    """Go's ``$1``, ``${1}``, ``$name`` and ``$$`` in Python's ``expand`` syntax."""

    def convert(found: re.Match[str]) -> str:
        if found.group(0) == "$$":
            return "$"
        name = found.group(1) or found.group(2)
        return f"\\g<{name}>"

    escaped = replacement.replace("\\", "\\\\")
    return re.sub(r"\$\$|\$\{(\w+)\}|\$(\w+)", convert, escaped)


def histogram_quantile(phi: Floats, buckets: Vector) -> Vector:
    """The φ-quantile of classic histograms: series that differ only in ``le`` are one
    histogram's cumulative buckets. As Prometheus (``bucketQuantile``): buckets sorted by
    bound, counts forced monotonic, a histogram without a ``+Inf`` bucket is NaN, the
    value interpolated linearly in its bucket (from 0 for the first bucket when its
    bound is positive), and the highest finite bound when it falls in ``+Inf``. Native
    histograms in the vector have theirs too (``native_quantile``)."""
    buckets, native = split_histograms(buckets)
    classic = _classic_quantile(phi, buckets)
    return joined(classic, native_quantile(phi, native))


def _classic_quantile(phi: Floats, buckets: Vector) -> Vector:
    groups: dict[Labels, list[tuple[float, int]]] = {}
    for row, lb in enumerate(buckets.labels):
        values = dict(lb)
        bound_text = values.pop("le", None)
        if bound_text is None:
            continue
        try:
            bound = float(bound_text)
        except ValueError:
            continue
        values.pop(NAME, None)
        groups.setdefault(tuple(sorted(values.items())), []).append((bound, row))
    labels_out, out, present_out = [], [], []
    for key, members in groups.items():
        members.sort()
        bounds = np.array([b for b, _ in members])
        rows = [r for _, r in members]
        present = buckets.present[rows]
        counts = np.where(present, buckets.values[rows], np.nan)
        has = present.any(axis=0)
        labels_out.append(key)
        out.append(_bucket_quantile(phi, bounds, counts, present))
        present_out.append(has)
    if not labels_out:
        return Vector.empty(buckets.steps)
    return Vector.of(labels_out, np.array(out), np.array(present_out))


def _bucket_quantile(phi: Floats, bounds: Floats, counts: Floats, present: np.ndarray) -> Floats:
    """Every step at once where all the buckets are there; one by one where some are
    missing (the quantile then reads the buckets that are)."""
    complete = present.all(axis=0)
    out = _quantiles_complete(phi, bounds, np.nan_to_num(counts, nan=0.0))
    for step in np.flatnonzero(~complete & present.any(axis=0)):
        here = present[:, step]
        out[step] = _one_quantile(float(phi[step]), bounds[here], counts[here, step])
    return out


def _quantiles_complete(phi: Floats, bounds: Floats, counts: Floats) -> Floats:
    steps = counts.shape[1]
    if len(bounds) < 2 or bounds[-1] != np.inf:
        return np.full(steps, np.nan)
    unique, start = np.unique(bounds, return_index=True)
    if len(unique) < len(bounds):  # equal bounds: their counts add up
        counts, bounds = np.add.reduceat(counts, start, axis=0), unique
    counts = np.maximum.accumulate(counts, axis=0)  # counts never go down
    observations = counts[-1]
    with np.errstate(all="ignore"):
        rank = phi * observations
        b = (counts < rank).sum(axis=0)
        columns = np.arange(steps)
        upper = bounds[np.minimum(b, len(bounds) - 1)]
        lower = np.where(b == 0, 0.0, bounds[np.maximum(b - 1, 0)])
        below = np.where(b == 0, 0.0, counts[np.maximum(b - 1, 0), columns])
        inside = counts[np.minimum(b, len(bounds) - 1), columns] - below
        out = lower + (upper - lower) * ((rank - below) / inside)
    out = np.where(b >= len(bounds) - 1, bounds[-2], out)
    out = np.where((b == 0) & (bounds[0] <= 0), bounds[0], out)
    out = np.where(observations == 0, np.nan, out)
    out = np.where(phi < 0, -np.inf, out)
    out = np.where(phi > 1, np.inf, out)
    return np.where(np.isnan(phi), np.nan, out)


def _one_quantile(q: float, bounds: Floats, counts: Floats) -> float:
    outside = phi_outside(q)
    if outside is not None:
        return outside
    if len(bounds) < 2 or bounds[-1] != np.inf:
        return float("nan")
    # Equal bounds are merged (their counts added), as Prometheus's coalesceBuckets.
    unique, start = np.unique(bounds, return_index=True)
    counts = np.add.reduceat(counts, start)
    bounds = unique
    counts = np.maximum.accumulate(np.nan_to_num(counts, nan=0.0))  # ensureMonotonic
    observations = counts[-1]
    if observations == 0:
        return float("nan")
    rank = q * observations
    b = int(np.searchsorted(counts, rank, side="left"))
    if b == len(bounds) - 1:
        return float(bounds[-2])
    if b == 0 and bounds[0] <= 0:
        return float(bounds[0])
    start_bound, end_bound = (0.0, bounds[0]) if b == 0 else (bounds[b - 1], bounds[b])
    count = counts[b] if b == 0 else counts[b] - counts[b - 1]
    below = 0.0 if b == 0 else counts[b - 1]
    return float(start_bound + (end_bound - start_bound) * ((rank - below) / count))
