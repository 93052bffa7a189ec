"""The values PromQL computes with, held as arrays over the steps of one evaluation.

An evaluation runs an expression at every step of a grid at once (an instant query is a
grid of one step): a scalar is one number per step, an instant vector is a matrix of
series x steps with a mask of where each series has a sample, and a range vector is, per
series, its samples in time order with the window each step reads. Functions and
operators work on whole arrays, never sample by sample in Python.

Times are Unix milliseconds (``int64``), as Prometheus keeps them.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from otelite.errors import InvalidRequest

__all__ = [
    "NAME",
    "Floats",
    "Labels",
    "Matrix",
    "QueryError",
    "QueryTimeout",
    "SampleSeries",
    "Scalar",
    "String",
    "Times",
    "Value",
    "Vector",
    "bounds",
    "drop_name",
    "format_labels",
    "format_value",
    "labels_of",
    "merge_same_labels",
    "numbers",
    "same_values",
]

NAME = "__name__"

Labels: TypeAlias = tuple[tuple[str, str], ...]
"""A label set: (name, value) pairs sorted by name, without empty values."""
Floats: TypeAlias = npt.NDArray[np.float64]
Times: TypeAlias = npt.NDArray[np.int64]


class QueryError(InvalidRequest):
    """A query that parsed but cannot be answered as asked (Prometheus's ``execution``
    error): duplicate series, a many-to-many match, a limit exceeded."""


class QueryTimeout(QueryError):
    """A query that ran past its time (Prometheus's ``timeout`` error)."""


def labels_of(values: Mapping[str, str]) -> Labels:
    """The label set of a mapping, empty values left out (Prometheus has none)."""
    return tuple(sorted((k, v) for k, v in values.items() if v != ""))


def drop_name(labels: Labels) -> Labels:
    return tuple(item for item in labels if item[0] != NAME)


@dataclass(frozen=True, slots=True)
class SampleSeries:
    """One series' samples in time order."""

    labels: Labels
    times: Times
    values: Floats


@dataclass(frozen=True, slots=True)
class Scalar:
    """A number per step."""

    values: Floats


@dataclass(frozen=True, slots=True)
class String:
    value: str


@dataclass(slots=True)
class Vector:
    """Series x steps: ``values[i, j]`` is series ``i`` at step ``j`` where
    ``present[i, j]``; elsewhere the series has no sample at that step."""

    labels: list[Labels]
    values: Floats
    present: npt.NDArray[np.bool_]

    @classmethod
    def empty(cls, steps: int) -> Vector:
        return cls([], np.zeros((0, steps)), np.zeros((0, steps), dtype=bool))

    @classmethod
    def of(cls, labels: list[Labels], values: Floats, present: npt.NDArray[np.bool_]) -> Vector:
        """A vector without its series that have no sample at any step."""
        keep: npt.NDArray[np.bool_] = np.asarray(present.any(axis=1))
        if keep.all():
            return cls(labels, values, present)
        return cls(
            [lb for lb, k in zip(labels, keep, strict=True) if k], values[keep], present[keep]
        )

    @property
    def steps(self) -> int:
        return int(self.values.shape[1])


@dataclass(frozen=True, slots=True)
class Matrix:
    """A range vector: series' samples packed one series after another (series ``i``'s
    are ``[offsets[i], offsets[i + 1])``, in time order), and the window ``(end - range,
    end]`` each step reads, ``end`` being the step's time moved by ``offset`` (or pinned by
    ``@``). Packed, every series' windows are found and computed at once."""

    labels: list[Labels]
    times: Times = field(repr=False)
    values: Floats = field(repr=False)
    offsets: npt.NDArray[np.intp] = field(repr=False)
    range_ms: int
    ends: Times = field(repr=False)
    """The end of each step's window (after ``offset`` and ``@``)."""

    @classmethod
    def pack(cls, series: Sequence[SampleSeries], range_ms: int, ends: Times) -> Matrix:
        lengths = [len(s.times) for s in series]
        offsets = np.concatenate(([0], np.cumsum(lengths, dtype=np.intp))).astype(np.intp)
        times = np.concatenate([s.times for s in series]) if series else np.zeros(0, np.int64)
        values = np.concatenate([s.values for s in series]) if series else np.zeros(0)
        return cls([s.labels for s in series], times, values, offsets, range_ms, ends)

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, rows: Sequence[int]) -> Matrix:
        """The matrix of some of its series (in the order given)."""
        if len(rows) == len(self.labels):
            return self
        return Matrix.pack([self.series(row) for row in rows], self.range_ms, self.ends)

    def all_series(self) -> list[SampleSeries]:
        """Every series' samples, in row order (views, not copies)."""
        return [self.series(row) for row in range(len(self.labels))]

    def series(self, row: int) -> SampleSeries:
        """One series' samples (views, not copies)."""
        part = slice(self.offsets[row], self.offsets[row + 1])
        return SampleSeries(self.labels[row], self.times[part], self.values[part])

    def windows(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """For each series and step, its samples in the step's window: ``[lo, hi)``, as
        positions in ``times`` and ``values`` (series x steps)."""
        return bounds(self.offsets, self.times, self.ends - self.range_ms, self.ends)


def bounds(
    offsets: npt.NDArray[np.intp], times: Times, after: Times, upto: Times
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """For packed series (``offsets``, ``times``) and each step ``j``, the positions of
    each series' samples in ``(after[j], upto[j]]``: ``[lo, hi)``, series x steps.

    One search for all series: each time is keyed by its series, ``row * width + time``,
    with ``width`` wider than every time involved, so the keys ascend across the packed
    array and a step's bound within series ``row`` is a search for its own key."""
    rows = len(offsets) - 1
    if rows <= 0 or not len(times):
        empty = np.broadcast_to(offsets[:-1, None], (max(rows, 0), len(upto)))
        return empty.copy(), empty.copy()
    base = min(int(times.min()), int(after.min()))
    width = max(int(times.max()), int(upto.max())) - base + 2
    series_of = np.repeat(np.arange(rows, dtype=np.int64), np.diff(offsets))
    keys = series_of * width + (times - base)
    starts = (np.arange(rows, dtype=np.int64) * width)[:, None]
    # A window's start is often another's end (a range that is a multiple of the step):
    # each distinct edge is searched for once.
    edges, which = np.unique(np.concatenate([after, upto]), return_inverse=True)
    found = np.searchsorted(keys, starts + (edges - base)[None, :], side="right")
    lo, hi = found[:, which[: len(after)]], found[:, which[len(after) :]]
    return lo.astype(np.intp), hi.astype(np.intp)


Value: TypeAlias = Scalar | Vector | Matrix | String


def same_values(x: Floats, y: Floats) -> npt.NDArray[np.bool_]:
    """Where two arrays hold the same value, NaN the same as NaN: whether a sample is
    another's again, as ``changes`` and histograms' ``==`` ask."""
    return np.asarray((x == y) | (np.isnan(x) & np.isnan(y)))


def merge_same_labels(vector: Vector) -> Vector:
    """Rows with equal label sets made one: a series that a function or an operator
    gives the same labels as another is one series, unless both have a sample at the
    same step, which Prometheus refuses."""
    index: dict[Labels, list[int]] = {}
    for row, labels in enumerate(vector.labels):
        index.setdefault(labels, []).append(row)
    if len(index) == len(vector.labels):
        return vector
    labels_out, values, present = [], [], []
    for labels, rows in index.items():
        if len(rows) > 1 and (vector.present[rows].sum(axis=0) > 1).any():
            raise QueryError(
                "vector cannot contain metrics with the same labelset: " + format_labels(labels)
            )
        mask = vector.present[rows]
        labels_out.append(labels)
        values.append(np.where(mask, vector.values[rows], 0.0).sum(axis=0))
        present.append(mask.any(axis=0))
    return Vector(labels_out, np.array(values), np.array(present))


def format_labels(labels: Labels) -> str:
    """A label set as PromQL writes one: ``{a="1", b="2"}``."""
    name = dict(labels).get(NAME, "")
    inner = ", ".join(f'{k}="{v}"' for k, v in labels if k != NAME)
    return f"{name}{{{inner}}}"


def format_value(value: float) -> str:
    """A sample value as Prometheus's JSON writes it (Go's shortest ``'f'`` form)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    text = format(decimal.Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def numbers(column: pa.Array | pa.ChunkedArray, dtype: type | None = None) -> np.ndarray:
    """A column's values as a numpy array (of ``dtype``)."""
    found = np.asarray(column.to_numpy(zero_copy_only=False))
    return found if dtype is None else found.astype(dtype)
