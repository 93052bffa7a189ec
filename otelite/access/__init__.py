"""Who may connect: bearer tokens for ingest and for queries, and TLS for every port.

``Tokens`` holds the accepted tokens (compared in constant time, never shown), ``Guard``
checks a request's ``Authorization`` against them. ``BearerAuth`` wraps an ASGI app (the
OTLP/HTTP receiver, the query API) and ``BearerAuthInterceptor`` a gRPC server (the OTLP/gRPC
receiver) with a guard. ``ServerCertificate`` is the checked certificate and key that all
three servers use for TLS. Health probes (``/healthz``, ``/readyz``) stay open.
"""

from __future__ import annotations

from otelite.access._asgi import BearerAuth, Reply
from otelite.access._grpc import BearerAuthInterceptor
from otelite.access._tls import ServerCertificate
from otelite.access._tokens import Denied, Guard, Tokens, bearer_token, read_tokens

__all__ = [
    "BearerAuth",
    "BearerAuthInterceptor",
    "Denied",
    "Guard",
    "Reply",
    "ServerCertificate",
    "Tokens",
    "bearer_token",
    "read_tokens",
]
