"""PromQL's range functions over native histograms (see ``_native`` for how they are
carried), with Prometheus's semantics (``promql/functions.go``).

``rate``, ``increase`` and ``irate`` read a histogram as one counter: a reset is where
its count, its zero bucket or any bucket drops (the sum may), and then every part starts
over; the window's change is extrapolated to its edges as a float counter's is, without
the limit at zero (Prometheus does not apply it to histograms). ``delta``, ``idelta``,
``sum_over_time``, ``avg_over_time`` and ``last_over_time`` are part by part;
``count_over_time`` and ``present_over_time`` count histograms.

``changes`` counts the samples that differ from the one before (in the count, the sum,
the zero bucket or any bucket), ``resets`` those where a counter reset is, as ``rate``
sees one. Both compare a histogram's samples at one scale and one zero threshold, the
smallest and the widest it has in the time read, as a stored series' points are read
(``_native_read``): unlike Prometheus, a change of scale or threshold alone is not a
change, and a finer scale later is not a reset by itself.

Every other range function leaves histograms out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from otelite.query.promql._native import (
    PART,
    histogram_labels,
    histogram_samples,
    is_histogram_part,
)
from otelite.query.promql._series import (
    Floats,
    Labels,
    Matrix,
    SampleSeries,
    Vector,
    bounds,
    drop_name,
    merge_same_labels,
    same_values,
)
from otelite.query.promql._windows import extrapolated, windowed

__all__ = ["histogram_windows"]

_Bools = npt.NDArray[np.bool_]

_PART_BY_PART = frozenset({"delta", "idelta", "sum_over_time", "avg_over_time", "last_over_time"})
_COUNTING = frozenset({"count_over_time", "present_over_time"})
_COUNTERS = frozenset({"rate", "increase", "irate"})
_PAIRS = frozenset({"changes", "resets"})


def histogram_windows(name: str, matrix: Matrix, *, keep_name: bool) -> Vector:
    """``name(matrix)`` of the matrix's native histograms (empty where ``name`` leaves
    histograms out)."""
    steps = len(matrix.ends)
    rows = [row for row, labels in enumerate(matrix.labels) if is_histogram_part(labels)]
    series = [matrix.series(row) for row in rows]
    if not series:
        return Vector.empty(steps)
    if name in _COUNTING:
        counts = [s for s in series if dict(s.labels)[PART] == "count"]
        return _each(name, matrix, counts, lambda labels: drop_name(histogram_labels(labels)))
    if name in _PART_BY_PART:
        return _each(name, matrix, series, lambda lb: lb if keep_name else drop_name(lb))
    if name in _PAIRS:
        return _each("changes", matrix, _stepped(name, series), drop_name)
    if name not in _COUNTERS:
        return Vector.empty(steps)
    groups: dict[Labels, list[SampleSeries]] = {}
    for one in series:
        groups.setdefault(histogram_labels(one.labels), []).append(one)
    labels: list[Labels] = []
    values: list[Floats] = []
    present: list[_Bools] = []
    for members in groups.values():
        times = members[0].times
        if any(not np.array_equal(m.times, times) for m in members):
            # Parts that do not share their times (a subquery's) are counters apart.
            part = _each(name, matrix, members, drop_name)
            labels += part.labels
            values += list(part.values)
            present += list(part.present)
            continue
        changes, ok = _counter(name, matrix, members)
        labels += [drop_name(m.labels) for m in members]
        values += list(changes)
        present += [ok] * len(members)
    return merge_same_labels(Vector.of(labels, np.array(values), np.array(present)))


def _each(
    name: str,
    matrix: Matrix,
    series: Sequence[SampleSeries],
    relabel: Callable[[Labels], Labels],
) -> Vector:
    if not series:
        return Vector.empty(len(matrix.ends))
    values, present = windowed(name, Matrix.pack(series, matrix.range_ms, matrix.ends))
    return merge_same_labels(Vector.of([relabel(s.labels) for s in series], values, present))


def _counter(name: str, matrix: Matrix, members: list[SampleSeries]) -> tuple[Floats, _Bools]:
    """``rate``, ``increase`` or ``irate`` of one histogram's parts (sharing their
    times), a reset of any part but the sum a reset of all."""
    times = members[0].times
    v = np.array([m.values for m in members])
    watched = np.array([dict(m.labels)[PART] != "sum" for m in members])
    dropped = (v[watched, 1:] < v[watched, :-1]).any(axis=0)
    reset = np.concatenate(([False], dropped))
    lo, hi = (
        positions[0]
        for positions in bounds(
            np.array([0, len(times)], dtype=np.intp),
            times,
            matrix.ends - matrix.range_ms,
            matrix.ends,
        )
    )
    count = hi - lo
    first, last = np.minimum(lo, len(times) - 1), np.maximum(hi - 1, 0)
    if name == "irate":
        previous = np.maximum(hi - 2, 0)
        change = np.where(reset[last], v[:, last], v[:, last] - v[:, previous])
        with np.errstate(divide="ignore", invalid="ignore"):
            seconds = (times[last] - times[previous]) / 1000.0
            return change / seconds, count >= 2
    # A reset at sample k: the value before it was the counter's total then.
    before = np.where(reset[1:], v[:, :-1], 0.0)
    added = np.cumsum(np.concatenate([np.zeros((len(members), 1)), before], axis=1), axis=1)
    change = v[:, last] - v[:, first] + added[:, last] - added[:, first]
    # Without the limit at zero, extrapolating is the same factor for every part.
    factor = extrapolated(
        np.ones(len(lo)), times, matrix.ends, matrix.range_ms, lo, hi, None, name == "rate"
    )
    return change * factor[None, :], count >= 2


def _stepped(name: str, series: Sequence[SampleSeries]) -> list[SampleSeries]:
    """For each histogram among the series, a float series whose ``changes`` are the
    histogram's ``changes`` (or ``resets``, by ``name``): it steps up by one at each
    sample that differs from (or resets) the one before, and stays put elsewhere."""
    found = []
    for labels, times, h in histogram_samples(series, uniform=True):
        at = np.flatnonzero(h.present)
        counts = np.array([h.count, h.zero_count, *h.positive, *h.negative])[:, at]
        before, now = counts[:, :-1], counts[:, 1:]
        if name == "resets":
            hit = (now < before).any(axis=0)
        else:
            sums = h.sum[at]
            hit = ~same_values(now, before).all(axis=0) | ~same_values(sums[1:], sums[:-1])
        steps = np.cumsum(np.concatenate(([0.0], hit.astype(np.float64))))
        found.append(SampleSeries(labels, times[at], steps))
    return found
