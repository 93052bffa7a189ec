"""Tail sampling through a running ``otelite serve --pipeline-file``, across a crash: spans
the SDK was answered for are held durably, the process is killed, and after the restart
the error trace is stored whole and the other dropped; ``/metrics`` counts it all. On
both backends."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from otelite.otlp import decode_request_json
from otelite.types import ExportTraceServiceRequest, Signal
from tests.backends import BACKENDS
from tests.e2e.conftest import ServerProcess, storage_args, wait_for

pytestmark = pytest.mark.slow

PIPELINE = """\
processors:
  tail_sampling:
    decision_wait: {wait}
    policies:
      - {{name: errors, type: status_code, status_code: {{status_codes: [ERROR]}}}}
"""


def stored_span_names(server: ServerProcess) -> list[str]:
    response = httpx.get(f"{server.url}/api/export", params={"signal": "traces"}, timeout=10)
    response.raise_for_status()
    names = []
    for line in response.text.splitlines():
        request = decode_request_json(Signal.TRACES, line)
        assert isinstance(request, ExportTraceServiceRequest)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                names.extend(span.name for span in scope_spans.spans)
    return sorted(names)


def metric(server: ServerProcess, series: str) -> float | None:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    found = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    return None if found is None else float(found.group(1))


@pytest.mark.parametrize("kind", BACKENDS)
def test_held_spans_survive_a_crash_and_error_traces_are_kept(tmp_path: Path, kind: str) -> None:
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(PIPELINE.format(wait="1h"))
    args = [*storage_args(kind, tmp_path), "--pipeline-file", str(pipeline)]
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log", extra_args=args)
    server.start()
    try:
        tracing = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
        tracing.add_span_processor(
            SimpleSpanProcessor(GrpcSpans(endpoint=server.otlp_grpc, insecure=True))
        )
        tracer = tracing.get_tracer("shop")
        with (
            tracer.start_as_current_span("POST /checkout"),
            tracer.start_as_current_span("charge") as charge,
        ):
            charge.set_status(Status(StatusCode.ERROR, "declined"))
        with tracer.start_as_current_span("GET /cart"):
            pass
        tracing.shutdown()  # every span exported and acknowledged
        wait_for(lambda: metric(server, "otelite_sampling_held_spans") == 3, what="3 held")
        assert stored_span_names(server) == []
        server.stop(signal.SIGKILL)

        pipeline.write_text(PIPELINE.format(wait="1s"))
        server.start()
        wait_for(
            lambda: metric(server, 'otelite_sampling_traces_total{decision="dropped"}') == 1,
            timeout=30,
            what="both traces decided",
        )
        # Kept spans are durable in the ingest log at once, queryable a moment later.
        wait_for(
            lambda: stored_span_names(server) == ["POST /checkout", "charge"],
            what="the error trace stored",
        )
        assert metric(server, "otelite_sampling_replayed_traces_total") == 2
        assert metric(server, 'otelite_sampling_traces_total{decision="kept"}') == 1
        assert metric(server, "otelite_sampling_held_traces") == 0
    finally:
        if server.process is not None and server.process.poll() is None:
            server.stop()
