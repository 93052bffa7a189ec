"""Ingest with bearer tokens: the OpenTelemetry SDK's exporters and raw clients, both transports."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc
import httpx
import pytest
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.e2e.conftest import wait_for
from tests.receivers.support import span, traces

from .support import INGEST_TOKEN, OTHER_INGEST_TOKEN, QUERY_TOKEN, Running

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def finished_spans(service: str) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("tests.access").start_as_current_span(f"{service}-op"):
        pass
    provider.shutdown()
    return list(memory.get_finished_spans())


def stored_services(server: Running) -> set[str]:
    with server.api_client() as api:
        body = api.get("/api/services").json()
    return {service["name"] for service in body["services"]}


def headers(token: str | None) -> dict[str, str]:
    return {} if token is None else {"authorization": f"Bearer {token}"}


def grpc_exporter(server: Running, token: str | None, **options: Any) -> GrpcSpans:
    return GrpcSpans(
        endpoint=server.otlp_grpc, insecure=True, headers=headers(token), timeout=5, **options
    )


def http_exporter(server: Running, token: str | None, **options: Any) -> HttpSpans:
    endpoint = f"{server.otlp_http}/v1/traces"
    return HttpSpans(endpoint=endpoint, headers=headers(token), timeout=5, **options)


@pytest.mark.parametrize("make", [grpc_exporter, http_exporter], ids=["grpc", "http"])
@pytest.mark.parametrize("token", [INGEST_TOKEN, OTHER_INGEST_TOKEN])
def test_sdk_exporters_with_a_token_are_stored(
    guarded: Running, make: Callable[..., SpanExporter], token: str
) -> None:
    service = f"{make.__name__}-{token[-4:]}"
    exporter = make(guarded, token)
    try:
        assert exporter.export(finished_spans(service)) == SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    wait_for(lambda: service in stored_services(guarded), what=f"{service} stored")


@pytest.mark.parametrize(
    ("make", "code_attribute"),
    [(grpc_exporter, "rpc.response.status_code"), (http_exporter, "http.response.status_code")],
    ids=["grpc", "http"],
)
@pytest.mark.parametrize(
    ("token", "codes"),
    [
        (None, ("UNAUTHENTICATED", 401)),
        ("wrong-token", ("UNAUTHENTICATED", 401)),
        # A known token without the ingest right.
        (QUERY_TOKEN, ("PERMISSION_DENIED", 403)),
    ],
    ids=["none", "wrong", "query"],
)
def test_sdk_exporters_without_a_valid_token_fail_with_the_exact_code(
    guarded: Running,
    make: Callable[..., SpanExporter],
    code_attribute: str,
    token: str | None,
    codes: tuple[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = codes[0] if make is grpc_exporter else codes[1]
    # The exporters record the status they got in their own metrics when asked to.
    monkeypatch.setenv("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "true")
    reader = InMemoryMetricReader()
    exporter = make(guarded, token, meter_provider=MeterProvider(metric_readers=[reader]))
    service = f"{make.__name__}-refused-{token}"
    try:
        assert exporter.export(finished_spans(service)) == SpanExportResult.FAILURE
    finally:
        exporter.shutdown()
    assert code in exported_codes(reader, code_attribute)
    # A code the specification makes final: exporters give up instead of retrying.
    assert code not in OTLP_RETRYABLE[code_attribute]
    assert service not in stored_services(guarded)


# The answers the OTLP specification lets an exporter retry (protocol/exporter.md and
# protocol/otlp.md: "Failures"), by the attribute the SDK records the answer under.
OTLP_RETRYABLE: dict[str, set[object]] = {
    "http.response.status_code": {429, 502, 503, 504},
    "rpc.response.status_code": {
        "CANCELLED",
        "DEADLINE_EXCEEDED",
        "RESOURCE_EXHAUSTED",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNAVAILABLE",
        "DATA_LOSS",
    },
}


def exported_codes(reader: InMemoryMetricReader, attribute: str) -> list[object]:
    data = reader.get_metrics_data()
    assert data is not None
    return [
        point.attributes[attribute]
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
        if point.attributes and attribute in point.attributes
    ]


@pytest.mark.parametrize(
    ("authorization", "challenge", "message"),
    [
        (None, 'Bearer realm="otelite"', "authentication required"),
        ("Bearer nope", 'Bearer realm="otelite", error="invalid_token"', "not valid"),
        (f"Basic {INGEST_TOKEN}", 'Bearer realm="otelite"', "authentication required"),
    ],
)
@pytest.mark.parametrize("media_type", ["application/x-protobuf", "application/json"])
def test_http_refusal_is_401_with_a_status_body_in_the_request_encoding(
    guarded: Running, authorization: str | None, challenge: str, message: str, media_type: str
) -> None:
    request_headers = {"Content-Type": media_type}
    if authorization is not None:
        request_headers["Authorization"] = authorization
    body = traces(span()).SerializeToString() if "protobuf" in media_type else b"{}"
    response = httpx.post(
        f"{guarded.otlp_http}/v1/traces", content=body, headers=request_headers, timeout=5
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == challenge
    assert response.headers["Content-Type"] == media_type
    if "protobuf" in media_type:
        status = Status.FromString(response.content)
    else:
        status = Status(**response.json())
    assert status.code == 16  # UNAUTHENTICATED
    assert message in status.message
    assert INGEST_TOKEN not in response.text


def test_grpc_refusal_is_unauthenticated_with_a_message(guarded: Running) -> None:
    with grpc.insecure_channel(guarded.otlp_grpc) as channel:
        export = channel.unary_unary(TRACE_EXPORT)
        body = traces(span()).SerializeToString()
        with pytest.raises(grpc.RpcError) as missing:
            export(body, timeout=5)
        with pytest.raises(grpc.RpcError) as wrong:
            export(body, timeout=5, metadata=[("authorization", "Bearer wrong")])
        accepted = export(body, timeout=5, metadata=[("authorization", f"bearer {INGEST_TOKEN}")])
    assert missing.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "authorization: Bearer <token>" in missing.value.details()
    assert wrong.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert wrong.value.details() == "the bearer token is not valid"
    assert accepted == b""  # full success: an empty ExportTraceServiceResponse


def test_health_probes_stay_open(guarded: Running) -> None:
    with guarded.api_client(token=None) as api:
        assert api.get("/healthz").json() == {"status": "ok"}
        assert api.get("/readyz").json() == {"status": "ready"}


def test_refusals_are_logged_without_tokens(
    guarded: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    guess = INGEST_TOKEN[:-1] + "X"
    response = httpx.post(
        f"{guarded.otlp_http}/v1/traces",
        content=b"{}",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {guess}"},
    )
    assert response.status_code == 401
    with grpc.insecure_channel(guarded.otlp_grpc) as channel, pytest.raises(grpc.RpcError):
        channel.unary_unary(TRACE_EXPORT)(
            b"", timeout=5, metadata=[("authorization", f"Bearer {guess}")]
        )
    for secret in (INGEST_TOKEN, OTHER_INGEST_TOKEN, QUERY_TOKEN, guess):
        assert secret not in caplog.text
