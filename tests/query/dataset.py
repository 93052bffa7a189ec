"""A small fixed dataset, built by hand as Arrow rows in the storage schema."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

T0 = 1_700_000_000_000_000_000
MS = 1_000_000

TRACE_A = bytes.fromhex("0a" * 16)
TRACE_B = bytes.fromhex("0b" * 16)
TRACE_C = bytes.fromhex("0c" * 16)


def attrs(values: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Python values → the (values, types) attribute maps, as storage writes them."""
    texts, types = [], []
    for key, value in values.items():
        if isinstance(value, bool):
            texts.append((key, "true" if value else "false"))
            types.append((key, "b"))
        elif isinstance(value, int):
            texts.append((key, str(value)))
            types.append((key, "i"))
        elif isinstance(value, float):
            texts.append((key, repr(value)))
            types.append((key, "d"))
        else:
            texts.append((key, value))
    return texts, types


def span(
    trace: bytes,
    span_id: int,
    *,
    parent: int | None = None,
    start_ms: int,
    duration_ms: int,
    name: str,
    service: str,
    status: int = 0,
    kind: int = 1,
    span_attrs: Mapping[str, Any] | None = None,
    resource_attrs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    values, types = attrs(span_attrs or {})
    res_values, res_types = attrs({"service.name": service, **(resource_attrs or {})})
    start = T0 + start_ms * MS
    return {
        "Timestamp": start,
        "TraceId": trace,
        "SpanId": span_id.to_bytes(8, "big"),
        "ParentSpanId": b"" if parent is None else parent.to_bytes(8, "big"),
        "SpanName": name,
        "SpanKind": kind,
        "ServiceName": service,
        "ResourceAttributes": res_values,
        "ResourceAttributeTypes": res_types,
        "SpanAttributes": values,
        "SpanAttributeTypes": types,
        "Duration": duration_ms * MS,
        "EndTimestamp": start + duration_ms * MS,
        "StatusCode": status,
    }


SPANS = [
    # Trace A: frontend → cart (error) → db; starts first.
    span(
        TRACE_A,
        1,
        start_ms=0,
        duration_ms=100,
        name="GET /cart",
        service="frontend",
        kind=2,
        span_attrs={"http.status_code": 500, "http.route": "/cart"},
    ),
    span(
        TRACE_A,
        2,
        parent=1,
        start_ms=10,
        duration_ms=80,
        name="cart.get",
        service="cart",
        status=2,
        span_attrs={"retry": True, "ratio": 0.25},
    ),
    span(
        TRACE_A,
        3,
        parent=2,
        start_ms=20,
        duration_ms=30,
        name="SELECT",
        service="db",
        span_attrs={"db.statement": "SELECT * FROM carts WHERE id = 'x'"},
    ),
    # Trace B: frontend → checkout, all fine; starts a second later.
    span(
        TRACE_B,
        4,
        start_ms=1000,
        duration_ms=400,
        name="POST /checkout",
        service="frontend",
        kind=2,
        span_attrs={"http.status_code": 200, "http.route": "/checkout"},
    ),
    span(
        TRACE_B,
        5,
        parent=4,
        start_ms=1100,
        duration_ms=250,
        name="checkout.run",
        service="checkout",
        span_attrs={"http.status_code": "200", "ratio": 2.0},
    ),
    # Trace C: its root has not arrived; the orphan is in another deployment.
    span(
        TRACE_C,
        6,
        parent=99,
        start_ms=2000,
        duration_ms=5,
        name="cart.get",
        service="cart",
        resource_attrs={"deployment": "canary"},
        span_attrs={"big": 2**62 + 1},
    ),
]

LOG_ROWS = [
    {
        "Timestamp": T0 + 5 * MS,
        "ObservedTimestamp": T0 + 6 * MS,
        "TimestampIsObserved": False,
        "SeverityNumber": 9,
        "SeverityText": "INFO",
        "Body": "cart loaded",
        "BodyType": "",
        "ServiceName": "cart",
        "TraceId": TRACE_A,
        "SpanId": (2).to_bytes(8, "big"),
        "LogAttributes": [("user", "alice")],
        "LogAttributeTypes": [],
        "EventName": "",
    },
    {
        "Timestamp": T0 + 15 * MS,
        "ObservedTimestamp": T0 + 15 * MS,
        "TimestampIsObserved": True,
        "SeverityNumber": 17,
        "SeverityText": "ERROR",
        "Body": "Cart FAILED: timeout",
        "BodyType": "",
        "ServiceName": "cart",
        "TraceId": TRACE_A,
        "SpanId": b"",
        "LogAttributes": [("attempt", "3")],
        "LogAttributeTypes": [("attempt", "i")],
        "EventName": "",
    },
    {
        "Timestamp": T0 + 25 * MS,
        "ObservedTimestamp": T0 + 26 * MS,
        "TimestampIsObserved": False,
        "SeverityNumber": 13,
        "SeverityText": "WARN",
        "Body": "slow query",
        "BodyType": "",
        "ServiceName": "db",
        "TraceId": b"",
        "SpanId": b"",
        "LogAttributes": [],
        "LogAttributeTypes": [],
        "EventName": "db.slow",
    },
]

GAUGE_ROWS = [
    {
        "ServiceName": "cart",
        "ResourceAttributes": [("service.name", "cart")],
        "ResourceAttributeTypes": [],
        "MetricName": "queue.depth",
        "MetricUnit": "{items}",
        "MetricDescription": "items waiting",
        "Attributes": [("queue", q)],
        "AttributeTypes": [],
        "StartTimeUnix": T0,
        "TimeUnix": T0 + i * 1000 * MS,
        "Value": float(i),
        "ValueInt": None,
    }
    for q in ("a", "b")
    for i in range(3)
]


def rows_table(schema: pa.Schema, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """An Arrow table of ``schema``; columns a row does not name are null."""
    columns = {
        field.name: pa.array([row.get(field.name) for row in rows], type=field.type)
        for field in schema
    }
    return pa.table(columns, schema=schema)
