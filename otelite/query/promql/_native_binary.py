"""Binary operators where native histograms (``_native``) take part.

``_binary`` matches the series of two operands; here a native histogram is one operand
item, however many parts it travels as (:class:`Operand`), and a matched pair with a
histogram in it is computed (:func:`histogram_pair`). As Prometheus 3
(``vectorElemBinop`` in ``promql/engine.go``):

- ``h + h`` and ``h - h``: part by part. Parts of different scales or zero thresholds
  stay side by side until the histogram is read, which reduces them to the smaller
  scale and the wider threshold, as ``sum`` does; a difference may have negative counts;
- ``h * f``, ``f * h`` and ``h / f`` (``f`` a float sample or a scalar): every part
  scaled; dividing by 0 leaves no buckets (the count, the sum and the zero bucket
  become infinite, or NaN where they were 0);
- ``h == h`` and ``h != h``: whether the two are the same histogram: scale, zero
  threshold, count, sum and every bucket (NaN equal to NaN). The left one is kept, or
  1 or 0 with ``bool``. Unlike Prometheus, a bucket held empty and a bucket not held
  are the same here: otelite does not keep empty buckets apart;
- anything else with a histogram in it (``h * h``, ``f / h``, ``+``, ``-``, ``%``, ``^``
  and ``atan2`` with a float, every comparison with a float, ``bool`` or not) answers
  nothing for that pair. Prometheus drops it too, with an info annotation that otelite
  does not send.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from otelite.query.promql._native import (
    PART,
    Histograms,
    fold_histograms,
    histogram_groups,
    histogram_present,
    part_of,
    split_histograms,
)
from otelite.query.promql._series import (
    Floats,
    Labels,
    Vector,
    drop_name,
    merge_same_labels,
    same_values,
)

__all__ = ["Operand", "histogram_pair", "operand", "scaled"]

_Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Operand:
    """A vector as binary operators match it: ``items`` has a row per float series
    (the first ``floats`` rows) and then one per native histogram, under its own labels
    and present where the histogram is; ``members[k]`` are the rows in ``parts`` of
    histogram item ``floats + k``."""

    items: Vector
    floats: int
    parts: Vector
    members: list[list[int]]

    def is_histogram(self, item: int) -> bool:
        return item >= self.floats

    def histogram(self, item: int) -> Vector:
        """The parts of a histogram item."""
        rows = self.members[item - self.floats]
        return Vector(
            [self.parts.labels[r] for r in rows], self.parts.values[rows], self.parts.present[rows]
        )


def operand(vector: Vector) -> Operand:
    """The vector as an operand: its float series, then its native histograms."""
    floats, parts = split_histograms(vector)
    groups = histogram_groups(parts)
    if not groups:
        return Operand(floats, len(floats.labels), parts, [])
    present = [histogram_present(parts, members) for members in groups.values()]
    items = Vector(
        [*floats.labels, *groups],
        np.concatenate([floats.values, np.full((len(groups), vector.steps), np.nan)]),
        np.concatenate([floats.present, np.array(present)]),
    )
    members = [[row for row, _ in found] for found in groups.values()]
    return Operand(items, len(floats.labels), parts, members)


def histogram_pair(
    op: str,
    left: Operand,
    left_item: int,
    right: Operand,
    right_item: int,
    here: _Bools,
    labels: Labels,
    *,
    return_bool: bool,
) -> Vector | None:
    """``left_item op right_item`` at the steps ``here`` (where they are matched), one
    of them a histogram, under ``labels`` (a histogram's parts under ``labels`` and
    their own part); None where the operator does not apply to them."""
    on_left, on_right = left.is_histogram(left_item), right.is_histogram(right_item)
    if on_left and on_right:
        first, second = left.histogram(left_item), right.histogram(right_item)
        if op in ("+", "-"):
            return _combined(first, second, -1.0 if op == "-" else 1.0, here, labels)
        if op in ("==", "!="):
            (a,), (b,) = fold_histograms(first), fold_histograms(second)
            equal = _equal(a, b)
            kept = here & (equal if op == "==" else ~equal)
            if return_bool:
                return Vector([labels], kept.astype(np.float64)[None, :], here[None, :])
            return _relabelled(first, kept, labels)
        return None
    if on_left and op in ("*", "/"):
        parts = _relabelled(left.histogram(left_item), here, labels)
        return scaled(parts, right.items.values[right_item], divide=op == "/")
    if on_right and op == "*":
        parts = _relabelled(right.histogram(right_item), here, labels)
        return scaled(parts, left.items.values[left_item], divide=False)
    return None


def scaled(parts: Vector, factor: Floats, *, divide: bool) -> Vector:
    """Histogram parts times ``factor`` (a number per step), or over it when ``divide``,
    the metric name dropped."""
    with np.errstate(all="ignore"):
        values = parts.values / factor if divide else parts.values * factor
    if divide:
        # Prometheus keeps no buckets of a histogram divided by 0.
        bucket = np.array([_is_bucket(labels) for labels in parts.labels], dtype=bool)
        values = np.where(bucket[:, None] & (factor == 0), 0.0, values)
    labels = [drop_name(labels) for labels in parts.labels]
    return merge_same_labels(Vector(labels, values, parts.present))


def _is_bucket(labels: Labels) -> bool:
    part = part_of(labels)
    return part is not None and part.kind in "+-"


def _with_part(labels: Labels, part: Labels) -> Labels:
    return tuple(sorted((*labels, *((k, v) for k, v in part if k == PART))))


def _relabelled(parts: Vector, present: _Bools, labels: Labels) -> Vector:
    """A histogram's parts under ``labels``, at the steps ``present`` only."""
    return Vector(
        [_with_part(labels, lb) for lb in parts.labels],
        parts.values,
        parts.present & present[None, :],
    )


def _combined(first: Vector, second: Vector, sign: float, here: _Bools, labels: Labels) -> Vector:
    """Two histograms' parts added (``sign`` -1: the second's subtracted), a part
    either has on its own kept as it is (less it)."""
    values: dict[Labels, Floats] = {}
    present: dict[Labels, _Bools] = {}
    for parts, factor in ((first, 1.0), (second, sign)):
        for row, part in enumerate(parts.labels):
            key = _with_part(labels, part)
            there = parts.present[row]
            added = np.where(there, factor * parts.values[row], 0.0)
            values[key] = values[key] + added if key in values else added
            present[key] = present[key] | there if key in present else there
    keys = list(values)
    return Vector(
        keys,
        np.array([values[k] for k in keys]),
        np.array([present[k] & here for k in keys]),
    )


def _equal(a: Histograms, b: Histograms) -> _Bools:
    """Where two histograms are the same, step by step."""
    found: _Bools = (a.scale == b.scale) & same_values(a.zero_threshold, b.zero_threshold)
    for x, y in ((a.count, b.count), (a.sum, b.sum), (a.zero_count, b.zero_count)):
        found &= same_values(x, y)
    low = min(a.offset, b.offset)
    size = max(a.offset + len(a.positive), b.offset + len(b.positive)) - low
    for x, y in ((a.positive, b.positive), (a.negative, b.negative)):
        aligned = _placed(x, a.offset - low, size), _placed(y, b.offset - low, size)
        found &= same_values(*aligned).all(axis=0)
    return found


def _placed(rows: Floats, at: int, size: int) -> Floats:
    """Bucket rows moved ``at`` rows down in ``size`` rows of zeros."""
    grid = np.zeros((size, rows.shape[1]))
    grid[at : at + len(rows)] = rows
    return grid
