"""``Sender``: deliver serialised OTLP export requests over OTLP/HTTP or OTLP/gRPC.

Retries what the OTLP specification says to retry: HTTP 429, 502, 503 and 504 (waiting
as ``Retry-After`` says when it is present), gRPC UNAVAILABLE and the other transient
codes, and RESOURCE_EXHAUSTED only when it carries a ``RetryInfo`` (waiting its delay).
Other waits are jittered and exponential. Everything else is a ``SendError`` whose message
says what went wrong, starting with "nothing listens" when nothing does.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import grpc
import httpx
from google.protobuf.message import DecodeError
from google.rpc.error_details_pb2 import RetryInfo  # type: ignore[import-untyped]
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]

from otelite.demo._shop import Batch
from otelite.errors import OteliteError
from otelite.otlp import Backoff, retry_after_seconds
from otelite.types import Signal

__all__ = ["DEFAULT_GRPC_ENDPOINT", "DEFAULT_HTTP_ENDPOINT", "SendError", "SendStats", "Sender"]

DEFAULT_HTTP_ENDPOINT = "http://127.0.0.1:4318"
DEFAULT_GRPC_ENDPOINT = "127.0.0.1:4317"
Protocol = Literal["http", "grpc"]

_RETRYABLE_HTTP = frozenset({429, 502, 503, 504})
_RETRYABLE_GRPC = frozenset(
    {
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)
_GRPC_METHODS = {
    Signal.TRACES: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    Signal.METRICS: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    Signal.LOGS: "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}
_REJECTED_FIELD = {
    Signal.TRACES: "rejected_spans",
    Signal.METRICS: "rejected_data_points",
    Signal.LOGS: "rejected_log_records",
}


class SendError(OteliteError):
    """The receiver cannot be reached, refused a request, or stayed busy too long."""


@dataclass(slots=True)
class SendStats:
    """What a ``Sender`` delivered: items accepted and rejected per signal, retries."""

    requests: int = 0
    retries: int = 0
    accepted: dict[Signal, int] = field(default_factory=lambda: dict.fromkeys(Signal, 0))
    rejected: dict[Signal, int] = field(default_factory=lambda: dict.fromkeys(Signal, 0))
    last_rejection: str = ""


class Sender:
    """Sends ``Batch``es to one OTLP endpoint; use as a context manager.

    ``endpoint`` is the OTLP/HTTP base URL (``/v1/traces`` and so on are appended) or the
    gRPC ``host:port`` (an ``http://``/``https://`` prefix is accepted; https means TLS).
    ``headers`` go with every request (e.g. ``authorization``); ``ca_cert`` is a PEM file
    to trust for TLS. A request is retried for at most ``retry_budget`` seconds.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        protocol: Protocol = "http",
        headers: Mapping[str, str] | None = None,
        ca_cert: Path | None = None,
        timeout: float = 10.0,
        retry_budget: float = 60.0,
        seed: int | None = None,
    ) -> None:
        self.protocol = protocol
        self.endpoint = endpoint or (
            DEFAULT_HTTP_ENDPOINT if protocol == "http" else DEFAULT_GRPC_ENDPOINT
        )
        self.stats = SendStats()
        self._timeout = timeout
        self._backoff = Backoff(initial=0.2, maximum=5.0, budget=retry_budget)
        self._backoff.rng = random.Random(seed)
        self._headers = dict(headers or {})
        self._http: httpx.Client | None = None
        self._channel: grpc.Channel | None = None
        if protocol == "http":
            verify: ssl.SSLContext | bool = True
            if ca_cert is not None:
                verify = ssl.create_default_context(cafile=ca_cert)
            self._http = httpx.Client(timeout=timeout, verify=verify, headers=self._headers)
        else:
            self._channel = _channel(self.endpoint, ca_cert)

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close connections."""
        if self._http is not None:
            self._http.close()
        if self._channel is not None:
            self._channel.close()

    def connect(self, timeout: float = 5.0) -> None:
        """Fail fast with a ``SendError`` when nothing listens at the endpoint."""
        if self._http is not None:
            # An empty export request is valid OTLP and stores nothing.
            self._attempt_http(self._http, Batch(Signal.TRACES, b"", 0))
        if self._channel is not None:
            try:
                grpc.channel_ready_future(self._channel).result(timeout=timeout)
            except grpc.FutureTimeoutError:
                raise SendError(self._nothing_listens()) from None

    def send(self, batch: Batch) -> None:
        """Deliver one request, retrying as OTLP asks; counts what was accepted."""
        deadline = time.monotonic() + self._backoff.budget
        waits = self._backoff.waits()
        attempts = 0
        while True:
            attempts += 1
            outcome = self._attempt(batch)
            if isinstance(outcome, bytes):
                self._count(batch, outcome)
                return
            reason, told = outcome
            wait = next(waits) if told is None else told
            if time.monotonic() + wait > deadline:
                raise SendError(
                    f"giving up on {self.endpoint} after {attempts} attempts to send "
                    f"{batch.signal.value} ({reason})"
                )
            self.stats.retries += 1
            time.sleep(wait)

    def _attempt(self, batch: Batch) -> bytes | tuple[str, float | None]:
        """The response body, or why to retry and how long the receiver asked to wait."""
        if self._http is not None:
            return self._attempt_http(self._http, batch)
        assert self._channel is not None
        return self._attempt_grpc(self._channel, batch)

    def _attempt_http(self, client: httpx.Client, batch: Batch) -> bytes | tuple[str, float | None]:
        url = f"{self.endpoint.rstrip('/')}/v1/{batch.signal.value}"
        try:
            response = client.post(
                url, content=batch.body, headers={"Content-Type": "application/x-protobuf"}
            )
        except httpx.ConnectError:
            raise SendError(self._nothing_listens()) from None
        except httpx.TimeoutException:
            return "timed out", None  # a duplicate after a timeout is harmless in OTLP
        except httpx.TransportError as error:
            raise SendError(f"sending to {url} failed: {error}") from None
        if response.status_code in _RETRYABLE_HTTP:
            told = retry_after_seconds(response.headers.get("Retry-After"))
            return f"HTTP {response.status_code}", told
        if response.is_error:
            text = response.content.decode("utf-8", "replace").strip()[:200]
            raise SendError(f"{url} refused the request with HTTP {response.status_code}: {text}")
        return response.content

    def _attempt_grpc(
        self, channel: grpc.Channel, batch: Batch
    ) -> bytes | tuple[str, float | None]:
        # No serialisers: the body is already a serialised request, and the answer is
        # parsed only for its partial success.
        method = channel.unary_unary(_GRPC_METHODS[batch.signal])
        metadata = [(k.lower(), v) for k, v in self._headers.items()]
        try:
            response: bytes = method(batch.body, timeout=self._timeout, metadata=metadata)
        except grpc.RpcError as error:
            code = error.code()
            delay = _retry_delay(error)
            if code in _RETRYABLE_GRPC or (
                code == grpc.StatusCode.RESOURCE_EXHAUSTED and delay is not None
            ):
                return f"gRPC {code.name}", delay
            details = error.details()
            raise SendError(
                f"{self.endpoint} refused the request with gRPC {code.name}: {details}"
            ) from None
        return response

    def _count(self, batch: Batch, body: bytes) -> None:
        stats = self.stats
        stats.requests += 1
        rejected = 0
        try:
            answer = batch.signal.response_type.FromString(body)
        except DecodeError:
            answer = None
        if answer is not None and answer.HasField("partial_success"):
            rejected = int(getattr(answer.partial_success, _REJECTED_FIELD[batch.signal]))
            if answer.partial_success.error_message:
                stats.last_rejection = answer.partial_success.error_message
        stats.rejected[batch.signal] += rejected
        stats.accepted[batch.signal] += batch.items - rejected

    def _nothing_listens(self) -> str:
        transport = "HTTP" if self.protocol == "http" else "gRPC"
        return (
            f"nothing listens for OTLP/{transport} at {self.endpoint}: "
            "is `otelite serve` (or another OTLP receiver) running?"
        )


def _channel(endpoint: str, ca_cert: Path | None) -> grpc.Channel:
    target = endpoint.removeprefix("http://").removeprefix("https://").rstrip("/")
    if endpoint.startswith("https://"):
        roots = ca_cert.read_bytes() if ca_cert is not None else None
        return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=roots))
    return grpc.insecure_channel(target)


def _retry_delay(error: grpc.RpcError) -> float | None:
    """The delay of a ``RetryInfo`` in the error's status details, if there is one."""
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        try:
            status = Status.FromString(value)
        except DecodeError:
            return None
        for detail in status.details:
            info = RetryInfo()
            if detail.Unpack(info):
                return float(info.retry_delay.seconds + info.retry_delay.nanos / 1e9)
    return None
