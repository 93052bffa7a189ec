"""Metric endpoints: the catalog of metric names, and one metric's series and points."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from otelite.api._json import JSONResponse, attribute_dict
from otelite.api._params import Params
from otelite.api._storage import rows_of_each
from otelite.otlp import double_to_json
from otelite.query import Table, metric_catalog_plan, metric_points_plan

__all__ = ["metric_series", "metrics"]

Row = dict[str, Any]


async def metrics(request: Request) -> Response:
    """``GET /api/metrics``: every metric name per type, with unit, description, series."""
    params = Params(request.query_params)
    time, service = params.time_range(), params.text("service")
    tables = Table.metrics()
    results = await rows_of_each(request, [metric_catalog_plan(t, service, time) for t in tables])
    found = [
        {
            "name": row["name"],
            "type": table.metric_type,
            "unit": row["unit"],
            "description": row["description"],
            "seriesCount": row["series_count"],
        }
        for table, result in zip(tables, results, strict=True)
        for row in result
    ]
    found.sort(key=lambda metric: (metric["name"], metric["type"]))
    return JSONResponse({"metrics": found})


async def metric_series(request: Request) -> Response:
    """``GET /api/metrics/{name}/series``: points grouped by series, each in time order.

    Sums carry ``aggregationTemporality`` (the OTLP enum: 1 delta, 2 cumulative) and
    ``isMonotonic`` per series, histograms ``aggregationTemporality``; a change of either
    starts a new series. ``limit`` bounds the points read per metric type (default 10,000).
    """
    params = Params(request.query_params)
    name = request.path_params["name"]
    time, service, attributes = params.time_range(), params.text("service"), params.attributes()
    limit = params.limit("limit", default=10_000, maximum=100_000)
    tables = Table.metrics()
    plans = [
        metric_points_plan(
            table, name, service=service, attributes=attributes, time=time, limit=limit
        )
        for table in tables
    ]
    series: list[dict[str, Any]] = []
    for table, result in zip(tables, await rows_of_each(request, plans), strict=True):
        kind = table.metric_type
        assert kind is not None
        point = _POINTS[kind]
        current = None
        for row in result:
            identity = (row["series"], *(row.get(column) for column, _ in _SERIES_KIND))
            if identity != current:
                current = identity
                series.append(
                    {
                        "type": kind,
                        "attributes": attribute_dict(row["Attributes"], row["AttributeTypes"]),
                        "resource": attribute_dict(
                            row["ResourceAttributes"], row["ResourceAttributeTypes"]
                        ),
                        **{key: row[column] for column, key in _SERIES_KIND if column in row},
                        "points": [],
                    }
                )
            series[-1]["points"].append(point(row))
    return JSONResponse({"series": series})


# Columns that are part of a series' identity where the metric type has them, and their keys.
_SERIES_KIND = (
    ("AggregationTemporality", "aggregationTemporality"),
    ("IsMonotonic", "isMonotonic"),
)


def _double(value: float | None) -> Any:
    return None if value is None else double_to_json(value)


def _times(row: Row) -> dict[str, Any]:
    return {"startTimeUnixNano": str(row["start_ns"]), "timeUnixNano": str(row["time_ns"])}


def _number(row: Row) -> dict[str, Any]:
    value = row["ValueInt"] if row["ValueInt"] is not None else _double(row["Value"])
    return {**_times(row), "value": value}


def _distribution(row: Row) -> dict[str, Any]:
    return {
        **_times(row),
        "count": row["Count"],
        "sum": _double(row["Sum"]),
        "min": _double(row["Min"]),
        "max": _double(row["Max"]),
    }


def _histogram(row: Row) -> dict[str, Any]:
    return {
        **_distribution(row),
        "bucketCounts": row["BucketCounts"],
        "explicitBounds": [_double(b) for b in row["ExplicitBounds"] or ()],
    }


def _exponential_histogram(row: Row) -> dict[str, Any]:
    return {
        **_distribution(row),
        "scale": row["Scale"],
        "zeroCount": row["ZeroCount"],
        "zeroThreshold": _double(row["ZeroThreshold"]),
        "positive": {"offset": row["PositiveOffset"], "bucketCounts": row["PositiveBucketCounts"]},
        "negative": {"offset": row["NegativeOffset"], "bucketCounts": row["NegativeBucketCounts"]},
    }


def _summary(row: Row) -> dict[str, Any]:
    return {
        **_times(row),
        "count": row["Count"],
        "sum": _double(row["Sum"]),
        "quantileValues": [
            {"quantile": _double(q["Quantile"]), "value": _double(q["Value"])}
            for q in row["ValueAtQuantiles"] or ()
        ],
    }


_POINTS: dict[str, Callable[[Row], dict[str, Any]]] = {
    "gauge": _number,
    "sum": _number,
    "histogram": _histogram,
    "exponential_histogram": _exponential_histogram,
    "summary": _summary,
}
