"""Sending one batch of queued requests (one export request) to a destination over
OTLP/HTTP or OTLP/gRPC, and reading its answer by OTLP's rules.

* Delivered: HTTP 2xx, gRPC OK. A ``partial_success`` with rejected items is delivered
  too (clients must not retry it): the rejected count is reported, not retried.
* Retryable: HTTP 429, 502, 503, 504 (with ``Retry-After``, seconds or a date), timeouts
  and connection errors; gRPC CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
  UNAVAILABLE, DATA_LOSS, and RESOURCE_EXHAUSTED only with a ``RetryInfo`` detail (whose
  delay is honoured).
* Anything else is permanent: the destination refuses the content and will again.
"""

from __future__ import annotations

import asyncio
import gzip
import ssl
from typing import Any, Protocol

import grpc
import httpx
from google.rpc.error_details_pb2 import RetryInfo  # type: ignore[import-untyped]
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]

from otelite.otlp import decode_response_json, encode_request_json, retry_after_seconds
from otelite.pipeline._delivery import Answer
from otelite.pipeline._exporters import ExporterSettings
from otelite.pipeline._forward_batch import Batch
from otelite.tenancy import TENANT_HEADER
from otelite.types import ExportResponse, Signal

__all__ = ["Sender", "open_sender"]

_ANSWER_CHARS = 500
_COMPRESS_IN_THREAD_BYTES = 256 * 1024
"""Bodies from this size on are compressed in a thread (zlib lets go of the GIL), so that
a batch of megabytes does not hold up the event loop for tens of milliseconds."""
_SERVICES = {
    Signal.TRACES: "opentelemetry.proto.collector.trace.v1.TraceService",
    Signal.METRICS: "opentelemetry.proto.collector.metrics.v1.MetricsService",
    Signal.LOGS: "opentelemetry.proto.collector.logs.v1.LogsService",
}
_RETRYABLE_HTTP = frozenset((429, 502, 503, 504))
_RETRYABLE_GRPC = frozenset(
    (
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    )
)


class Sender(Protocol):
    async def send(self, item: Batch, *, tenant_header: bool) -> Answer: ...

    async def close(self) -> None: ...


def open_sender(settings: ExporterSettings) -> Sender:
    """The sender ``settings.protocol`` calls for (no connection is made yet)."""
    if settings.protocol == "grpc":
        return _GrpcSender(settings)
    return _HttpSender(settings)


class _HttpSender:
    def __init__(self, settings: ExporterSettings) -> None:
        self._settings = settings
        self._json = settings.protocol == "http/json"
        tls = settings.tls
        verify: ssl.SSLContext | bool = True
        if tls.ca_file is not None or tls.cert_file is not None:
            verify = ssl.create_default_context(
                cafile=None if tls.ca_file is None else str(tls.ca_file)
            )
            if tls.cert_file is not None and tls.key_file is not None:
                verify.load_cert_chain(tls.cert_file, tls.key_file)
        headers = {
            "Content-Type": "application/json" if self._json else "application/x-protobuf",
            "User-Agent": "otelite",
        }
        if settings.compression == "gzip":
            headers["Content-Encoding"] = "gzip"
        headers.update(settings.headers)
        self._client = httpx.AsyncClient(
            headers=headers, timeout=settings.timeout_seconds, verify=verify
        )
        self._base = settings.endpoint.rstrip("/")

    async def send(self, item: Batch, *, tenant_header: bool) -> Answer:
        body = item.body
        if self._json:
            # The joined requests parse as one request holding all their entries.
            body = encode_request_json(item.signal.request_type.FromString(body))
        if self._settings.compression == "gzip":
            if len(body) >= _COMPRESS_IN_THREAD_BYTES:
                body = await asyncio.to_thread(gzip.compress, body, compresslevel=5)
            else:
                body = gzip.compress(body, compresslevel=5)
        headers = {TENANT_HEADER: item.tenant} if tenant_header else None
        try:
            response = await self._client.post(
                f"{self._base}/v1/{item.signal.value}", content=body, headers=headers
            )
        except httpx.HTTPError as error:  # timeouts, refused or broken connections
            return Answer(False, True, f"{type(error).__name__}: {error}".rstrip(": "))
        status = response.status_code
        if 200 <= status < 300:
            try:
                if self._json:
                    parsed = decode_response_json(item.signal, response.content or b"{}")
                else:
                    parsed = item.signal.response_type.FromString(response.content)
            except Exception:  # an unreadable success is still a success
                return Answer(True, False, f"HTTP {status}")
            return _delivered(f"HTTP {status}", parsed)
        text = f"HTTP {status}: {_message(response)[:_ANSWER_CHARS]}".rstrip(": ")
        if status in _RETRYABLE_HTTP:
            return Answer(
                False, True, text, retry_after_seconds(response.headers.get("Retry-After"))
            )
        return Answer(False, False, text)

    async def close(self) -> None:
        await self._client.aclose()


class _GrpcSender:
    def __init__(self, settings: ExporterSettings) -> None:
        self._settings = settings
        endpoint = settings.endpoint
        scheme, _, rest = endpoint.partition("://")
        target = rest if rest else endpoint
        secure = scheme == "https" if rest else not settings.tls.insecure
        if secure:
            tls = settings.tls
            credentials = grpc.ssl_channel_credentials(
                root_certificates=None if tls.ca_file is None else tls.ca_file.read_bytes(),
                private_key=None if tls.key_file is None else tls.key_file.read_bytes(),
                certificate_chain=None if tls.cert_file is None else tls.cert_file.read_bytes(),
            )
            self._channel = grpc.aio.secure_channel(target.rstrip("/"), credentials)
        else:
            self._channel = grpc.aio.insecure_channel(target.rstrip("/"))
        # Requests are queued as bytes and go out as bytes: no serializer.
        self._methods = {
            signal: self._channel.unary_unary(f"/{service}/Export")
            for signal, service in _SERVICES.items()
        }
        self._metadata = tuple((key.lower(), value) for key, value in settings.headers.items())

    async def send(self, item: Batch, *, tenant_header: bool) -> Answer:
        metadata = self._metadata
        if tenant_header:
            metadata = (*metadata, (TENANT_HEADER.lower(), item.tenant))
        compression = (
            grpc.Compression.Gzip
            if self._settings.compression == "gzip"
            else grpc.Compression.NoCompression
        )
        try:
            reply: Any = await self._methods[item.signal](
                item.body,
                timeout=self._settings.timeout_seconds,
                metadata=metadata,
                compression=compression,
            )
        except grpc.aio.AioRpcError as error:
            code = error.code()
            text = f"gRPC {code.name}: {(error.details() or '')[:_ANSWER_CHARS]}".rstrip(": ")
            delay = _retry_delay(error)
            if code in _RETRYABLE_GRPC:
                return Answer(False, True, text, delay)
            if code is grpc.StatusCode.RESOURCE_EXHAUSTED and delay is not None:
                return Answer(False, True, text, delay)
            return Answer(False, False, text)
        try:
            parsed = item.signal.response_type.FromString(bytes(reply))
        except Exception:
            return Answer(True, False, "gRPC OK")
        return _delivered("gRPC OK", parsed)

    async def close(self) -> None:
        await self._channel.close()


def _message(response: httpx.Response) -> str:
    """An error body's message: OTLP/HTTP sends a ``google.rpc.Status`` (protobuf for
    protobuf requests); anything else is shown as text."""
    if response.headers.get("content-type", "").startswith("application/x-protobuf"):
        try:
            return str(Status.FromString(response.content).message)
        except Exception:
            return repr(response.content[:_ANSWER_CHARS])
    return response.text


def _delivered(text: str, response: ExportResponse) -> Answer:
    partial = response.partial_success
    rejected = 0
    for name in ("rejected_spans", "rejected_data_points", "rejected_log_records"):
        rejected += getattr(partial, name, 0)
    if rejected or partial.error_message:
        text = f"{text}, partial success: {rejected} rejected: {partial.error_message}"
    return Answer(True, False, text[: _ANSWER_CHARS * 2], rejected=rejected)


def _retry_delay(error: grpc.aio.AioRpcError) -> float | None:
    """The ``RetryInfo`` delay in the error's status details, if there is one."""
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin" or not isinstance(value, bytes):
            continue
        try:
            status = Status.FromString(value)
        except Exception:
            return None
        for detail in status.details:
            if detail.Is(RetryInfo.DESCRIPTOR):
                info = RetryInfo()
                detail.Unpack(info)
                return float(info.retry_delay.ToTimedelta().total_seconds())
    return None
