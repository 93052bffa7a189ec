"""The shapes of Loki's metric query answers (``pkg/util/marshal/query.go``).

A range query answers a ``matrix``: each series' ``[time, "value"]`` at the steps where
it has one, series ordered by labels. An instant query answers a ``vector`` (one
``value`` per series, ordered by labels unless ``sort``/``sort_desc`` ordered it) or,
for a bare number, a ``scalar``. Times are Unix seconds with the step's milliseconds (a
JSON number), values Prometheus's text form (``"NaN"``, ``"+Inf"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from otelite.query.logql import Labels, MetricResult
from otelite.query.promql import Scalar, format_value

__all__ = ["instant_data", "range_data", "sample_time"]


def sample_time(ns: int) -> float | int:
    """A sample's time as Loki writes it: seconds, to the millisecond below."""
    ms = ns // 10**6
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def range_data(result: MetricResult) -> dict[str, Any]:
    """``data`` of a range query's answer, without ``stats``."""
    times = [sample_time(int(t)) for t in result.steps_ns]
    value = result.value
    if isinstance(value, Scalar):
        points = [[t, format_value(float(v))] for t, v in zip(times, value.values, strict=True)]
        return {"resultType": "matrix", "result": [{"metric": {}, "values": points}]}
    rows = sorted(range(len(value.labels)), key=value.labels.__getitem__)
    series = []
    for row in rows:
        at = np.flatnonzero(value.present[row])
        if len(at):
            values = value.values[row]
            points = [[times[i], format_value(float(values[i]))] for i in at.tolist()]
            series.append({"metric": _metric(value.labels[row]), "values": points})
    return {"resultType": "matrix", "result": series}


def instant_data(result: MetricResult) -> dict[str, Any]:
    """``data`` of an instant query's answer, without ``stats``."""
    at = sample_time(int(result.steps_ns[0]))
    value = result.value
    if isinstance(value, Scalar):
        return {"resultType": "scalar", "result": [at, format_value(float(value.values[0]))]}
    rows = list(range(len(value.labels)))
    if not result.by_value:
        rows.sort(key=value.labels.__getitem__)
    samples = [
        {
            "metric": _metric(value.labels[row]),
            "value": [at, format_value(float(value.values[row, 0]))],
        }
        for row in rows
        if value.present[row, 0]
    ]
    return {"resultType": "vector", "result": samples}


def _metric(labels: Labels) -> dict[str, str]:
    return dict(labels)
