"""PromQL's functions of range vectors (``rate``, ``increase``, ``*_over_time``, ...).

Each function reads, for every cell (a series at a step), the samples in that cell's
window ``[lo, hi)`` (``Matrix.windows``) and answers with a value per cell and whether
there is one. All series are computed at once, over the matrix's packed samples: prefix
sums for counts, sums and resets, a sparse table for minima and maxima, so a window
costs the same whatever its length; regressions, variances and quantiles gather each
window's samples into a row, a bounded number of cells at a time.

The semantics are Prometheus's (``promql/functions.go``): ``rate``, ``increase`` and
``delta`` extrapolate to the window's edges as Prometheus 3 does, counters reset when a
value drops, and a window needs two samples for a rate (and for
``double_exponential_smoothing``) and one for the rest.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from otelite.query.promql._series import Floats, Matrix, QueryError, Times, same_values

__all__ = [
    "RANGE_FUNCTIONS",
    "Cells",
    "Windowed",
    "extrapolated",
    "phi_outside",
    "quantile",
    "windowed",
]

Windowed = tuple[Floats, npt.NDArray[np.bool_]]
"""A value per cell, and where there is one."""
Positions = npt.NDArray[np.intp]
_GATHERED_CELLS = 4_000_000
"""At most this many samples gathered into rows at once (32 MB of floats)."""
_CELLS = 1 << 17
"""Cells computed at once otherwise: their temporaries stay in the processor's caches."""


@dataclass(frozen=True, slots=True)
class Cells:
    """Windows to compute: cell ``k`` reads ``values[lo[k]:hi[k]]`` (and their
    ``times``), the window ending at ``ends[k]``; ``parameters`` are the function's
    scalar arguments, each at the cell's step (``predict_linear``'s seconds, a
    quantile, the two factors of ``double_exponential_smoothing``)."""

    values: Floats
    times: Times
    lo: Positions
    hi: Positions
    ends: Times
    range_ms: int
    parameters: tuple[Floats, ...] = ()


_Window = Callable[[Cells], Windowed]


def windowed(name: str, matrix: Matrix, parameters: Sequence[Floats] = ()) -> Windowed:
    """``name(matrix)`` (with its scalar ``parameters``, a value per step each) for every
    series and step: values and presence, series x steps."""
    compute = RANGE_FUNCTIONS[name]
    lo, hi = matrix.windows()
    rows, steps = lo.shape
    out, ok = np.full(lo.shape, np.nan), np.zeros(lo.shape, dtype=bool)
    if not rows or not steps:
        return out, ok
    if name in _GATHERING:
        chunk = max(1, _GATHERED_CELLS // (steps * max(int((hi - lo).max()), 1)))
    else:
        chunk = max(1, _CELLS // steps)
    ends = np.broadcast_to(matrix.ends, lo.shape)
    per_cell = [np.broadcast_to(parameter, lo.shape) for parameter in parameters]
    for first in range(0, rows, chunk):
        part = slice(first, first + chunk)
        # The chunk's series' samples only, so that what is computed over samples (a
        # running total of resets) is computed once per sample.
        begin, end = int(matrix.offsets[first]), int(matrix.offsets[min(first + chunk, rows)])
        if begin == end:
            continue
        cells = Cells(
            matrix.values[begin:end],
            matrix.times[begin:end],
            lo[part].ravel() - begin,
            hi[part].ravel() - begin,
            ends[part].ravel(),
            matrix.range_ms,
            tuple(parameter[part].ravel() for parameter in per_cell),
        )
        values, present = compute(cells)
        out[part] = values.reshape(-1, steps)
        ok[part] = present.reshape(-1, steps)
    return out, ok


def _prefix(values: Floats) -> Floats:
    """``out[i]`` is the sum of ``values[:i]``."""
    return np.concatenate(([0.0], np.cumsum(values)))


def _extrapolated(counter: bool, per_second: bool) -> _Window:
    def compute(c: Cells) -> Windowed:
        count = c.hi - c.lo
        first, last = np.minimum(c.lo, len(c.times) - 1), np.maximum(c.hi - 1, 0)
        v = c.values
        result = v[last] - v[first]
        if counter:
            # A drop is a reset: the value before it was the counter's total then. (A
            # drop between two series cancels out: it is before every window's first.)
            drops = np.concatenate(([0.0], np.where(v[1:] < v[:-1], v[:-1], 0.0)))
            resets = np.cumsum(drops)
            result = result + resets[last] - resets[first]
        start = v[first] if counter else None
        return extrapolated(result, c.times, c.ends, c.range_ms, c.lo, c.hi, start, per_second), (
            count >= 2
        )

    return compute


def extrapolated(
    result: Floats,
    times: Times,
    ends: Times,
    range_ms: int,
    lo: Positions,
    hi: Positions,
    counter_start: Floats | None,
    per_second: bool,
) -> Floats:
    """The change ``result`` between the first and last samples of each window
    ``[lo, hi)`` of ``times`` (ending at ``ends``, ``range_ms`` long), extrapolated to
    the window's edges; a counter's (its first value in ``counter_start``) no further
    back than where it would have been zero."""
    count = hi - lo
    first, last = np.minimum(lo, len(times) - 1), np.maximum(hi - 1, 0)
    t = times
    with np.errstate(divide="ignore", invalid="ignore"):
        to_start = (t[first] - (ends - range_ms)) / 1000.0
        to_end = (ends - t[last]) / 1000.0
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
        result = result / (range_ms / 1000.0)
    return result


def _instant(per_second: bool) -> _Window:
    """``irate`` and ``idelta``: the last two samples of the window."""

    def compute(c: Cells) -> Windowed:
        ok = c.hi - c.lo >= 2
        last, previous = np.maximum(c.hi - 1, 0), np.maximum(c.hi - 2, 0)
        v, t = c.values, c.times
        change = v[last] - v[previous]
        if per_second:
            change = np.where(v[last] < v[previous], v[last], change)  # a reset
            with np.errstate(divide="ignore", invalid="ignore"):
                change = change / ((t[last] - t[previous]) / 1000.0)
        return change, ok

    return compute


def _gathered(values: Floats, lo: Positions, hi: Positions) -> tuple[Floats, npt.NDArray[np.bool_]]:
    """Each cell's window as a row (cells x longest window), and which cells are
    samples: for the statistics that prefix sums would compute with cancellation."""
    longest = int((hi - lo).max()) if len(lo) else 0
    cells = lo[:, None] + np.arange(max(longest, 1))[None, :]
    inside = cells < hi[:, None]
    safe = np.minimum(cells, max(len(values) - 1, 0))
    rows = values[safe] if len(values) else np.zeros(safe.shape)
    return np.where(inside, rows, np.nan), inside


def _regression(c: Cells) -> tuple[Floats, Floats, npt.NDArray[np.bool_]]:
    """Least squares over each window, with times in seconds from the window's end: the
    slope per second, and the value the line takes at the end. A window whose values are
    all equal has slope 0, as Prometheus answers it."""
    y, inside = _gathered(c.values, c.lo, c.hi)
    t, _ = _gathered(c.times.astype(np.float64), c.lo, c.hi)
    x = (t - c.ends[:, None]) / 1000.0
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


def _deriv(c: Cells) -> Windowed:
    slope, _, ok = _regression(c)
    return slope, ok


def _predict_linear(c: Cells) -> Windowed:
    """The value the window's regression line reaches ``seconds`` after the step."""
    slope, at_end, ok = _regression(c)
    (seconds,) = c.parameters
    return at_end + slope * seconds, ok


def _double_exponential_smoothing(c: Cells) -> Windowed:
    """Holt's linear smoothing of each window, its last smoothed value: the level starts
    at the first sample and the trend at the change to the second, then each later
    sample pulls the level towards it by ``smoothing`` and the trend towards the level's
    latest change by ``trend``. The recurrence steps through the sample positions of
    every cell at once; a cell whose window has ended keeps what it reached."""
    smoothing, trend = c.parameters
    sampled = c.hi > c.lo
    _check_factor("smoothing factor", "sf", smoothing, sampled)
    _check_factor("trend factor", "tf", trend, sampled)
    rows, inside = _gathered(c.values, c.lo, c.hi)
    level, before = rows[:, 0], np.zeros(len(c.lo))
    slope = rows[:, 1] - level if rows.shape[1] > 1 else np.zeros(len(c.lo))
    with np.errstate(invalid="ignore", over="ignore"):
        for k in range(1, rows.shape[1]):
            # The first step keeps the initial trend.
            moving = trend * (level - before) + (1 - trend) * slope if k > 1 else slope
            smoothed = smoothing * rows[:, k] + (1 - smoothing) * (level + moving)
            more = inside[:, k]
            before = np.where(more, level, before)
            level = np.where(more, smoothed, level)
            slope = np.where(more, moving, slope)
    return level, c.hi - c.lo >= 2


def _check_factor(what: str, short: str, factor: Floats, sampled: npt.NDArray[np.bool_]) -> None:
    """Prometheus's refusal of a factor outside (0, 1) (NaN passes), where a window has
    samples to smooth."""
    wrong = sampled & ((factor <= 0) | (factor >= 1))
    if wrong.any():
        got = float(factor[np.argmax(wrong)])
        shown = f"{got:+}".replace("inf", "Inf") if np.isinf(got) else f"{got:f}"
        raise QueryError(f"invalid {what}. Expected: 0 < {short} < 1, got: {shown}")


def _pairs(changed: Callable[[Floats, Floats], npt.NDArray[np.bool_]]) -> _Window:
    """``changes`` and ``resets``: how many consecutive pairs in the window qualify."""

    def compute(c: Cells) -> Windowed:
        v = c.values
        hits = np.concatenate(([0.0], changed(v[1:], v[:-1]).astype(np.float64)))
        counted = np.cumsum(hits)
        last, first = np.maximum(c.hi - 1, 0), np.minimum(c.lo, len(v) - 1)
        return counted[last] - counted[first], c.hi > c.lo

    return compute


def _changed(now: Floats, before: Floats) -> npt.NDArray[np.bool_]:
    return ~same_values(now, before)


def _dropped(now: Floats, before: Floats) -> npt.NDArray[np.bool_]:
    return now < before


def _summed(
    transform: Callable[[Floats, Floats], Floats],
) -> _Window:
    """A function of the window's sum and count (``sum``, ``avg``, ``count``)."""

    def compute(c: Cells) -> Windowed:
        sums = _prefix(c.values)
        count = (c.hi - c.lo).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return transform(sums[c.hi] - sums[c.lo], count), c.hi > c.lo

    return compute


def _variance(c: Cells) -> Windowed:
    """The population variance of each window, in two passes over its samples."""
    values, inside = _gathered(c.values, c.lo, c.hi)
    with np.errstate(divide="ignore", invalid="ignore"), _quiet():
        deviations = values - np.nanmean(values, axis=1)[:, None]
        variance = np.nansum(deviations * deviations, axis=1) / inside.sum(axis=1)
    return variance, c.hi > c.lo


def _extreme(reduce: Callable[[Floats, Floats], Floats]) -> _Window:
    """``min_over_time`` and ``max_over_time`` through a sparse table: the extreme of
    every power-of-two run, so any window is the extreme of two overlapping runs. NaN
    counts only when every sample of the window is NaN (``fmin``/``fmax``)."""

    def compute(c: Cells) -> Windowed:
        ok = c.hi > c.lo
        out = np.full(len(c.lo), np.nan)
        if not len(c.values):
            return out, ok
        table = [c.values]
        longest = int((c.hi - c.lo).max())
        while 2 ** len(table) <= longest:
            half = 2 ** (len(table) - 1)
            previous = table[-1]
            table.append(reduce(previous[:-half], previous[half:]))
        length = np.where(ok, c.hi - c.lo, 1)
        level = np.floor(np.log2(length)).astype(np.intp)
        for k in np.unique(level[ok]):
            at = ok & (level == k)
            run = table[k]
            out[at] = reduce(run[c.lo[at]], run[c.hi[at] - 2**k])
        return out, ok

    return compute


def _last(c: Cells) -> Windowed:
    values = c.values[np.maximum(c.hi - 1, 0)] if len(c.values) else np.zeros(len(c.hi))
    return values, c.hi > c.lo


def _present(c: Cells) -> Windowed:
    return np.ones(len(c.hi)), c.hi > c.lo


def _quantile_over_time(c: Cells) -> Windowed:
    """The ``phi``-quantile of each window, interpolated between the closest ranks
    (numpy's "linear" method is Prometheus's)."""
    (phi,) = c.parameters
    ok = c.hi > c.lo
    out = np.full(len(c.lo), np.nan)
    rows, _ = _gathered(c.values, c.lo, c.hi)
    inside = ok & (phi >= 0) & (phi <= 1)
    ordered = np.sort(rows, axis=1)  # NaN (outside the window) sorts last
    count = (c.hi - c.lo).astype(np.float64)
    rank = np.clip(np.nan_to_num(phi), 0, 1) * np.maximum(count - 1, 0)
    below = np.floor(rank).astype(np.intp)
    above = np.minimum(below + 1, np.maximum(c.hi - c.lo - 1, 0))
    weight = rank - below
    picked = np.arange(len(c.lo))
    with np.errstate(invalid="ignore"):
        found = ordered[picked, below] * (1 - weight) + ordered[picked, above] * weight
    out[inside] = found[inside]
    for k in np.flatnonzero(ok & ~inside):
        out[k] = phi_outside(float(phi[k]))
    return out, ok


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


def _stddev(c: Cells) -> Windowed:
    variance, ok = _variance(c)
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
    "predict_linear": _predict_linear,
    "quantile_over_time": _quantile_over_time,
    "double_exponential_smoothing": _double_exponential_smoothing,
}
"""The functions of range vectors (``predict_linear`` and ``quantile_over_time`` with a
scalar parameter too, ``double_exponential_smoothing`` with two)."""
_GATHERING = frozenset(
    {
        "deriv",
        "predict_linear",
        "stdvar_over_time",
        "stddev_over_time",
        "quantile_over_time",
        "double_exponential_smoothing",
    }
)


@contextmanager
def _quiet() -> Iterator[None]:
    """numpy warns of the mean of an empty window, which has no value anyway."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
