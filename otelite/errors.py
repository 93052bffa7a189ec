"""Every error otelite raises on purpose, and what a client should do about it.

::

    OteliteError
    ├── PermanentError            the same request will fail again: do not retry
    │   ├── InvalidRequest        undecodable or malformed input
    │   │                         HTTP 400, gRPC INVALID_ARGUMENT
    │   ├── RequestTooLarge       over the size limit after decompression
    │   │                         HTTP 413, gRPC RESOURCE_EXHAUSTED without RetryInfo
    │   ├── UnsupportedMediaType  a Content-Type or Content-Encoding otelite cannot read
    │   │                         HTTP 415
    │   ├── NotFound              no such trace, series, ...: HTTP 404
    │   └── Forbidden             refused by policy, e.g. no room for another tenant
    │                             HTTP 403, gRPC PERMISSION_DENIED
    └── RetryableError            try again after ``retry_after`` seconds
        ├── Overloaded            queues are full
        │                         HTTP 429, gRPC RESOURCE_EXHAUSTED with RetryInfo
        └── Unavailable           storage or the WAL cannot take writes now
                                  HTTP 503, gRPC UNAVAILABLE

Messages name the field or the limit at fault, so that the person reading a client's log
knows what to change.
"""

from __future__ import annotations

__all__ = [
    "Forbidden",
    "InvalidRequest",
    "NotFound",
    "OteliteError",
    "Overloaded",
    "PermanentError",
    "RequestTooLarge",
    "RetryableError",
    "Unavailable",
    "UnsupportedMediaType",
]


class OteliteError(Exception):
    """Base of every error otelite raises deliberately."""


class PermanentError(OteliteError):
    """Retrying the same request cannot succeed."""


class InvalidRequest(PermanentError):
    """The request cannot be decoded or breaks the OTLP data model."""


class RequestTooLarge(PermanentError):
    """The request body is larger than the configured limit (after decompression)."""


class UnsupportedMediaType(PermanentError):
    """The Content-Type or Content-Encoding is not one otelite reads."""


class NotFound(PermanentError):
    """The thing asked for does not exist."""


class Forbidden(PermanentError):
    """The server's policy refuses the request, whoever sends it again."""


class RetryableError(OteliteError):
    """A transient condition: the client should retry after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float = 5.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Overloaded(RetryableError):
    """More data is arriving than otelite can store; back off and retry."""


class Unavailable(RetryableError):
    """Storage or the write-ahead log cannot accept writes right now."""
