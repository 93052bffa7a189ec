"""Servers with access control on, shared by the tests of this package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otelite.config import Access

from .support import (
    INGEST_TOKEN,
    OTHER_INGEST_TOKEN,
    QUERY_TOKEN,
    CertificateFiles,
    Running,
    ingest_tokens,
    make_certificate,
    query_tokens,
)


@pytest.fixture(scope="package")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def guarded() -> Iterator[Running]:
    """Tokens on both sides, no TLS."""
    running = Running(
        Access(tokens=ingest_tokens(INGEST_TOKEN, OTHER_INGEST_TOKEN) + query_tokens(QUERY_TOKEN))
    )
    yield running
    running.close()


@pytest.fixture(scope="module")
def secured(certificate: CertificateFiles) -> Iterator[Running]:
    """Tokens on both sides and TLS on every port."""
    running = Running(
        Access(
            tokens=ingest_tokens(INGEST_TOKEN) + query_tokens(QUERY_TOKEN),
            tls_cert=certificate.cert,
            tls_key=certificate.key,
        )
    )
    yield running
    running.close()
