"""Who may connect: bearer tokens bound to rights and tenants, and TLS for every port.

``Tokens`` holds the accepted tokens (compared in constant time, kept only as digests) and
the ``Grant`` of each: its ``Right``\\ s, each for any tenant or for named ones. ``Guard``
checks a request's ``Authorization`` against them. ``BearerAuth`` wraps an ASGI app (the
OTLP/HTTP receiver, the query API) with a guard and records each request's grant for
``allowed_tenants``; the OTLP/gRPC receiver calls its guard itself. ``read_tokens`` reads
the environment and token files. ``ServerCertificate`` is the checked certificate and key
that all three servers use for TLS. Health probes (``/healthz``, ``/readyz``) stay open.
"""

from __future__ import annotations

from otelite.access._asgi import BearerAuth, Reply
from otelite.access._grants import Grant, Right, allowed_tenants, granted
from otelite.access._tls import ServerCertificate
from otelite.access._token_files import read_tokens
from otelite.access._tokens import Denied, Guard, TokenEntry, Tokens, bearer_token

__all__ = [
    "BearerAuth",
    "Denied",
    "Grant",
    "Guard",
    "Reply",
    "Right",
    "ServerCertificate",
    "TokenEntry",
    "Tokens",
    "allowed_tenants",
    "bearer_token",
    "granted",
    "read_tokens",
]
