"""Many records of one stream, for reading in batches: 3,000 lines ``n=<i> pick=<yes|no>``
(``yes`` for every seventh), a second apart, except that 1,200 of them share one time."""

from __future__ import annotations

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otelite.types import ExportLogsServiceRequest

from .loki_records import END, S

BULK_START = END + 100 * S
COUNT = 3000
TIED = range(1000, 2200)
BULK_END = BULK_START + COUNT * S


def _time(i: int) -> int:
    return BULK_START + (TIED.start if i in TIED else i) * S


def _line(i: int) -> str:
    return f"n={i} pick={'yes' if i % 7 == 0 else 'no'}"


def bulk_request() -> ExportLogsServiceRequest:
    records = [
        LogRecord(time_unix_nano=_time(i), body=AnyValue(string_value=_line(i)))
        for i in range(COUNT)
    ]
    resource = Resource(
        attributes=[KeyValue(key="service.name", value=AnyValue(string_value="bulk"))]
    )
    return ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(resource=resource, scope_logs=[ScopeLogs(log_records=records)])]
    )


def expected_bulk() -> list[tuple[int, str]]:
    """(time, line) of the kept records, newest first (ties in no given order)."""
    kept = [(_time(i), _line(i)) for i in range(COUNT) if i % 7 == 0]
    return sorted(kept, key=lambda item: -item[0])
