"""Query results as an agent reads them: a series summarised, not dumped.

PromQL's and LogQL's metric queries answer in Prometheus's shapes (``matrix``,
``vector``, ``scalar``, ``string``). A range series of hundreds of points would fill an
answer with numbers no one reads, so each becomes its labels, a summary (points,
first and last time, min, max, mean, last value) and its values at no more than
``SHOWN_POINTS`` evenly spaced steps, the first and the last among them (``thinned``
says when some were left out). An instant vector keeps each series' value.

Series are ordered by their last value, highest first (series without a number last),
so that the first page holds the top ones, whatever order the API wrote them in.
Values that are not numbers (``NaN``, ``+Inf``) stay as Prometheus writes them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from otelite.api.mcp._times import iso_seconds

__all__ = ["SHOWN_POINTS", "result_items", "summary"]

SHOWN_POINTS = 20
"""The most values a range series shows."""


def result_items(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The head (``resultType``, a scalar's or string's value) and the series of a query
    answer's ``data``, summarised and ordered (see the module's docstring)."""
    kind = data.get("resultType")
    result = data.get("result")
    if kind in ("scalar", "string"):
        assert isinstance(result, list)
        return {"resultType": kind, "time": iso_seconds(result[0]), "value": _value(result[1])}, []
    series = [_instant(s) if kind == "vector" else _ranged(s) for s in result or ()]
    series.sort(key=_highest_first)
    return {"resultType": kind}, series


def _instant(found: dict[str, Any]) -> dict[str, Any]:
    if "histogram" in found:
        at, histogram = found["histogram"]
        return {
            "labels": found["metric"],
            "time": iso_seconds(at),
            "histogram": {"count": _value(histogram["count"]), "sum": _value(histogram["sum"])},
        }
    at, value = found["value"]
    return {"labels": found["metric"], "time": iso_seconds(at), "value": _value(value)}


def _ranged(found: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"labels": found["metric"]}
    if "histograms" in found:
        # A native histogram is summarised by its count; its sum comes along last.
        points = [(at, h["count"]) for at, h in found["histograms"]]
        item["of"] = "native histogram's count (histogram_quantile reads its buckets)"
        item["lastSum"] = _value(found["histograms"][-1][1]["sum"])
    else:
        points = [(at, value) for at, value in found.get("values", ())]
    item.update(summary(points))
    return item


def summary(points: Sequence[tuple[float, str]]) -> dict[str, Any]:
    """A series' points (time in seconds, value as text) summarised."""
    numbers = [float(v) for _, v in points]
    finite = [n for n in numbers if math.isfinite(n)]
    found: dict[str, Any] = {
        "points": len(points),
        "first": iso_seconds(points[0][0]) if points else None,
        "last": iso_seconds(points[-1][0]) if points else None,
        "lastValue": _value(points[-1][1]) if points else None,
    }
    if finite:
        found["min"] = _number(min(finite))
        found["max"] = _number(max(finite))
        found["mean"] = _number(sum(finite) / len(finite))
    shown = _spread(len(points))
    found["values"] = [[iso_seconds(points[i][0]), _value(points[i][1])] for i in shown]
    if len(shown) < len(points):
        found["thinned"] = f"{len(shown)} of {len(points)} values, evenly spaced"
    return found


def _spread(count: int) -> list[int]:
    """At most ``SHOWN_POINTS`` indices into ``count`` points, evenly spaced, with the
    first and the last."""
    if count <= SHOWN_POINTS:
        return list(range(count))
    last = count - 1
    return sorted({round(i * last / (SHOWN_POINTS - 1)) for i in range(SHOWN_POINTS)})


def _highest_first(item: dict[str, Any]) -> tuple[int, float]:
    value = item.get("lastValue", item.get("value"))
    if isinstance(value, int | float) and not math.isnan(value):
        return 0, -value
    return 1, 0.0


def _value(text: str) -> Any:
    """A value as a JSON number when it is a finite one, else as Prometheus wrote it."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return text
    return _number(number) if math.isfinite(number) else text


def _number(value: float) -> float | int:
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return float(f"{value:.6g}")
