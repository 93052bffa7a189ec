"""Redaction through a running ``otelite serve --pipeline-file``: the real SDK sends secrets
over both transports, the API gives them back redacted, and no byte of them is written to
the data directory (the write-ahead log included), on both backends."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from otelite.otlp import decode_request_json
from otelite.types import ExportLogsServiceRequest, ExportTraceServiceRequest, Signal
from tests.backends import BACKENDS
from tests.e2e.conftest import ServerProcess, storage_args, wait_for

pytestmark = pytest.mark.slow

CARD = "4111-1111-1111-1111"
PASSWORD = "correct-horse-battery-staple"
EMAIL = "jane.doe@example.com"
PIPELINE = """\
processors:
  redaction:
    summary: debug
    rules:
      - keys: [user.password]
        action: delete
      - values: [credit_card, email]
        action: mask
"""


def export(server: ServerProcess, signal_: Signal) -> list[object]:
    response = httpx.get(f"{server.url}/api/export", params={"signal": signal_.value}, timeout=10)
    response.raise_for_status()
    return [decode_request_json(signal_, line) for line in response.text.splitlines() if line]


def data_bytes(directory: Path) -> bytes:
    found = b""
    for root, _, files in os.walk(directory):
        for name in files:
            found += (Path(root) / name).read_bytes()
    return found


@pytest.mark.parametrize("kind", BACKENDS)
def test_secrets_are_redacted_before_anything_is_written(tmp_path: Path, kind: str) -> None:
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    args = [*storage_args(kind, tmp_path), "--pipeline-file", str(tmp_path / "pipeline.yaml")]
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log", extra_args=args)
    server.start()
    try:
        resource = Resource.create({"service.name": "checkout"})
        tracing = TracerProvider(resource=resource)
        tracing.add_span_processor(
            SimpleSpanProcessor(GrpcSpans(endpoint=server.otlp_grpc, insecure=True))
        )
        with tracing.get_tracer("shop").start_as_current_span("POST /checkout") as span:
            span.set_attribute("user.password", PASSWORD)
            span.set_attribute("payment.note", f"card {CARD} by {EMAIL}")
            span.set_attribute("http.route", "/checkout")
        tracing.shutdown()
        logging = LoggerProvider(resource=resource)
        logging.add_log_record_processor(
            SimpleLogRecordProcessor(HttpLogs(endpoint=f"{server.otlp_http}/v1/logs"))
        )
        logging.get_logger("shop").emit(
            body=f"receipt sent to {EMAIL}", attributes={"user.password": PASSWORD}
        )
        logging.shutdown()

        traces = wait_for(lambda: export(server, Signal.TRACES) or None, what="the span")
        [request] = traces
        assert isinstance(request, ExportTraceServiceRequest)
        stored = request.resource_spans[0].scope_spans[0].spans[0]
        attributes = {kv.key: kv.value for kv in stored.attributes}
        assert "user.password" not in attributes
        assert attributes["payment.note"].string_value == "card **** by ****"
        assert attributes["http.route"].string_value == "/checkout"
        assert attributes["redaction.redacted.keys"].string_value == "user.password"
        assert attributes["redaction.masked.count"].int_value == 1

        [logs] = wait_for(lambda: export(server, Signal.LOGS) or None, what="the log")
        assert isinstance(logs, ExportLogsServiceRequest)
        record = logs.resource_logs[0].scope_logs[0].log_records[0]
        assert record.body.string_value == "receipt sent to ****"
        assert "user.password" not in {kv.key for kv in record.attributes}
        # Counted in otelite's own metrics: both passwords deleted, the note and the body
        # masked.
        scraped = httpx.get(f"{server.url}/metrics", timeout=10).text
        assert 'otelite_redactions_total{action="redacted"} 2.0' in scraped
        assert 'otelite_redactions_total{action="masked"} 2.0' in scraped
        assert 'otelite_redactions_total{action="hashed"} 0.0' in scraped
    finally:
        assert server.stop(signal.SIGTERM) == 0
    written = data_bytes(tmp_path / "data")
    assert written  # the write-ahead log and the store are there
    for secret in (PASSWORD, CARD, EMAIL):
        assert secret.encode() not in written, secret


def test_a_bad_pipeline_file_stops_serve_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text(PIPELINE.replace("action: mask", "action: blur"))
    server = ServerProcess(
        None,
        tmp_path / "server.log",
        extra_args=["--pipeline-file", str(tmp_path / "pipeline.yaml")],
    )
    with pytest.raises(AssertionError):
        server.start()
    log = (tmp_path / "server.log").read_text()
    assert "pipeline.yaml:8: processors.redaction.rules[1].action: must be one of" in log
