"""Stored OTLP exponential histograms as native histogram series (see ``_native``).

Each stored series of an exponential histogram becomes one native histogram series,
named after its metric's family (``_names``: no ``_bucket``, no ``_total``). As in
Prometheus, it has no classic ``_count`` or ``_sum`` series: ``histogram_count`` and
``histogram_sum`` read them.

Its points are read in one pass over arrays, all series at once:

- a scale above Prometheus's finest (8) is reduced to 8, as Prometheus's OTLP receiver
  does; then every point of a series is reduced to the smallest scale the series has in
  the time read, so that its buckets keep one meaning from point to point (a bucket
  ``i`` at scale ``s`` is bucket ``i >> k`` at scale ``s - k``);
- the zero bucket takes the widest threshold of the series' points, and buckets wholly
  inside it are counted in it;
- an absent sum is 0, as Prometheus's receiver writes it;
- delta points add up to the running totals a cumulative series would have reported;
- a point flagged "no recorded value" is a staleness marker.

Each bucket a series has at any point becomes a part with a value at every point (0
where the point does not have it), so the parts of a series share their times.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from otelite.query.promql._native import MAX_SCALE, PART, Part
from otelite.query.promql._selection import RawSeries
from otelite.query.promql._series import NAME, Labels, labels_of

__all__ = ["COLUMNS", "native_series"]

COLUMNS = (
    "Count",
    "Sum",
    "Scale",
    "ZeroCount",
    "ZeroThreshold",
    "PositiveOffset",
    "PositiveBucketCounts",
    "NegativeOffset",
    "NegativeBucketCounts",
)
"""The columns of the exponential histogram table that samples are made of."""

_Ints = npt.NDArray[np.int64]


class _Identity(Protocol):
    @property
    def labels(self) -> Labels: ...

    @property
    def delta(self) -> bool: ...


def native_series(
    points: pa.Table,
    identities: Mapping[int, _Identity],
    name: str,
    hashes: npt.NDArray[np.uint64],
    times: npt.NDArray[np.int64],
    stale: npt.NDArray[np.bool_],
) -> Iterable[RawSeries]:
    """The parts of each stored series' native histogram; ``points`` are in series and
    time order, ``hashes``, ``times`` and ``stale`` their series, times (ms) and
    staleness markers."""
    if not len(hashes):
        return
    starts = np.flatnonzero(np.concatenate(([True], hashes[1:] != hashes[:-1])))
    lengths = np.diff(np.append(starts, len(hashes)))
    series = np.repeat(np.arange(len(starts)), lengths)
    scale = np.minimum(_numbers(points, "Scale", 0).astype(np.int64), MAX_SCALE)
    # A staleness marker's scale means nothing.
    lowest = np.minimum.reduceat(np.where(stale, MAX_SCALE, scale), starts)
    threshold = np.maximum.reduceat(_numbers(points, "ZeroThreshold", 0.0), starts)
    zero = _numbers(points, "ZeroCount", 0.0)
    keys, point_of, counts = [], [], []
    for sign, side in ((0, "Positive"), (1, "Negative")):
        point, index, count = _buckets(points, side)
        owner = series[point]
        index = np.right_shift(index, np.maximum(scale[point] - lowest[owner], 0))
        # Buckets wholly inside the zero bucket are counted in it.
        upper = np.exp2((index + 1) * np.exp2(-lowest[owner].astype(np.float64)))
        inside = upper <= threshold[owner]
        np.add.at(zero, point[inside], count[inside])
        keep = ~inside
        keys.append(np.stack([owner[keep], np.full(int(keep.sum()), sign), index[keep]]))
        point_of.append(point[keep])
        counts.append(count[keep])
    key = np.concatenate(keys, axis=1)
    point = np.concatenate(point_of)
    # One part per (series, sign, index) with a value at each point of its series.
    parts, part = np.unique(key, axis=1, return_inverse=True)
    part = part.reshape(-1)
    first = np.concatenate(([0], np.cumsum(lengths[parts[0]])))
    grid = np.zeros(int(first[-1]))
    np.add.at(grid, first[part] + point - starts[series[point]], np.concatenate(counts))
    totals = [
        ("count", _numbers(points, "Count", 0.0)),
        ("sum", _numbers(points, "Sum", 0.0)),
    ]
    of_series: dict[int, list[int]] = {}
    for p, s in enumerate(parts[0].tolist()):
        of_series.setdefault(s, []).append(p)
    for s, begin in enumerate(starts.tolist()):
        found = identities.get(int(hashes[begin]))
        if found is None:
            continue
        end = begin + int(lengths[s])
        values = [(label, column[begin:end]) for label, column in totals]
        values.append((Part("zero", threshold=float(threshold[s])).label, zero[begin:end]))
        for p in of_series.get(s, []):
            kind = "-" if parts[1, p] else "+"
            label = Part(kind, int(lowest[s]), int(parts[2, p])).label
            values.append((label, grid[first[p] : first[p + 1]]))
        for label, v in values:
            labels = labels_of({**dict(found.labels), NAME: name, PART: label})
            yield RawSeries(
                labels, times[begin:end], np.cumsum(v) if found.delta else v, stale[begin:end]
            )


def _numbers(points: pa.Table, column: str, empty: float) -> npt.NDArray[np.float64]:
    found = pc.cast(points.column(column), pa.float64()).fill_null(empty)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.float64)


def _buckets(points: pa.Table, side: str) -> tuple[_Ints, _Ints, npt.NDArray[np.float64]]:
    """Each bucket of one side of every point: its point, its index and its count."""
    lists = points.column(f"{side}BucketCounts").combine_chunks()
    lengths = np.asarray(pc.list_value_length(lists).fill_null(0).to_numpy(), dtype=np.int64)
    counts = np.asarray(pc.list_flatten(lists).to_numpy(zero_copy_only=False), dtype=np.float64)
    offsets = _numbers(points, f"{side}Offset", 0.0).astype(np.int64)
    point = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    starts = np.concatenate(([0], np.cumsum(lengths)))[:-1]
    position = np.arange(len(counts), dtype=np.int64) - starts[point]
    return point, offsets[point] + position, counts
