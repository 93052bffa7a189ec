"""TLS on all three ports with a self-signed certificate, from the SDK and plain clients."""

from __future__ import annotations

import subprocess
from pathlib import Path

import grpc
import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.sdk.trace.export import SpanExportResult

from otelite.access import ServerCertificate
from otelite.config import Access
from tests.e2e.conftest import wait_for
from tests.receivers.support import span, traces

from .support import INGEST_TOKEN, CertificateFiles, Running, make_certificate
from .test_ingest import TRACE_EXPORT, finished_spans, stored_services

AUTH = {"authorization": f"Bearer {INGEST_TOKEN}"}


def test_sdk_grpc_exporter_over_tls(secured: Running, certificate: CertificateFiles) -> None:
    credentials = grpc.ssl_channel_credentials(root_certificates=certificate.cert.read_bytes())
    exporter = GrpcSpans(
        endpoint=secured.otlp_grpc, credentials=credentials, headers=AUTH, timeout=5
    )
    try:
        assert exporter.export(finished_spans("tls-grpc")) == SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    wait_for(lambda: "tls-grpc" in stored_services(secured), what="spans sent over gRPC+TLS")


def test_sdk_http_exporter_over_tls(
    secured: Running, certificate: CertificateFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests lets these variables override the exporter's own certificate_file.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    exporter = HttpSpans(
        endpoint=f"{secured.otlp_http}/v1/traces",
        certificate_file=str(certificate.cert),
        headers=AUTH,
        timeout=5,
    )
    try:
        assert exporter.export(finished_spans("tls-http")) == SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    wait_for(lambda: "tls-http" in stored_services(secured), what="spans sent over HTTPS")


def test_query_api_over_tls(secured: Running) -> None:
    assert secured.api.startswith("https://")
    with secured.api_client() as api:
        assert api.get("/api/services").status_code == 200
        assert api.get("/healthz").json() == {"status": "ok"}
    with secured.api_client(token=None) as anonymous:
        assert anonymous.get("/api/services").status_code == 401


def test_untrusted_or_plain_clients_get_nothing(secured: Running) -> None:
    # The system's CAs do not trust a self-signed certificate.
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{secured.api}/healthz", timeout=5)
    for port in (secured.endpoints.api_port, secured.endpoints.otlp_http_port):
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    body = traces(span()).SerializeToString()
    with (
        grpc.insecure_channel(secured.otlp_grpc) as channel,
        pytest.raises(grpc.RpcError) as plain,
    ):
        channel.unary_unary(TRACE_EXPORT)(body, timeout=5, metadata=tuple(AUTH.items()))
    assert plain.value.code() == grpc.StatusCode.UNAVAILABLE


def test_grpc_tls_still_needs_the_token(secured: Running, certificate: CertificateFiles) -> None:
    credentials = grpc.ssl_channel_credentials(root_certificates=certificate.cert.read_bytes())
    with (
        grpc.secure_channel(secured.otlp_grpc, credentials) as channel,
        pytest.raises(grpc.RpcError) as refused,
    ):
        channel.unary_unary(TRACE_EXPORT)(b"", timeout=5)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_endpoints_say_https(secured: Running) -> None:
    text = secured.endpoints.describe()
    assert f"https://127.0.0.1:{secured.endpoints.api_port} (bearer token required)" in text
    assert f"OTLP/HTTP             https://127.0.0.1:{secured.endpoints.otlp_http_port}" in text
    assert f"127.0.0.1:{secured.endpoints.otlp_grpc_port} (TLS)" in text
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=https://" in text
    assert 'OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer <token>"' in text
    assert INGEST_TOKEN not in text


def test_bad_certificates_stop_the_server_before_it_listens(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    mine, other = make_certificate(tmp_path), make_certificate(tmp_path / "other")
    cases = [
        (mine.cert, other.key, "the key does not belong to the certificate"),
        (mine.cert, tmp_path / "absent.pem", "cannot read"),
        (mine.key, mine.cert, "not a PEM certificate"),
    ]
    for cert, key, message in cases:
        with pytest.raises(OSError, match=message):
            ServerCertificate.load(cert, key)
        with pytest.raises(OSError, match=message):
            Running(Access(tls_cert=cert, tls_key=key))


def test_encrypted_keys_are_refused_without_a_prompt(tmp_path: Path) -> None:
    files = make_certificate(tmp_path)
    encrypted = tmp_path / "encrypted.pem"
    ServerCertificate.load(files.cert, files.key)  # the pair itself is fine
    subprocess.run(
        ["openssl", "pkey", "-in", files.key, "-aes256", "-passout", "pass:x", "-out", encrypted],
        check=True,
        capture_output=True,
    )
    with pytest.raises(OSError, match="the key is encrypted"):
        ServerCertificate.load(files.cert, encrypted)
