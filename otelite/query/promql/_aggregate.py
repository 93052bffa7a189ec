"""PromQL's aggregation operators (``sum``, ``avg``, ``topk``, ``quantile``, ...).

Rows of the input vector fall into groups by their labels (``by``/``without``); every
step of every group is reduced at once (the rows ordered by group, each run of rows
reduced with ``ufunc.reduceat``), so no Python code runs per sample. The semantics are
Prometheus's (``promql/engine.go``, ``aggregation``): ``by`` keeps only the labels
listed, ``without`` drops those and the metric name, NaN is the lowest value for ``topk``
and ``bottomk`` alike, ``min`` and ``max`` are NaN only when every value is, and
``stddev``/``stdvar`` are the population's.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt

from otelite.query.promql._series import (
    NAME,
    Floats,
    Labels,
    QueryError,
    Vector,
    format_value,
)

__all__ = ["AGGREGATIONS", "aggregate", "group_key"]

AGGREGATIONS = frozenset(
    {
        "sum",
        "avg",
        "count",
        "min",
        "max",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
    }
)


def group_key(labels: Labels, names: Sequence[str], without: bool) -> Labels:
    """The labels a row's group is known by."""
    if without:
        dropped = {*names, NAME}
        return tuple(item for item in labels if item[0] not in dropped)
    kept = set(names)
    return tuple(item for item in labels if item[0] in kept)


def aggregate(
    op: str,
    vector: Vector,
    names: Sequence[str],
    without: bool,
    parameter: Floats | str | None = None,
) -> Vector:
    """``op by|without (names) (vector)``; ``parameter`` is ``topk``'s k, ``quantile``'s
    φ (a value per step) or ``count_values``'s label name."""
    steps = vector.steps
    keys = [group_key(labels, names, without) for labels in vector.labels]
    index: dict[Labels, int] = {}
    group = np.array([index.setdefault(key, len(index)) for key in keys], dtype=np.intp)
    groups = list(index)
    present, values = vector.present, vector.values
    if op in ("topk", "bottomk"):
        assert isinstance(parameter, np.ndarray)
        return _top(vector, group, len(groups), parameter, largest=op == "topk")
    if op == "count_values":
        assert isinstance(parameter, str)
        return _count_values(vector, group, groups, parameter)
    shape = (len(groups), steps)
    by_group = _Grouped(group, len(groups))
    count = by_group.reduce(np.add, present.astype(np.float64))
    has = count > 0
    if op == "quantile":
        assert isinstance(parameter, np.ndarray)
        out = _quantiles(values, present, group, len(groups), parameter)
    elif op in ("sum", "avg", "stddev", "stdvar"):
        total = by_group.reduce(np.add, np.where(present, values, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            out = total if op == "sum" else total / count
            if op in ("stddev", "stdvar"):
                deviations = np.where(present, values - out[group], 0.0)
                out = by_group.reduce(np.add, deviations * deviations) / count
                if op == "stddev":
                    out = np.sqrt(out)
    elif op == "count":
        out = count
    elif op == "group":
        out = np.ones(shape)
    elif op in ("min", "max"):
        reduce = np.fmin if op == "min" else np.fmax
        out = by_group.reduce(reduce, np.where(present, values, np.nan))
    else:
        raise QueryError(f"unknown aggregation {op!r}")
    return Vector.of(groups, out, has)


class _Grouped:
    """Rows in groups (``group[row]`` in ``range(groups)``, every group with a row),
    ordered so that each group's rows are one run."""

    def __init__(self, group: npt.NDArray[np.intp], groups: int) -> None:
        self.order = np.argsort(group, kind="stable")
        self.starts = np.searchsorted(group[self.order], np.arange(groups))

    def reduce(self, ufunc: np.ufunc, values: Floats) -> Floats:
        """Each group's rows reduced to one, step by step."""
        reduced: Floats = ufunc.reduceat(values[self.order], self.starts, axis=0)
        return reduced


def _quantiles(
    values: Floats,
    present: npt.NDArray[np.bool_],
    group: npt.NDArray[np.intp],
    groups: int,
    q: Floats,
) -> Floats:
    out = np.full((groups, values.shape[1]), np.nan)
    inside = (q >= 0) & (q <= 1)
    for g in range(groups):
        block = np.where(present[group == g], values[group == g], np.nan)
        # φ may differ per step (a scalar expression): once per distinct φ.
        for phi in np.unique(q[inside]):
            at = inside & (q == phi)
            with np.errstate(all="ignore"), _quiet():
                out[g, at] = np.nanquantile(block[:, at], phi, axis=0)
    out = np.where(q < 0, -np.inf, out)
    out = np.where(q > 1, np.inf, out)
    return np.where(np.isnan(q), np.nan, out)


def _top(
    vector: Vector,
    group: npt.NDArray[np.intp],
    groups: int,
    k: Floats,
    *,
    largest: bool,
) -> Vector:
    """The rows among the ``k`` largest (smallest) of their group at each step; they keep
    their labels, metric name included."""
    values, present = vector.values, vector.present
    # NaN ranks after every number, whichever end is kept.
    key = np.where(np.isnan(values), np.inf, -values if largest else values)
    kept = np.zeros_like(present)
    limit = np.floor(np.nan_to_num(k, nan=0.0)).astype(np.int64)
    for g in range(groups):
        rows = np.flatnonzero(group == g)
        kept[rows] = (_ranks(key[rows], present[rows]) < limit) & present[rows]
    return Vector.of(list(vector.labels), values, kept)


def _ranks(key: Floats, present: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Each row's rank among the rows present at the same step (0 the first), by
    ``key``; absent rows rank after them."""
    ranks = np.empty(key.shape, dtype=np.int64)
    order = np.lexsort((np.where(present, key, 0.0), ~present), axis=0)
    ranks[order, np.arange(key.shape[1])] = np.arange(key.shape[0])[:, None]
    return ranks


def _count_values(
    vector: Vector, group: npt.NDArray[np.intp], groups: list[Labels], label: str
) -> Vector:
    """How many rows of each group have each value, one series per group and value."""
    rows, steps = np.nonzero(vector.present)
    distinct, which = np.unique(vector.values[rows, steps], return_inverse=True)
    pairs, series = np.unique(group[rows] * len(distinct) + which, return_inverse=True)
    counts = np.zeros((len(pairs), vector.steps))
    np.add.at(counts, (series, steps), 1.0)
    labels = []
    for pair in pairs:
        g, v = divmod(int(pair), len(distinct))
        kept = tuple(item for item in groups[g] if item[0] != label)
        labels.append(tuple(sorted((*kept, (label, format_value(float(distinct[v])))))))
    return Vector.of(labels, counts, counts > 0)


@contextmanager
def _quiet() -> Iterator[None]:
    """numpy warns of an all-NaN column, which here is a group absent at a step."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
