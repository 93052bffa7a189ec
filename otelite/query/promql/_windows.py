"""PromQL's functions of range vectors (``rate``, ``increase``, ``*_over_time``, ...).

Each function reads, for every step, the samples of one series in that step's window
``[lo, hi)`` (``Matrix.windows``) and answers with a value per step and whether there is
one. The work is over arrays: prefix sums for counts, sums and regressions, a sparse
table for minima and maxima, and a running total of counter resets, so a window costs
the same whatever its length. Only ``quantile_over_time`` sorts each window on its own.

The semantics are Prometheus's (``promql/functions.go``): ``rate``, ``increase`` and
``delta`` extrapolate to the window's edges as Prometheus 3 does, counters reset when a
value drops, and a window needs two samples for a rate and one for the rest.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt

from otelite.query.promql._series import Floats, Matrix, SampleSeries

__all__ = [
    "RANGE_FUNCTIONS",
    "Windowed",
    "extrapolated",
    "phi_outside",
    "predict_linear",
    "quantile",
    "quantile_over_time",
    "windowed",
]

Windowed = tuple[Floats, npt.NDArray[np.bool_]]
"""A value per step, and where there is one."""
_Window = Callable[[SampleSeries, Matrix, npt.NDArray[np.intp], npt.NDArray[np.intp]], Windowed]


def windowed(name: str, matrix: Matrix, series: SampleSeries) -> Windowed:
    """``name(matrix)`` for one of its series, at every step."""
    lo, hi = matrix.windows(series)
    return RANGE_FUNCTIONS[name](series, matrix, lo, hi)


def _prefix(values: Floats) -> Floats:
    """``out[i]`` is the sum of ``values[:i]``."""
    return np.concatenate(([0.0], np.cumsum(values)))


def _extrapolated(counter: bool, per_second: bool) -> _Window:
    def compute(
        s: SampleSeries, m: Matrix, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp]
    ) -> Windowed:
        count = hi - lo
        first, last = np.minimum(lo, len(s.times) - 1), np.maximum(hi - 1, 0)
        v = s.values
        result = v[last] - v[first]
        if counter:
            # A drop is a reset: the value before it was the counter's total then.
            drops = np.concatenate(([0.0], np.where(v[1:] < v[:-1], v[:-1], 0.0)))
            resets = np.cumsum(drops)
            result = result + resets[last] - resets[first]
        start = v[first] if counter else None
        return extrapolated(result, s.times, m, lo, hi, start, per_second), count >= 2

    return compute


def extrapolated(
    result: Floats,
    times: npt.NDArray[np.int64],
    m: Matrix,
    lo: npt.NDArray[np.intp],
    hi: npt.NDArray[np.intp],
    counter_start: Floats | None,
    per_second: bool,
) -> Floats:
    """The change ``result`` between the first and last samples of each window (at
    ``times``), extrapolated to the window's edges; a counter's (its first value in
    ``counter_start``) no further back than where it would have been zero."""
    count = hi - lo
    first, last = np.minimum(lo, len(times) - 1), np.maximum(hi - 1, 0)
    t = times
    with np.errstate(divide="ignore", invalid="ignore"):
        to_start = (t[first] - (m.ends - m.range_ms)) / 1000.0
        to_end = (m.ends - t[last]) / 1000.0
        sampled = (t[last] - t[first]) / 1000.0
        average = sampled / np.maximum(count - 1, 1)
        threshold = average * 1.1
        to_start = np.where(to_start >= threshold, average / 2, to_start)
        if counter_start is not None:
            # A counter is never negative: extrapolate no further back than zero.
            to_zero = sampled * (counter_start / result)
            earlier = (result > 0) & (counter_start >= 0) & (to_zero < to_start)
            to_start = np.where(earlier, to_zero, to_start)
        to_end = np.where(to_end >= threshold, average / 2, to_end)
        result = result * ((sampled + to_start + to_end) / sampled)
    if per_second:
        result = result / (m.range_ms / 1000.0)
    return result


def _instant(per_second: bool) -> _Window:
    """``irate`` and ``idelta``: the last two samples of the window."""

    def compute(
        s: SampleSeries, m: Matrix, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp]
    ) -> Windowed:
        ok = hi - lo >= 2
        last, previous = np.maximum(hi - 1, 0), np.maximum(hi - 2, 0)
        v, t = s.values, s.times
        change = v[last] - v[previous]
        if per_second:
            change = np.where(v[last] < v[previous], v[last], change)  # a reset
            with np.errstate(divide="ignore", invalid="ignore"):
                change = change / ((t[last] - t[previous]) / 1000.0)
        return change, ok

    return compute


def _gathered(
    values: Floats, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp]
) -> tuple[Floats, npt.NDArray[np.bool_]]:
    """Each step's window as a row (steps x longest window), and which cells are
    samples: for the statistics that prefix sums would compute with cancellation."""
    longest = int((hi - lo).max()) if len(lo) else 0
    cells = lo[:, None] + np.arange(max(longest, 1))[None, :]
    inside = cells < hi[:, None]
    safe = np.minimum(cells, max(len(values) - 1, 0))
    rows = values[safe] if len(values) else np.zeros(safe.shape)
    return np.where(inside, rows, np.nan), inside


def _regression(
    s: SampleSeries, m: Matrix, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp]
) -> tuple[Floats, Floats, npt.NDArray[np.bool_]]:
    """Least squares over each window, with times in seconds from the window's end: the
    slope per second, and the value the line takes at the end. A window whose values are
    all equal has slope 0, as Prometheus answers it."""
    y, inside = _gathered(s.values, lo, hi)
    t, _ = _gathered(s.times.astype(np.float64), lo, hi)
    x = (t - m.ends[:, None]) / 1000.0
    n = inside.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"), _quiet():
        mean_x = np.nanmean(x, axis=1)
        mean_y = np.nanmean(y, axis=1)
        dx = x - mean_x[:, None]
        dy = y - mean_y[:, None]
        slope = np.nansum(dx * dy, axis=1) / np.nansum(dx * dx, axis=1)
        at_end = mean_y - slope * mean_x
    flat = np.nanmax(y, axis=1, initial=-np.inf) == np.nanmin(y, axis=1, initial=np.inf)
    slope = np.where(flat, 0.0, slope)
    at_end = np.where(flat, y[:, 0], at_end)
    return slope, at_end, n >= 2


def _deriv(
    s: SampleSeries, m: Matrix, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp]
) -> Windowed:
    slope, _, ok = _regression(s, m, lo, hi)
    return slope, ok


def predict_linear(matrix: Matrix, series: SampleSeries, seconds: Floats) -> Windowed:
    """The value the window's regression line reaches ``seconds`` after the step."""
    lo, hi = matrix.windows(series)
    slope, at_end, ok = _regression(series, matrix, lo, hi)
    return at_end + slope * seconds, ok


def _pairs(changed: Callable[[Floats, Floats], npt.NDArray[np.bool_]]) -> _Window:
    """``changes`` and ``resets``: how many consecutive pairs in the window qualify."""

    def compute(
        s: SampleSeries, m: Matrix, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp]
    ) -> Windowed:
        v = s.values
        hits = np.concatenate(([0.0], changed(v[1:], v[:-1]).astype(np.float64)))
        counted = np.cumsum(hits)
        last, first = np.maximum(hi - 1, 0), np.minimum(lo, len(v) - 1)
        return counted[last] - counted[first], hi > lo

    return compute


def _changed(now: Floats, before: Floats) -> npt.NDArray[np.bool_]:
    both_nan = np.isnan(now) & np.isnan(before)
    changed: npt.NDArray[np.bool_] = ~((now == before) | both_nan)
    return changed


def _dropped(now: Floats, before: Floats) -> npt.NDArray[np.bool_]:
    return now < before


def _summed(
    transform: Callable[[Floats, Floats], Floats],
) -> _Window:
    """A function of the window's sum and count (``sum``, ``avg``, ``count``)."""

    def compute(
        s: SampleSeries, m: Matrix, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp]
    ) -> Windowed:
        sums = _prefix(s.values)
        count = (hi - lo).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return transform(sums[hi] - sums[lo], count), hi > lo

    return compute


def _variance(
    s: SampleSeries, m: Matrix, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp]
) -> Windowed:
    """The population variance of each window, in two passes over its samples."""
    values, inside = _gathered(s.values, lo, hi)
    with np.errstate(divide="ignore", invalid="ignore"), _quiet():
        deviations = values - np.nanmean(values, axis=1)[:, None]
        variance = np.nansum(deviations * deviations, axis=1) / inside.sum(axis=1)
    return variance, hi > lo


def _extreme(reduce: Callable[[Floats, Floats], Floats]) -> _Window:
    """``min_over_time`` and ``max_over_time`` through a sparse table: the extreme of
    every power-of-two run, so any window is the extreme of two overlapping runs. NaN
    counts only when every sample of the window is NaN (``fmin``/``fmax``)."""

    def compute(
        s: SampleSeries, m: Matrix, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp]
    ) -> Windowed:
        ok = hi > lo
        out = np.full(len(lo), np.nan)
        if not len(s.values):
            return out, ok
        table = [s.values]
        while 2 ** len(table) <= len(s.values):
            half = 2 ** (len(table) - 1)
            previous = table[-1]
            table.append(reduce(previous[:-half], previous[half:]))
        length = np.where(ok, hi - lo, 1)
        level = np.floor(np.log2(length)).astype(np.intp)
        for k in np.unique(level[ok]):
            at = ok & (level == k)
            run = table[k]
            out[at] = reduce(run[lo[at]], run[hi[at] - 2**k])
        return out, ok

    return compute


def _last(
    s: SampleSeries, m: Matrix, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp]
) -> Windowed:
    return s.values[np.maximum(hi - 1, 0)] if len(s.values) else np.zeros(len(hi)), hi > lo


def _present(
    s: SampleSeries, m: Matrix, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp]
) -> Windowed:
    return np.ones(len(hi)), hi > lo


def quantile_over_time(matrix: Matrix, series: SampleSeries, q: Floats) -> Windowed:
    """The ``q``-quantile of each window, interpolated between the closest ranks."""
    lo, hi = matrix.windows(series)
    out = np.full(len(lo), np.nan)
    for step in np.flatnonzero(hi > lo):
        out[step] = quantile(series.values[lo[step] : hi[step]], float(q[step]))
    return out, hi > lo


def phi_outside(q: float) -> float | None:
    """What a quantile function answers for a φ outside [0, 1] (±Inf) or NaN (NaN);
    None for a φ inside."""
    if np.isnan(q):
        return float("nan")
    if q < 0:
        return float("-inf")
    if q > 1:
        return float("inf")
    return None


def quantile(values: Floats, q: float) -> float:
    """Prometheus's φ-quantile of some values: ±Inf outside [0, 1], NaN for NaN."""
    outside = phi_outside(q)
    if outside is not None:
        return outside
    ordered = np.sort(values)
    rank = q * (len(ordered) - 1)
    below = int(np.floor(rank))
    above = min(below + 1, len(ordered) - 1)
    weight = rank - below
    return float(ordered[below] * (1 - weight) + ordered[above] * weight)


def _div(total: Floats, count: Floats) -> Floats:
    return total / count


def _total(total: Floats, count: Floats) -> Floats:
    return total


def _count(total: Floats, count: Floats) -> Floats:
    return count


def _stddev(
    s: SampleSeries, m: Matrix, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp]
) -> Windowed:
    variance, ok = _variance(s, m, lo, hi)
    return np.sqrt(variance), ok


RANGE_FUNCTIONS: dict[str, _Window] = {
    "rate": _extrapolated(counter=True, per_second=True),
    "increase": _extrapolated(counter=True, per_second=False),
    "delta": _extrapolated(counter=False, per_second=False),
    "irate": _instant(per_second=True),
    "idelta": _instant(per_second=False),
    "deriv": _deriv,
    "changes": _pairs(_changed),
    "resets": _pairs(_dropped),
    "sum_over_time": _summed(_total),
    "avg_over_time": _summed(_div),
    "count_over_time": _summed(_count),
    "stdvar_over_time": _variance,
    "stddev_over_time": _stddev,
    "min_over_time": _extreme(np.fmin),
    "max_over_time": _extreme(np.fmax),
    "last_over_time": _last,
    "present_over_time": _present,
}
"""The functions of one range vector argument."""


@contextmanager
def _quiet() -> Iterator[None]:
    """numpy warns of the mean of an empty window, which has no value anyway."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
