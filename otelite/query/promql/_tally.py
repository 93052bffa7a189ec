"""Counts per label set and step, from the database's grouped rows, as arrays.

A grouped result has a row per step, label set (and latency bucket) with its counts.
Its label columns are numbered (dictionary encoding) and their numbers combined into one
label set number per row; each row's label set, step (and bucket) then make a flat index
into arrays of label sets x steps (x buckets), and the counts add up there in one
``np.bincount`` each. The work in Python is per label set, never per row, so the
counts of a long range at a fine step cost array operations only.

``running`` turns the counts per step into counters at the end of each step: the day's
counts so far, a counter starting again at zero each midnight (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from otelite.query.promql._series import numbers

__all__ = ["DAY_MS", "LabelSet", "Tally", "running", "tally"]

DAY_MS = 86_400_000
_NS_PER_MS = 1_000_000

LabelSet = tuple[tuple[str, str], ...]


@dataclass(slots=True)
class Tally:
    """Counts per label set and step (and, for histograms, latency bucket), in arrays
    named by what they count; ``labels[i]`` labels row ``i`` of each (empty values left
    out)."""

    labels: list[LabelSet]
    arrays: dict[str, np.ndarray]

    def aligned(self, keys: list[LabelSet]) -> dict[str, np.ndarray]:
        """The arrays with a row per one of ``keys`` (zeros for those not counted)."""
        where = {key: n for n, key in enumerate(keys)}
        rows = np.array([where[key] for key in self.labels], dtype=np.intp)
        out = {}
        for name, array in self.arrays.items():
            found = np.zeros((len(keys), *array.shape[1:]))
            found[rows] = array
            out[name] = found
        return out


def tally(
    labels: dict[str, pa.Array | pa.ChunkedArray],
    bucket_ns: pa.Array | pa.ChunkedArray,
    start_ms: int,
    step_ms: int,
    steps: int,
    counts: dict[str, tuple[np.ndarray, np.ndarray | None]],
    width: int,
) -> Tally:
    """The ``counts`` of grouped rows added up per label set and step.

    ``labels`` are the rows' label values by label name (strings; null or empty: no such
    label), ``bucket_ns`` each row's step start; rows outside the ``steps`` from
    ``start_ms`` are left out. Each of ``counts`` is the rows' values and, for a
    histogram, their bucket in ``range(width)`` (None: a count per step)."""
    step = (numbers(bucket_ns, np.int64) // _NS_PER_MS - start_ms) // step_ms
    inside = (step >= 0) & (step < steps)
    sets, codes = _label_sets(labels, inside)
    step = step[inside]
    arrays = {}
    for name, (values, bucket) in counts.items():
        weights = np.nan_to_num(values[inside].astype(np.float64), nan=0.0)
        flat = codes * steps + step
        shape: tuple[int, ...] = (len(sets), steps)
        if bucket is not None:
            flat = flat * width + bucket[inside]
            shape = (*shape, width)
        size = int(np.prod(shape))
        arrays[name] = np.bincount(flat, weights, minlength=size).reshape(shape)
    return Tally(sets, arrays)


def _label_sets(
    labels: dict[str, pa.Array | pa.ChunkedArray], inside: np.ndarray
) -> tuple[list[LabelSet], np.ndarray]:
    """Each distinct label set among the rows ``inside``, and each such row's number of
    it."""
    names = sorted(labels)
    code = np.zeros(int(inside.sum()), dtype=np.int64)
    columns: list[tuple[list[str], np.ndarray]] = []
    for name in names:
        column = labels[name]
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if not pa.types.is_string(column.type):  # a dictionary's, or a large one
            column = column.cast(pa.string())
        encoded = pc.dictionary_encode(column.fill_null(""))
        values = [str(v) for v in encoded.dictionary.to_pylist()]
        own = numbers(encoded.indices, np.int64)[inside]
        columns.append((values, own))
        # Numbered densely again, so that the next combination cannot overflow.
        code = np.unique(code * max(len(values), 1) + own, return_inverse=True)[1]
    _, firsts, code = np.unique(code, return_index=True, return_inverse=True)
    sets = [
        tuple(
            (name, values[own[first]])
            for name, (values, own) in zip(names, columns, strict=True)
            if values[own[first]] != ""
        )
        for first in firsts.tolist()
    ]
    return sets, code.astype(np.int64).reshape(-1)


def running(
    before: Tally, during: Tally, first: int, step_ms: int, steps: int
) -> tuple[list[LabelSet], dict[str, np.ndarray]]:
    """The counters at the end of each of ``steps`` from ``first``: the counts of
    ``during`` so far that day, and ``before`` (the day's counts up to ``first``) added
    while it is that day. A step never straddles midnight."""
    # In label order, so that a query's series (and sums over them) come out the same
    # whatever order the database grouped its rows in.
    keys = sorted({*before.labels, *during.labels})
    ends = first + (np.arange(steps, dtype=np.int64) + 1) * step_ms
    day = (ends - 1) // DAY_MS
    opening = np.concatenate(([True], day[1:] != day[:-1]))
    restart = np.maximum.accumulate(np.where(opening, np.arange(steps), 0))
    same_day = day == day[0]
    arrays = {}
    earlier = before.aligned(keys)
    for name, array in during.aligned(keys).items():
        total = np.cumsum(array, axis=1)
        previous = np.concatenate((np.zeros_like(total[:, :1]), total[:, :-1]), axis=1)
        counter = total - previous[:, restart]
        counter[:, same_day] += earlier[name][:, :1]
        arrays[name] = counter
    return keys, arrays
