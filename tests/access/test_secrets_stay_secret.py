"""A real `otelite serve` with tokens and TLS: no output of it holds a token, even on errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import httpx
import pytest

from tests.e2e.conftest import free_port, wait_for
from tests.receivers.support import span, traces

from .support import (
    INGEST_TOKEN,
    OTHER_INGEST_TOKEN,
    QUERY_TOKEN,
    SECRETS,
    CertificateFiles,
    make_certificate,
)
from .test_ingest import TRACE_EXPORT

pytestmark = pytest.mark.slow

# What clients sent that was wrong: these must not show up either.
GUESSES = (INGEST_TOKEN[:-1] + "X", "Guessed-Token-123", QUERY_TOKEN + "0")


def serve(
    tmp_path: Path, certificate: CertificateFiles, *extra: str
) -> tuple[subprocess.Popen[bytes], Path, dict[str, int]]:
    query_file = tmp_path / "query-tokens"
    query_file.write_text(f"# the UI\n{QUERY_TOKEN}\n")
    ports = {"api": free_port(), "grpc": free_port(), "http": free_port()}
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "otelite",
                "serve",
                "--memory",
                "--port",
                str(ports["api"]),
                "--otlp-grpc-port",
                str(ports["grpc"]),
                "--otlp-http-port",
                str(ports["http"]),
                "--query-token-file",
                str(query_file),
                "--tls-cert",
                str(certificate.cert),
                "--tls-key",
                str(certificate.key),
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "OTELITE_INGEST_TOKENS": f"{INGEST_TOKEN},{OTHER_INGEST_TOKEN}",
            },
        )
    return process, log, ports


def test_no_token_in_any_output(tmp_path: Path, certificate: CertificateFiles) -> None:
    process, log, ports = serve(tmp_path, certificate)
    trust = certificate.context()
    api = f"https://127.0.0.1:{ports['api']}"
    otlp = f"https://127.0.0.1:{ports['http']}/v1/traces"

    def ready() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return httpx.get(f"{api}/readyz", verify=trust, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(ready, timeout=30, what="otelite to become ready")
        body = traces(span()).SerializeToString()
        proto = {"Content-Type": "application/x-protobuf"}
        with httpx.Client(verify=trust, timeout=5) as http:
            # Accepted, refused for each kind of wrong credential, and a bad body with a good one.
            assert http.post(otlp, content=body, headers=auth(proto, INGEST_TOKEN)).is_success
            for guess in GUESSES:
                assert http.post(otlp, content=body, headers=auth(proto, guess)).status_code == 401
                assert http.get(f"{api}/api/services", headers=auth({}, guess)).status_code == 401
            # Known tokens used for the wrong thing.
            assert (
                http.post(otlp, content=body, headers=auth(proto, QUERY_TOKEN)).status_code == 403
            )
            assert (
                http.get(f"{api}/api/services", headers=auth({}, INGEST_TOKEN)).status_code == 403
            )
            basic = {**proto, "Authorization": f"Basic {INGEST_TOKEN}"}
            assert http.post(otlp, content=body, headers=basic).status_code == 401
            broken = http.post(otlp, content=b"\xff\x00junk", headers=auth(proto, INGEST_TOKEN))
            assert broken.status_code == 400
            assert http.get(f"{api}/api/services", headers=auth({}, QUERY_TOKEN)).is_success
        credentials = grpc.ssl_channel_credentials(certificate.cert.read_bytes())
        with grpc.secure_channel(f"127.0.0.1:{ports['grpc']}", credentials) as channel:
            export = channel.unary_unary(TRACE_EXPORT)
            for guess in GUESSES:
                with pytest.raises(grpc.RpcError) as refused:
                    export(body, timeout=5, metadata=[("authorization", f"Bearer {guess}")])
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
                assert guess not in (refused.value.details() or "")
            accepted = export(
                body, timeout=5, metadata=[("authorization", f"Bearer {INGEST_TOKEN}")]
            )
            assert accepted == b""  # full success
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    output = log.read_text()
    assert f"web UI and query API  {api} (bearer token required)" in output
    assert f"OTLP/HTTP             https://127.0.0.1:{ports['http']}" in output
    assert "refused 1 request(s) at the door" in output  # refusals are noted ...
    for secret in (*SECRETS, *GUESSES):
        assert secret not in output  # ... and no token is


def test_no_token_in_startup_errors(tmp_path: Path, certificate: CertificateFiles) -> None:
    # A certificate that does not match its key: the server stops before listening.
    other = tmp_path / "other"
    other.mkdir()
    wrong_key = make_certificate(other).key
    mismatched = CertificateFiles(certificate.cert, wrong_key)
    process, log, _ = serve(tmp_path, mismatched)
    assert process.wait(timeout=30) == 1
    output = log.read_text()
    assert "cannot start: TLS:" in output
    assert "the key does not belong to the certificate" in output
    for secret in SECRETS:
        assert secret not in output


def auth(headers: dict[str, str], token: str) -> dict[str, str]:
    return {**headers, "Authorization": f"Bearer {token}"}
