"""A whole otelite server (storage, pipeline, receivers, API) in this process, on free ports."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from otelite.access import Right, TokenEntry, read_tokens
from otelite.config import Access, Config
from otelite.server import Endpoints, Server
from tests.receivers.support import LoopThread

INGEST_TOKEN = "ingest-Zq7rT2vX9kLm4NpB"
OTHER_INGEST_TOKEN = "ingest-second-token-A1b2C3"
QUERY_TOKEN = "query-Hh3sJ8dWc5YuE1oR"
SECRETS = (INGEST_TOKEN, OTHER_INGEST_TOKEN, QUERY_TOKEN)


def ingest_tokens(*tokens: str) -> tuple[TokenEntry, ...]:
    """``tokens`` with the ingest right, for any tenant (as --ingest-token-file gives)."""
    return read_tokens(",".join(tokens), rights=[Right.INGEST])


def query_tokens(*tokens: str) -> tuple[TokenEntry, ...]:
    """``tokens`` with the query and operator rights (as --query-token-file gives)."""
    return read_tokens(",".join(tokens), rights=[Right.QUERY, Right.OPERATOR])


@dataclass(frozen=True)
class CertificateFiles:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""

    cert: Path
    key: Path

    def context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate only."""
        return ssl.create_default_context(cafile=self.cert)


def make_certificate(directory: Path) -> CertificateFiles:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return CertificateFiles(cert, key)


class Running:
    """``Server(config)`` started on free ports in an event loop thread of its own."""

    def __init__(self, access: Access) -> None:
        self.access = access
        config = Config(
            data_dir=None,
            port=0,
            otlp_grpc_port=0,
            otlp_http_port=0,
            retention_seconds=None,
            access=access,
        )
        self._loop = LoopThread()
        self._server = Server(config)
        try:
            self._loop.run(self._server.start())
        except BaseException:
            self._loop.run(self._server.shutdown())
            self._loop.close()
            raise
        self.endpoints: Endpoints = self._server.endpoints

    @property
    def scheme(self) -> str:
        return "https" if self.access.tls else "http"

    @property
    def api(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.endpoints.api_port}"

    @property
    def otlp_http(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.endpoints.otlp_http_port}"

    @property
    def otlp_grpc(self) -> str:
        return f"127.0.0.1:{self.endpoints.otlp_grpc_port}"

    def api_client(self, token: str | None = QUERY_TOKEN) -> httpx.Client:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        verify: ssl.SSLContext | bool = True
        if self.access.tls_cert is not None:
            verify = ssl.create_default_context(cafile=self.access.tls_cert)
        return httpx.Client(base_url=self.api, headers=headers, verify=verify, timeout=10)

    def close(self) -> None:
        self._loop.run(self._server.shutdown())
        self._loop.close()
