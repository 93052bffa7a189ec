"""Native histograms, carried through the engine as bundles of float series.

A native histogram series (an OTLP exponential histogram, see ``_native_read``) travels
as several float series with its labels plus a hidden label, :data:`PART`, that says
which part of the histogram each one holds:

- ``count`` and ``sum``: the histogram's count and sum of observations;
- ``zero <threshold>``: the zero bucket's count (observations in ``[-t, t]``);
- ``+<scale> <index>`` and ``-<scale> <index>``: a positive or negative bucket's count.

Indexes are OTLP's: at scale ``s`` the base is ``2^(2^-s)`` and positive bucket ``i``
holds ``(base^i, base^(i+1)]``, negative bucket ``i`` holds ``[-base^(i+1), -base^i)``.

Every part is additive, so what Prometheus does to a histogram as a whole is done to
each part on its own: ``sum by``, ``h + h``, ``h - h``, ``-h``, ``* 2``, ``/ 2``,
subqueries, label functions. What is not additive, the scale and the zero threshold, is
in the hidden label instead of the value, so parts of different scales (or thresholds)
sit side by side until the histogram is read (:func:`fold_histograms`): then, at each
step, buckets are reduced to the smallest scale among those present and the zero bucket
takes the widest threshold, as Prometheus reduces histograms before it adds them. Bucket
parts absent at a step where the histogram is present hold 0.

A histogram is present at a step where its ``count`` part is.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from otelite.query.promql._series import (
    NAME,
    Floats,
    Labels,
    SampleSeries,
    Vector,
    merge_same_labels,
)

__all__ = [
    "MAX_SCALE",
    "PART",
    "Buckets",
    "Histograms",
    "Part",
    "fold_histograms",
    "histogram_groups",
    "histogram_labels",
    "histogram_present",
    "histogram_rows",
    "histogram_samples",
    "is_histogram_part",
    "joined",
    "part_of",
    "per_histogram",
    "split_histograms",
]

PART = "__histogram__"
"""The hidden label naming the part of a native histogram a float series holds."""
MAX_SCALE = 8
"""The finest scale Prometheus keeps (its schema 8); finer histograms are reduced."""

_Ints = npt.NDArray[np.int64]
_Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Part:
    """What one float series of a native histogram holds."""

    kind: str  # "count", "sum", "zero", "+" or "-"
    scale: int = 0
    index: int = 0
    threshold: float = 0.0

    @property
    def label(self) -> str:
        if self.kind in ("count", "sum"):
            return self.kind
        if self.kind == "zero":
            return f"zero {self.threshold!r}"
        return f"{self.kind}{self.scale} {self.index}"

    @staticmethod
    @functools.lru_cache(maxsize=1 << 16)
    def parse(text: str) -> Part:
        if text in ("count", "sum"):
            return Part(text)
        head, _, tail = text.partition(" ")
        if head == "zero":
            return Part("zero", threshold=float(tail))
        return Part(head[0], int(head[1:]), int(tail))


def part_of(labels: Labels) -> Part | None:
    """The part of a native histogram a series holds; None for a float series."""
    for name, value in labels:
        if name == PART:
            return Part.parse(value)
    return None


def is_histogram_part(labels: Labels) -> bool:
    """Whether a series is part of a native histogram."""
    for name, _ in labels:  # sorted: the first name at or after PART decides
        if name >= PART:
            return name == PART
    return False


def histogram_labels(labels: Labels) -> Labels:
    """A part's labels without :data:`PART`: the histogram's own labels."""
    return tuple(item for item in labels if item[0] != PART)


def _rows(vector: Vector, rows: Sequence[int]) -> Vector:
    picked = np.asarray(rows, dtype=np.intp)
    return Vector([vector.labels[r] for r in rows], vector.values[picked], vector.present[picked])


def split_histograms(vector: Vector) -> tuple[Vector, Vector]:
    """The float series of a vector, and the parts of its native histograms."""
    parts = [row for row, labels in enumerate(vector.labels) if is_histogram_part(labels)]
    if not parts:
        return vector, Vector.empty(vector.steps)
    taken = set(parts)
    floats = [row for row in range(len(vector.labels)) if row not in taken]
    return _rows(vector, floats), _rows(vector, parts)


def joined(first: Vector, second: Vector) -> Vector:
    """Two vectors as one (their series must not share a label set at a step)."""
    if not second.labels:
        return first
    if not first.labels:
        return second
    return merge_same_labels(
        Vector(
            [*first.labels, *second.labels],
            np.concatenate([first.values, second.values]),
            np.concatenate([first.present, second.present]),
        )
    )


def histogram_rows(vector: Vector, kind: str, *, keep_name: bool = True) -> Vector:
    """One float series per histogram: its ``kind`` part (``count`` or ``sum``) under
    the histogram's own labels (without the metric name unless ``keep_name``)."""
    rows, labels = [], []
    for row, lb in enumerate(vector.labels):
        part = part_of(lb)
        if part is not None and part.kind == kind:
            rows.append(row)
            own = histogram_labels(lb)
            labels.append(own if keep_name else tuple(i for i in own if i[0] != NAME))
    if not rows:
        return Vector.empty(vector.steps)
    picked = np.asarray(rows, dtype=np.intp)
    return merge_same_labels(Vector(labels, vector.values[picked], vector.present[picked]))


def per_histogram(vector: Vector) -> Vector:
    """The vector with each native histogram one float series (its count's), for
    functions that read only where and when samples are."""
    floats, parts = split_histograms(vector)
    return joined(floats, histogram_rows(parts, "count"))


@dataclass(frozen=True, slots=True)
class Buckets:
    """A histogram's buckets in ascending order, as rows x steps: negative buckets,
    the zero bucket (row ``zero``), positive buckets. ``lower``/``upper`` are each
    bucket's bounds at each step (the zero bucket's already narrowed to ``[0, t]`` or
    ``[-t, 0]`` where only one side has observations, as quantiles read it)."""

    counts: Floats
    lower: Floats
    upper: Floats
    zero: int


@dataclass(frozen=True, slots=True)
class Histograms:
    """One native histogram series at every step of a grid: row ``r`` of ``positive``
    and ``negative`` is bucket index ``offset + r`` at that step's ``scale``."""

    labels: Labels
    present: _Bools
    count: Floats
    sum: Floats
    zero_count: Floats
    zero_threshold: Floats
    scale: _Ints
    offset: int
    positive: Floats
    negative: Floats

    def bounds(self, rows: _Ints) -> tuple[Floats, Floats]:
        """``base^i`` and ``base^(i+1)`` of bucket rows (rows x steps)."""
        index = (self.offset + rows)[:, None].astype(np.float64)
        width = np.exp2(-self.scale.astype(np.float64))[None, :]
        return np.exp2(index * width), np.exp2((index + 1) * width)

    def buckets(self) -> Buckets:
        rows = np.arange(self.positive.shape[0], dtype=np.int64)
        low, high = self.bounds(rows)
        has_negative = (self.negative > 0).any(axis=0)
        has_positive = (self.positive > 0).any(axis=0)
        zero_low = np.where(has_positive & ~has_negative, 0.0, -self.zero_threshold)
        zero_high = np.where(has_negative & ~has_positive, 0.0, self.zero_threshold)
        return Buckets(
            counts=np.concatenate([self.negative[::-1], self.zero_count[None, :], self.positive]),
            lower=np.concatenate([-high[::-1], zero_low[None, :], low]),
            upper=np.concatenate([-low[::-1], zero_high[None, :], high]),
            zero=len(rows),
        )

    def listed(self, step: int) -> list[tuple[int, float, float, float]]:
        """The buckets holding a count at ``step``, in ascending order, each as
        ``(boundary rule, lower, upper, count)``; the rule is Prometheus's: 0 for
        ``(lower, upper]``, 1 for ``[lower, upper)``, 3 for ``[lower, upper]``."""
        rows = np.arange(self.positive.shape[0], dtype=np.int64)
        low, high = self.bounds(rows)
        t = self.zero_threshold[step]
        # As Prometheus lists them: every bucket but the empty ones (a difference of
        # histograms, or a negated one, has negative counts), and the zero bucket only
        # when it counts more than nothing.
        found = [
            (1, float(-high[r, step]), float(-low[r, step]), float(self.negative[r, step]))
            for r in np.flatnonzero(self.negative[:, step] != 0)[::-1]
        ]
        if self.zero_count[step] > 0:
            found.append((3, float(-t), float(t), float(self.zero_count[step])))
        found += [
            (0, float(low[r, step]), float(high[r, step]), float(self.positive[r, step]))
            for r in np.flatnonzero(self.positive[:, step] != 0)
        ]
        return found


def histogram_groups(vector: Vector) -> dict[Labels, list[tuple[int, Part]]]:
    """The native histograms whose parts are the vector's series: each one's labels
    (without :data:`PART`), and the row and the part of each of its series."""
    groups: dict[Labels, list[tuple[int, Part]]] = {}
    for row, labels in enumerate(vector.labels):
        part = part_of(labels)
        if part is not None:
            groups.setdefault(histogram_labels(labels), []).append((row, part))
    return groups


def histogram_present(vector: Vector, members: Sequence[tuple[int, Part]]) -> _Bools:
    """The steps a histogram (its parts' rows and parts) is present at: where its
    ``count`` part is, or any part where it has none."""
    counts = [row for row, part in members if part.kind == "count"]
    rows = counts or [row for row, _ in members]
    return np.asarray(vector.present[rows].any(axis=0))


def fold_histograms(vector: Vector, *, uniform: bool = False) -> list[Histograms]:
    """The native histograms whose parts are the vector's series (float series are
    left out), each reconciled at every step: buckets at the smallest scale present,
    the zero bucket at the widest threshold present, with the buckets now inside it.
    ``uniform``: at the smallest scale and the widest threshold of all steps instead,
    so that a bucket row means the same bucket at every step."""
    return [
        _fold_one(vector, labels, members, uniform)
        for labels, members in histogram_groups(vector).items()
    ]


def _fold_one(
    vector: Vector, labels: Labels, members: list[tuple[int, Part]], uniform: bool
) -> Histograms:
    steps = vector.steps
    values = np.where(vector.present, vector.values, 0.0)

    def total(kind: str) -> Floats:
        rows = [row for row, part in members if part.kind == kind]
        return np.asarray(values[rows].sum(axis=0))

    count, present = total("count"), histogram_present(vector, members)
    summed, zero_count = total("sum"), total("zero")
    threshold = np.zeros(steps)
    for row, part in members:
        if part.kind == "zero":
            widest = np.maximum(threshold, part.threshold)
            threshold = np.where(vector.present[row], widest, threshold)
    if uniform:
        threshold = np.full(steps, threshold.max(initial=0.0))
    buckets = [(row, part) for row, part in members if part.kind in "+-"]
    if not buckets:
        empty = np.zeros((0, steps))
        return Histograms(
            labels, present, count, summed, zero_count, threshold,
            np.zeros(steps, np.int64), 0, empty, empty,
        )  # fmt: skip
    rows = np.array([row for row, _ in buckets], dtype=np.intp)
    scales = np.array([part.scale for _, part in buckets], dtype=np.int64)
    indexes = np.array([part.index for _, part in buckets], dtype=np.int64)
    negative = np.array([part.kind == "-" for _, part in buckets])
    there = vector.present[rows]
    if uniform:
        scale = np.full(steps, scales.min())
    else:  # the smallest scale among the buckets present at each step (any where none is)
        lowest = np.where(there, scales[:, None], np.iinfo(np.int64).max).min(axis=0)
        scale = np.where(there.any(axis=0), lowest, scales.min())
    shift = np.maximum(scales[:, None] - scale[None, :], 0)
    reduced = np.right_shift(indexes[:, None], shift)  # floor(i / 2^shift)
    counts = values[rows]
    offset = int(reduced.min())
    size = int(reduced.max()) - offset + 1
    grid = np.zeros((2, size, steps))
    columns = np.broadcast_to(np.arange(steps), reduced.shape)
    sign = np.broadcast_to(negative[:, None].astype(np.intp), reduced.shape)
    np.add.at(grid, (sign, reduced - offset, columns), counts)
    folded = Histograms(
        labels, present, count, summed, zero_count, threshold, scale, offset, grid[0], grid[1]
    )
    return _widen_zero(folded) if (threshold > 0).any() else folded


def _widen_zero(h: Histograms) -> Histograms:
    """Buckets wholly inside the zero bucket ``[-t, t]`` counted in it."""
    rows = np.arange(h.positive.shape[0], dtype=np.int64)
    _, high = h.bounds(rows)
    inside = high <= h.zero_threshold[None, :]
    moved = np.where(inside, h.positive + h.negative, 0.0).sum(axis=0)
    return Histograms(
        h.labels,
        h.present,
        h.count,
        h.sum,
        h.zero_count + moved,
        h.zero_threshold,
        h.scale,
        h.offset,
        np.where(inside, 0.0, h.positive),
        np.where(inside, 0.0, h.negative),
    )


def histogram_samples(
    series: Sequence[SampleSeries], *, uniform: bool = False
) -> list[tuple[Labels, _Ints, Histograms]]:
    """The native histograms among some series' samples (a range vector's): each with
    the times any of its parts has a sample at and its histogram at each (``uniform``
    as :func:`fold_histograms` has it)."""
    groups: dict[Labels, list[SampleSeries]] = {}
    for one in series:
        if is_histogram_part(one.labels):
            groups.setdefault(histogram_labels(one.labels), []).append(one)
    found = []
    for labels, members in groups.items():
        times = np.unique(np.concatenate([m.times for m in members]))
        values = np.zeros((len(members), len(times)))
        present = np.zeros((len(members), len(times)), dtype=bool)
        for row, member in enumerate(members):
            at = np.searchsorted(times, member.times)
            values[row, at] = member.values
            present[row, at] = True
        parts = Vector([m.labels for m in members], values, present)
        (histogram,) = fold_histograms(parts, uniform=uniform)
        found.append((labels, times, histogram))
    return found
