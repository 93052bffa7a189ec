"""Records three hours after ``loki_records``' (outside their window), for the Loki
index and detected-labels tests: a stream with lines two hours apart (two estimated
chunks) and streams pushed with labels whose values look like ids.

``LATE`` is the window that holds them (and nothing of ``loki_records``).
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otelite.query.logql import PUSH_SCOPE
from otelite.types import ExportLogsServiceRequest
from tests.logql.loki_records import T0, S

HOUR = 3600 * S
LATE = {"start": str(T0 + 3 * HOUR), "end": str(T0 + 6 * HOUR)}
LATE_LINES = {T0 + 3 * HOUR + S: "first", T0 + 5 * HOUR + S: "second"}
UUID = "123e4567-e89b-12d3-a456-426614174000"
PUSHED = (
    # Label values: `build` only numbers, `request_id` only a UUID, `flag` 0 and 1,
    # `cluster` a number (but a label always kept), `team` words.
    {"app": "ids", "build": "3", "request_id": UUID, "flag": "0", "cluster": "7"},
    {"app": "ids", "build": "4.5", "flag": "1", "team": "blue"},
)


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _resource(attributes: dict[str, Any]) -> Resource:
    return Resource(attributes=[_kv(k, v) for k, v in attributes.items()])


def request() -> ExportLogsServiceRequest:
    late = ResourceLogs(
        resource=_resource({"service.name": "late"}),
        scope_logs=[
            ScopeLogs(
                log_records=[
                    LogRecord(time_unix_nano=at, body=AnyValue(string_value=line))
                    for at, line in LATE_LINES.items()
                ]
            )
        ],
    )
    pushed = [
        ResourceLogs(
            resource=_resource(labels),
            scope_logs=[
                ScopeLogs(
                    scope=InstrumentationScope(name=PUSH_SCOPE),
                    log_records=[
                        LogRecord(
                            time_unix_nano=T0 + 4 * HOUR, body=AnyValue(string_value="pushed")
                        )
                    ],
                )
            ],
        )
        for labels in PUSHED
    ]
    return ExportLogsServiceRequest(resource_logs=[late, *pushed])
