"""OTLP/gRPC: the ``Export`` methods of the trace, metrics and logs collector services.

gRPC itself decompresses (gzip) and enforces the size limit, after decompression, with
RESOURCE_EXHAUSTED and no RetryInfo. Errors from otelite map to status codes the way the
OTLP specification asks: INVALID_ARGUMENT for bad input, RESOURCE_EXHAUSTED *with* a
``google.rpc.RetryInfo`` detail when overloaded (clients retry only then), UNAVAILABLE
when storage cannot take writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc.error_details_pb2 import RetryInfo  # type: ignore[import-untyped]
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]

from otelite.access import Denied, Grant, Guard, Right, ServerCertificate, Tokens
from otelite.config import Limits, Tenancy
from otelite.errors import (
    Forbidden,
    InvalidRequest,
    NotFound,
    OteliteError,
    Overloaded,
    RequestTooLarge,
    RetryableError,
)
from otelite.pipeline import Consumer, PipelineStats
from otelite.receivers._export import decode_request_proto, export
from otelite.receivers._rate import RateLimiter, client_key
from otelite.tenancy import TENANT_HEADER, tenant_of
from otelite.types import Signal

__all__ = ["GrpcReceiver"]

_log = logging.getLogger(__name__)

_SERVICES = {
    Signal.TRACES: "opentelemetry.proto.collector.trace.v1.TraceService",
    Signal.METRICS: "opentelemetry.proto.collector.metrics.v1.MetricsService",
    Signal.LOGS: "opentelemetry.proto.collector.logs.v1.LogsService",
}
# The most specific class wins; retryable errors also carry RetryInfo.
_CODES: list[tuple[type[OteliteError], grpc.StatusCode]] = [
    (InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT),
    (RequestTooLarge, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (Forbidden, grpc.StatusCode.PERMISSION_DENIED),
    (Overloaded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (RetryableError, grpc.StatusCode.UNAVAILABLE),
    (OteliteError, grpc.StatusCode.INVALID_ARGUMENT),
]
_STATUS_DETAILS_KEY = "grpc-status-details-bin"


class GrpcReceiver:
    """Serves OTLP/gRPC on ``host:port`` and hands every request to ``consumer``.

    Runs in the caller's event loop. ``port=0`` picks a free port; ``port`` tells the one
    chosen once started. ``shutdown`` stops accepting calls and lets calls in flight
    finish for up to ``grace_seconds``. With ``tokens``, calls need one with the ingest
    right in their ``authorization: Bearer`` metadata (else UNAUTHENTICATED, or
    PERMISSION_DENIED for a token without the right); with a ``certificate``, the receiver
    speaks TLS. With multi-tenancy on (``tenancy``), the ``x-scope-orgid`` metadata names
    the tenant each call is for, among those its token may use. What validation refuses
    and cuts is counted in ``stats_of(tenant)`` (``stats`` by default).
    """

    def __init__(
        self,
        consumer: Consumer,
        *,
        host: str = "127.0.0.1",
        port: int = 4317,
        limits: Limits | None = None,
        stats: PipelineStats | None = None,
        stats_of: Callable[[str], PipelineStats] | None = None,
        grace_seconds: float = 5.0,
        tokens: Tokens | None = None,
        certificate: ServerCertificate | None = None,
        tenancy: Tenancy | None = None,
    ) -> None:
        self._consumer = consumer
        self._host = host
        self._port = port
        self._limits = limits or Limits()
        self._tenancy = tenancy or Tenancy()
        self.stats = PipelineStats() if stats is None else stats
        # Validation's refusals and cuts count per tenant when the consumer keeps tenants.
        self._stats_of = stats_of or (lambda tenant: self.stats)
        """Where limits count what they refuse and cut (the pipeline's, in a server)."""
        self._rate = RateLimiter.from_limits(self._limits, self.stats)
        self._grace_seconds = grace_seconds
        self._guard = (
            None
            if tokens is None
            else Guard(
                tokens,
                server="OTLP/gRPC receiver",
                carrier="the metadata 'authorization: Bearer <token>'",
            )
        )
        self._certificate = certificate
        self._server: grpc.aio.Server | None = None

    @property
    def port(self) -> int:
        """The port listened on: the one chosen by the system when constructed with 0."""
        return self._port

    async def start(self) -> None:
        """Bind and start serving; returns once calls are accepted."""
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", self._limits.max_request_bytes),
                # Without this, a second server on the same port would share it silently.
                ("grpc.so_reuseport", 0),
            ],
        )
        server.add_generic_rpc_handlers(
            [
                grpc.method_handlers_generic_handler(
                    service, {"Export": grpc.unary_unary_rpc_method_handler(self._method(signal))}
                )
                for signal, service in _SERVICES.items()
            ]
        )
        host = f"[{self._host}]" if ":" in self._host else self._host
        try:
            address = f"{host}:{self._port}"
            if self._certificate is None:
                self._port = server.add_insecure_port(address)
            else:
                pair = (self._certificate.key_pem, self._certificate.cert_pem)
                self._port = server.add_secure_port(address, grpc.ssl_server_credentials([pair]))
        except RuntimeError:
            # Reported like any other bind failure, so callers handle one error type.
            raise OSError(f"OTLP/gRPC receiver cannot bind {host}:{self._port}") from None
        await server.start()
        self._server = server
        _log.info("OTLP/gRPC receiver listening on %s:%d", self._host, self._port)

    async def shutdown(self) -> None:
        """Stop accepting calls, finish calls in flight, then return."""
        if self._server is None:
            return
        await self._server.stop(self._grace_seconds)
        self._server = None

    def _method(self, signal: Signal) -> Any:
        path = f"/{_SERVICES[signal]}/Export"

        # Requests arrive as bytes (no deserializer) so that undecodable input is ours to
        # report as INVALID_ARGUMENT rather than gRPC's generic INTERNAL.
        async def export_method(body: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
            metadata = context.invocation_metadata() or ()
            grant: Grant | None = None
            if self._guard is not None:
                # Checked before the body is decoded; OTLP clients do not retry the refusal.
                where = f"{path} from {context.peer()}"
                checked = self._guard.check(_first(metadata, "authorization"), where, Right.INGEST)
                if isinstance(checked, Denied):
                    forbidden = grpc.StatusCode.PERMISSION_DENIED
                    code = forbidden if checked.forbidden else grpc.StatusCode.UNAUTHENTICATED
                    await context.abort(code, checked.message)
                    return b""  # not reached: abort raises
                grant = checked
            try:
                sent = [str(value) for key, value in metadata if key == TENANT_HEADER]
                allowed = None if grant is None else grant.tenants(Right.INGEST)
                tenant = tenant_of(sent, self._tenancy, allowed=allowed)
                if self._rate is not None:
                    key = client_key(
                        tenant=tenant if self._tenancy.enabled else None,
                        token=grant,
                        peer=context.peer(),
                    )
                    self._rate.admit(key, len(body))
                response = await export(
                    self._consumer,
                    signal,
                    body,
                    decode_request_proto,
                    limits=self._limits,
                    stats=self._stats_of(tenant),
                    tenant=tenant,
                )
            except OteliteError as error:
                await context.abort(*_status_of(error))
            except Exception:
                _log.exception("OTLP/gRPC %s export failed", signal.value)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the server log")
            return bytes(response.SerializeToString())

        return export_method


def _first(metadata: Any, key: str) -> str | None:
    """The first text value of ``key`` in a call's metadata."""
    values = [value for name, value in metadata if name == key]
    return values[0] if values and isinstance(values[0], str) else None


def _status_of(
    error: OteliteError,
) -> tuple[grpc.StatusCode, str, tuple[tuple[str, bytes], ...]]:
    """The gRPC code, details and trailing metadata that report ``error``."""
    code = next(c for kind, c in _CODES if isinstance(error, kind))
    message = str(error)
    if not isinstance(error, RetryableError):
        return code, message, ()
    # The delay rides in google.rpc.Status details, where OTLP clients look for it.
    return code, message, ((_STATUS_DETAILS_KEY, _retry_status(code, message, error.retry_after)),)


def _retry_status(code: grpc.StatusCode, message: str, retry_after: float) -> bytes:
    delay = max(0.0, retry_after)
    seconds = int(delay)
    retry_info = RetryInfo(
        retry_delay=Duration(seconds=seconds, nanos=int((delay - seconds) * 1e9))
    )
    status = Status(code=code.value[0], message=message)
    status.details.add().Pack(retry_info)
    return bytes(status.SerializeToString())
