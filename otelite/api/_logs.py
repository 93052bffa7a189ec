"""``GET /api/search/logs``: log records meeting every filter, newest first."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from otelite.api._json import JSONResponse, any_value_json, key_values_json
from otelite.api._params import Params
from otelite.api._storage import rows
from otelite.query import LogFilter, log_search_plan

__all__ = ["search_logs"]

_NO_BODY = "n"


async def search_logs(request: Request) -> Response:
    """Each record as OTLP/JSON fields plus its service name.

    ``timeUnixNano`` is the record's own time, ``"0"`` when it had none (as in OTLP: use
    ``observedTimeUnixNano`` then); records sort by the one or the other.
    """
    params = Params(request.query_params)
    log = LogFilter(
        service=params.text("service"),
        min_severity=params.severity("severity"),
        text=params.text("text"),
        trace_id=params.trace_id("traceId"),
        attributes=params.attributes(),
    )
    plan = log_search_plan(
        log, params.time_range(), params.limit("limit", default=100, maximum=5000)
    )
    return JSONResponse({"logs": [_record(row) for row in await rows(request, plan)]})


def _record(row: dict[str, Any]) -> dict[str, Any]:
    body_type = row["BodyType"]
    if body_type == _NO_BODY:
        body: dict[str, Any] = {}
    else:
        body = any_value_json(row["Body"], body_type or None)
    return {
        "timeUnixNano": "0" if row["TimestampIsObserved"] else str(row["time_ns"]),
        "observedTimeUnixNano": str(row["observed_ns"]),
        "severityNumber": row["SeverityNumber"],
        "severityText": row["SeverityText"],
        "body": body,
        "serviceName": row["ServiceName"],
        "traceId": row["TraceId"].hex(),
        "spanId": row["SpanId"].hex(),
        "attributes": key_values_json(row["LogAttributes"], row["LogAttributeTypes"]),
        "eventName": row["EventName"],
    }
