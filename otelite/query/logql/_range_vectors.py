"""Range aggregations over samples: each series' value at each step, from its samples in
the step's window ``(t - range, t]`` (``t`` moved back by ``offset``).

As Loki computes them (``pkg/logql/range_vector.go``): a series has a value at a step
when its window holds a sample. ``rate`` is the count (or, unwrapped, the sum) divided
by the range in seconds, never extrapolated; ``rate_counter`` is Prometheus's
extrapolated counter rate, 0 for a window of one sample; ``first_over_time`` and
``last_over_time`` take the window's first and last samples; the variance and the
deviation are the population's; ``quantile_over_time`` interpolates between the closest
ranks. The work is PromQL's (``windowed``) where the two agree, over every series and
step at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from otelite.query.logql._enums import RangeFunction
from otelite.query.logql._samples import Samples
from otelite.query.promql import Budget, Vector, windowed

__all__ = ["range_vector", "window_sums"]

_SECONDS = 1e9
_PROMQL = {
    RangeFunction.MIN_OVER_TIME: "min_over_time",
    RangeFunction.MAX_OVER_TIME: "max_over_time",
    RangeFunction.STDVAR_OVER_TIME: "stdvar_over_time",
    RangeFunction.STDDEV_OVER_TIME: "stddev_over_time",
    RangeFunction.QUANTILE_OVER_TIME: "quantile_over_time",
}
_SUMS = frozenset(
    {
        RangeFunction.SUM_OVER_TIME,
        RangeFunction.BYTES_OVER_TIME,
        RangeFunction.BYTES_RATE,
        RangeFunction.AVG_OVER_TIME,
    }
)


def range_vector(
    function: RangeFunction,
    samples: Samples,
    ends: npt.NDArray[np.int64],
    range_ns: int,
    *,
    unwrapped: bool,
    parameter: float | None,
    budget: Budget,
) -> Vector:
    """``function`` of each series' samples in the windows ending at ``ends``."""
    budget.spend(len(samples.labels) * len(ends))
    lo, hi = samples.windows(ends, range_ns)
    count = (hi - lo).astype(np.float64)
    present = hi > lo
    seconds = range_ns / _SECONDS
    if function in _PROMQL:
        parameters = [] if parameter is None else [np.full(len(ends), parameter)]
        values, present = windowed(_PROMQL[function], samples.matrix(ends, range_ns), parameters)
    elif function is RangeFunction.COUNT_OVER_TIME:
        values = count
    elif function is RangeFunction.RATE:
        values = (window_sums(samples.values, lo, hi) if unwrapped else count) / seconds
    elif function in _SUMS:
        values = window_sums(samples.values, lo, hi)
        if function is RangeFunction.BYTES_RATE:
            values = values / seconds
        elif function is RangeFunction.AVG_OVER_TIME:
            with np.errstate(invalid="ignore", divide="ignore"):
                values = values / count
    elif function is RangeFunction.FIRST_OVER_TIME:
        values = _at(samples.values, lo)
    elif function is RangeFunction.LAST_OVER_TIME:
        values = _at(samples.values, hi - 1)
    elif function is RangeFunction.RATE_COUNTER:
        increase, _ = windowed("increase", samples.matrix(ends, range_ns))
        values = np.where(count >= 2, increase / seconds, 0.0)
    else:
        raise ValueError(f"{function.value} is not a function of samples")
    return Vector.of(list(samples.labels), np.where(present, values, 0.0), present)


def _at(
    values: npt.NDArray[np.float64], positions: npt.NDArray[np.intp]
) -> npt.NDArray[np.float64]:
    if not len(values):
        return np.zeros(positions.shape)
    return values[np.clip(positions, 0, len(values) - 1)]


def window_sums(
    values: npt.NDArray[np.float64], lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp]
) -> npt.NDArray[np.float64]:
    """The sum of ``values[lo:hi]`` for every window, added in order (as Loki does, so
    that an infinity or a NaN counts only in the windows that hold it)."""
    out = np.zeros(lo.shape)
    filled = hi > lo
    if not filled.any():
        return out
    edges = np.empty(2 * int(filled.sum()), dtype=np.intp)
    edges[0::2], edges[1::2] = lo[filled], hi[filled]
    # reduceat sums [edges[i], edges[i + 1]) where that is not empty: every window is.
    out[filled] = np.add.reduceat(np.append(values, 0.0), edges)[0::2]
    return out
