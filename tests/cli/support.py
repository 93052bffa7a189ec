"""Servers for CLI tests: a uvicorn thread on an ephemeral port, and sample telemetry."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Metric,
    NumberDataPoint,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from starlette.types import ASGIApp

from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportTraceServiceRequest,
)

TRACE_ID = "5b8efff798038103d269b633813fc60c"
T0 = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z, in nanoseconds


class ServerThread:
    """Serves an ASGI app with uvicorn on 127.0.0.1 and a free port, in a daemon thread."""

    def __init__(self, app: ASGIApp) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port: int = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, http="h11", ws="none", lifespan="off", log_config=None, access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.005)

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def closed_port_url() -> str:
    """The URL of a local port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _kv(key: str, value: Any) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def sample_traces() -> ExportTraceServiceRequest:
    """One trace: frontend ``GET /checkout`` → ``charge`` (payments, error) and ``render``."""
    request = ExportTraceServiceRequest()
    trace_id = bytes.fromhex(TRACE_ID)
    spans = [
        ("frontend", "a1" * 8, "", "GET /checkout", 0, 120_000_000, 0, ""),
        ("payments", "b2" * 8, "a1" * 8, "charge", 10_000_000, 90_000_000, 2, "card declined"),
        ("frontend", "c3" * 8, "a1" * 8, "render", 95_000_000, 110_000_000, 1, ""),
    ]
    for service, span_id, parent, name, start, end, code, message in spans:
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.append(_kv("service.name", service))
        resource_spans.scope_spans.add().spans.append(
            Span(
                trace_id=trace_id,
                span_id=bytes.fromhex(span_id),
                parent_span_id=bytes.fromhex(parent),
                name=name,
                kind=Span.SPAN_KIND_SERVER,
                start_time_unix_nano=T0 + start,
                end_time_unix_nano=T0 + end,
                attributes=[_kv("http.status_code", 200), _kv("retry", False)],
                status=Status(code=code, message=message),  # type: ignore[arg-type]
            )
        )
    return request


def sample_metrics() -> ExportMetricsServiceRequest:
    """A sum with two points."""
    request = ExportMetricsServiceRequest()
    resource_metrics = request.resource_metrics.add()
    resource_metrics.resource.attributes.append(_kv("service.name", "frontend"))
    metric = Metric(name="http.requests", unit="1", description="requests served")
    metric.sum.aggregation_temporality = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
    metric.sum.is_monotonic = True
    for i, value in enumerate((3, 5)):
        metric.sum.data_points.append(
            NumberDataPoint(
                start_time_unix_nano=T0,
                time_unix_nano=T0 + (i + 1) * 10**9,
                as_int=value,
                attributes=[_kv("route", "/checkout")],
            )
        )
    resource_metrics.scope_metrics.add().metrics.append(metric)
    return request


def sample_logs() -> ExportLogsServiceRequest:
    """Two log records, one in the sample trace."""
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.append(_kv("service.name", "payments"))
    scope = resource_logs.scope_logs.add()
    scope.log_records.append(
        LogRecord(
            time_unix_nano=T0 + 50_000_000,
            severity_number=17,  # type: ignore[arg-type]
            severity_text="ERROR",
            body=AnyValue(string_value="card declined\nretrying"),
            trace_id=bytes.fromhex(TRACE_ID),
            span_id=bytes.fromhex("b2" * 8),
            attributes=[_kv("card.kind", "visa")],
        )
    )
    scope.log_records.append(
        LogRecord(
            time_unix_nano=T0 + 60_000_000,
            severity_number=9,  # type: ignore[arg-type]
            severity_text="INFO",
            body=AnyValue(int_value=42),
        )
    )
    return request
