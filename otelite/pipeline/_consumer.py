"""What receivers hand data to, and an in-memory double for tests."""

from __future__ import annotations

from typing import Protocol

from otelite.errors import OteliteError
from otelite.tenancy import SINGLE_TENANT
from otelite.types import ExportRequest, Signal

__all__ = ["Consumer", "InMemoryConsumer", "parsed", "serialized"]


class Consumer(Protocol):
    """Takes validated export requests.

    ``consume`` returns once the request is durable (it will be stored even if the
    process dies right after), and raises ``RetryableError`` (overload, storage down) or
    ``PermanentError`` otherwise. Receivers acknowledge the client only after it returns.
    ``tenant`` is the request's checked tenant id (``otelite.tenancy``); consumers that
    keep one tenant's data ignore it. ``payload``, when given, is a binary protobuf
    serialization of ``request`` (the body it was decoded from, when validation changed
    nothing), so that consumers which keep requests as bytes need not serialize again.
    ``request`` is None when the caller has only ``payload`` (a request held as bytes and
    handed on whole); it then gives ``items``, the request's count of items, so that
    consumers which only count need not parse it. Those that need it parse ``payload``
    (``parsed``).
    """

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None: ...


class InMemoryConsumer:
    """Keeps every request it is given; can be told to fail, to test error paths."""

    def __init__(self) -> None:
        self.received: list[tuple[Signal, ExportRequest, str]] = []
        """(signal, request, tenant) of each request, in arrival order."""
        self.fail_with: OteliteError | None = None

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.received.append((signal, parsed(signal, request, payload), tenant))

    def requests(self, signal: Signal) -> list[ExportRequest]:
        """Requests received for one signal, in arrival order."""
        return [request for s, request, _ in self.received if s is signal]


def parsed(signal: Signal, request: ExportRequest | None, payload: bytes | None) -> ExportRequest:
    """``request``, or ``payload`` parsed when a consumer was handed only that."""
    if request is not None:
        return request
    if payload is None:
        raise ValueError("a consumer was handed neither a request nor its payload")
    return signal.request_type.FromString(payload)


def serialized(request: ExportRequest | None, payload: bytes | None) -> bytes:
    """``payload``, or ``request`` serialized when a consumer was handed no bytes."""
    if payload is not None:
        return payload
    if request is None:
        raise ValueError("a consumer was handed neither a request nor its payload")
    return request.SerializeToString()
