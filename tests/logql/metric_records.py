"""OTLP log records for the LogQL metric tests, with each record's time, line and the
labels Loki gives it written out by hand, for the tests' own reference computations.

- ``api``: 20 logfmt lines 7 s apart (``level``, ``latency``, ``size``, ``n``), no
  severity, so ``detected_level`` comes from the line's ``level`` field;
- ``db``: 10 JSON lines 13 s apart with severity ``ERROR``/17 (so ``severity_text`` and
  ``severity_number`` are structured metadata too);
- ``bad``: one line whose ``latency`` is no duration.

Durations and sizes are exact binary fractions, so sums in any order are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otelite.types import ExportLogsServiceRequest

S = 10**9
M0 = 1_760_000_000 * S
LEVELS = ("info", "info", "warn", "error")
LATENCIES = ("125ms", "250ms", "500ms", "750ms", "1s", "1.5s", "2s", "4s")
SECONDS = {"125ms": 0.125, "250ms": 0.25, "500ms": 0.5, "750ms": 0.75, "1s": 1.0, "1.5s": 1.5}
SECONDS |= {"2s": 2.0, "4s": 4.0}
SIZES = ("512B", "1KiB", "2KiB", "1.5KiB")
BYTES = {"512B": 512, "1KiB": 1024, "2KiB": 2048, "1.5KiB": 1536}


@dataclass(frozen=True)
class Rec:
    service: str
    time: int
    line: str
    labels: dict[str, str]
    """Stream labels and structured metadata (``detected_level`` included)."""
    fields: dict[str, str]
    """What ``| logfmt`` or ``| json`` extracts from the line."""


def _api(i: int) -> Rec:
    level, latency, size = LEVELS[i % 4], LATENCIES[i % 8], SIZES[i % 4]
    line = f"level={level} latency={latency} size={size} n={i}"
    labels = {"service_name": "api", "detected_level": level}
    fields = {"level": level, "latency": latency, "size": size, "n": str(i)}
    return Rec("api", M0 + 7 * i * S + S // 4, line, labels, fields)


def _db(j: int) -> Rec:
    line = f'{{"level":"error","rows":{2 * j}}}'
    labels = {
        "service_name": "db",
        "detected_level": "error",
        "severity_text": "ERROR",
        "severity_number": "17",
    }
    return Rec("db", M0 + (13 * j + 1) * S, line, labels, {"level": "error", "rows": str(2 * j)})


RECORDS = [*(_api(i) for i in range(20)), *(_db(j) for j in range(10))]
BAD = Rec(
    "bad",
    M0 + 3 * S,
    "level=info latency=oops",
    {"service_name": "bad", "detected_level": "info"},
    {"level": "info", "latency": "oops"},
)


def request() -> ExportLogsServiceRequest:
    """Every record (``BAD`` too), as an OTLP export request."""
    resource_logs = []
    for service in ("api", "db", "bad"):
        records = []
        for rec in (*RECORDS, BAD):
            if rec.service != service:
                continue
            record = LogRecord(time_unix_nano=rec.time, body=AnyValue(string_value=rec.line))
            if service == "db":
                record.severity_text, record.severity_number = "ERROR", 17  # type: ignore[assignment]
            records.append(record)
        name = KeyValue(key="service.name", value=AnyValue(string_value=service))
        resource_logs.append(
            ResourceLogs(
                resource=Resource(attributes=[name]), scope_logs=[ScopeLogs(log_records=records)]
            )
        )
    return ExportLogsServiceRequest(resource_logs=resource_logs)
