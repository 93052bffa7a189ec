"""OTLP log records for the LogQL tests, with the lines and stream labels Loki's OTLP
mapping gives them, written out by hand.

Times are seconds after ``T0`` (a fixed moment); ``AT[n]`` is record n's time in ns.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otelite.query.logql._labels import PUSH_SCOPE
from otelite.types import ExportLogsServiceRequest

T0 = 1_750_000_000 * 10**9
S = 10**9
TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
SPAN = bytes.fromhex("b7ad6b7169203331")

CHECKOUT = {"k8s_pod_name": "checkout-1", "service_name": "checkout"}
PAYMENTS = {"deployment_environment_name": "prod", "service_name": "payments"}
WORKER = {"k8s_container_name": "worker", "service_name": "worker"}
SHOP = {"app": "shop", "env": "prod", "service_name": "shop"}

# (seconds after T0, line) of each record, by number.
LINES = {
    1: (1.0, 'level=info msg="order placed" duration=120ms status=200 user=alice'),
    2: (2.0, 'level=error msg="payment failed" duration=1.5s status=502 user=bob trace_id=abc'),
    3: (
        3.0,
        '{"level":"warn","msg":"slow","latency":"300ms","http":{"status":503,"method":"GET"},'
        '"tags":["a"],"size":"2KB"}',
    ),
    4: (4.0, "GET /api/cart 10.1.2.3 200 15ms"),
    5: (5.0, "\x1b[31mred alert\x1b[0m error"),
    6: (6.0, "not json {"),
    7: (1.5, '{"level":"error","msg":"card declined","amount":12.5,"service_name":"fake"}'),
    8: (2.5, '{"ok":true,"user":"carol"}'),
    9: (3.5, "worker started"),
    10: (4.5, "pushed line error"),
    11: (5.5, '{"_entry":"inner line","pod":"p-9","count":3}'),
}
STREAMS = {
    **dict.fromkeys((1, 2, 3, 4, 5, 6), CHECKOUT),
    7: PAYMENTS,
    8: PAYMENTS,
    11: PAYMENTS,
    9: WORKER,
    10: SHOP,
}
AT = {n: T0 + round(seconds * S) for n, (seconds, _) in LINES.items()}
START, END = T0, T0 + 10 * S


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def _record(n: int, **fields: Any) -> LogRecord:
    line = LINES[n][1]
    body = fields.pop("body", AnyValue(string_value=line))
    return LogRecord(time_unix_nano=AT[n], body=body, **fields)


def request() -> ExportLogsServiceRequest:
    """Every record, as an OTLP export request."""
    checkout = ResourceLogs(
        resource=Resource(
            attributes=[
                _kv("service.name", string_value="checkout"),
                _kv("k8s.pod.name", string_value="checkout-1"),
                _kv("host.name", string_value="h1"),
            ]
        ),
        scope_logs=[
            ScopeLogs(
                scope=InstrumentationScope(name="shop.logger", version="1.2"),
                log_records=[
                    _record(
                        1,
                        severity_number=9,
                        severity_text="INFO",
                        attributes=[_kv("order_id", string_value="o-1")],
                    ),
                    _record(
                        2,
                        severity_number=17,
                        severity_text="ERROR",
                        trace_id=TRACE,
                        span_id=SPAN,
                        attributes=[_kv("attempt", int_value=3)],
                    ),
                    _record(3, severity_number=13),
                    _record(4),
                    _record(5),
                    _record(6),
                ],
            )
        ],
    )
    payments = ResourceLogs(
        resource=Resource(
            attributes=[
                _kv("service.name", string_value="payments"),
                _kv("deployment.environment.name", string_value="prod"),
            ]
        ),
        scope_logs=[
            ScopeLogs(
                log_records=[
                    _record(7, severity_text="Error"),
                    _record(
                        8,
                        body=AnyValue(
                            kvlist_value=KeyValueList(
                                values=[
                                    _kv("user", string_value="carol"),
                                    _kv("ok", bool_value=True),
                                ]
                            )
                        ),
                    ),
                    _record(11),
                ]
            )
        ],
    )
    worker = ResourceLogs(
        resource=Resource(attributes=[_kv("k8s.container.name", string_value="worker")]),
        scope_logs=[ScopeLogs(log_records=[_record(9)])],
    )
    shop = ResourceLogs(
        resource=Resource(
            attributes=[_kv("app", string_value="shop"), _kv("env", string_value="prod")]
        ),
        scope_logs=[
            ScopeLogs(scope=InstrumentationScope(name=PUSH_SCOPE), log_records=[_record(10)])
        ],
    )
    return ExportLogsServiceRequest(resource_logs=[checkout, payments, worker, shop])
