"""What an error tells an HTTP client: its status, the google.rpc code OTLP puts beside it,
and when to retry."""

from __future__ import annotations

import math

from otelite.errors import (
    Forbidden,
    InvalidRequest,
    NotFound,
    OteliteError,
    Overloaded,
    RequestTooLarge,
    RetryableError,
    UnsupportedMediaType,
)

__all__ = ["error_status", "retry_after"]

# (HTTP status, google.rpc.Code) per error class; the most specific class wins.
_STATUS: list[tuple[type[OteliteError], int, int]] = [
    (InvalidRequest, 400, 3),  # INVALID_ARGUMENT
    (RequestTooLarge, 413, 8),  # RESOURCE_EXHAUSTED
    (UnsupportedMediaType, 415, 3),
    (NotFound, 404, 5),  # NOT_FOUND
    (Forbidden, 403, 7),  # PERMISSION_DENIED
    (Overloaded, 429, 8),
    (RetryableError, 503, 14),  # UNAVAILABLE
    (OteliteError, 400, 3),  # any other permanent error: the request cannot succeed
]


def error_status(error: OteliteError) -> tuple[int, int]:
    """The HTTP status and the google.rpc code that answer ``error``."""
    return next((status, code) for kind, status, code in _STATUS if isinstance(error, kind))


def retry_after(error: OteliteError) -> dict[str, str]:
    """The ``Retry-After`` header (whole seconds) for an error worth retrying; else none."""
    if isinstance(error, RetryableError):
        return {"Retry-After": str(max(0, math.ceil(error.retry_after)))}
    return {}
