"""Sender processes: pre-encoded OTLP bodies over real sockets, HTTP or gRPC.

Each sender is its own process (forked, so the bodies are inherited rather than pickled),
connects first, waits for a shared start signal, then sends its bodies one after another on
one connection. Retryable answers (HTTP 429/503, gRPC UNAVAILABLE/RESOURCE_EXHAUSTED) are
retried after a short pause and counted; the run is measured from the start signal to the
last successful response.
"""

from __future__ import annotations

import http.client
import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from typing import Literal

import grpc
from google.rpc.error_details_pb2 import RetryInfo  # type: ignore[import-untyped]
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]

from otelite.types import Signal

__all__ = ["SendResult", "Transport", "Work", "presplit", "send_parallel"]

Transport = Literal["http", "grpc"]

_GRPC_METHODS = {
    Signal.TRACES: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    Signal.METRICS: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    Signal.LOGS: "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}
_RETRYABLE_HTTP = {429, 502, 503, 504}
_RETRYABLE_GRPC = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED}
_MAX_PAUSE_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the senders of one run achieved together."""

    items: int
    """Items in requests answered with success."""
    requests: int
    retries: int
    failures: int
    """Requests given up on (non-retryable answers)."""
    started: float
    """``time.monotonic()`` at the start signal (system-wide clock, same in every process)."""
    last_ok: float
    """``time.monotonic()`` of the last successful response."""
    first_error: str

    @property
    def seconds(self) -> float:
        return max(1e-9, self.last_ok - self.started)

    @property
    def rate(self) -> float:
        """Items acknowledged per second."""
        return self.items / self.seconds


@dataclass(frozen=True, slots=True)
class _Partial:
    items: int
    requests: int
    retries: int
    failures: int
    last_ok: float
    first_error: str


Work = Callable[[int, int], Iterable[tuple[bytes, int]]]
"""(sender index, sender count) → the (body, items) that sender sends, in order. Called in
the parent before forking, so it may close over anything; make it lazy to encode in the
sender."""

Send = Callable[[bytes], tuple[bool, bool, str, float]]
"""body → (ok, retryable, error, retry_after)."""


def _http_sender(host: str, port: int, path: str) -> tuple[Send, Callable[[], None]]:
    connection = http.client.HTTPConnection(host, port, timeout=60)
    headers = {"Content-Type": "application/x-protobuf"}

    def send(body: bytes) -> tuple[bool, bool, str, float]:
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            return False, True, f"{type(error).__name__}: {error}", 0.05
        if response.status == 200:
            return True, False, "", 0.0
        retry_after = float(response.getheader("Retry-After") or 0)
        message = f"HTTP {response.status}: {text[:200]!r}"
        return False, response.status in _RETRYABLE_HTTP, message, retry_after

    return send, connection.close


def _grpc_sender(target: str, signal: Signal) -> tuple[Send, Callable[[], None]]:
    channel = grpc.insecure_channel(target, options=[("grpc.max_send_message_length", -1)])
    grpc.channel_ready_future(channel).result(timeout=30)
    # No serializers: the bodies are already encoded, the answers are not needed.
    export = channel.unary_unary(_GRPC_METHODS[signal])

    def send(body: bytes) -> tuple[bool, bool, str, float]:
        try:
            export(body, timeout=60)
        except grpc.RpcError as error:
            code = error.code()
            message = f"gRPC {code}: {error.details()}"
            return False, code in _RETRYABLE_GRPC, message, _retry_delay(error)
        return True, False, "", 0.0

    return send, channel.close


def _retry_delay(error: grpc.RpcError) -> float:
    """The RetryInfo delay a gRPC error carries (as OTLP exporters honour it), else 0."""
    for key, value in error.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key != "grpc-status-details-bin":
            continue
        status = Status.FromString(value)
        for detail in status.details:
            if detail.Is(RetryInfo.DESCRIPTOR):
                info = RetryInfo()
                detail.Unpack(info)
                return float(info.retry_delay.seconds + info.retry_delay.nanos / 1e9)
    return 0.0


def _sender_main(
    transport: Transport,
    address: tuple[str, int],
    signal: Signal,
    work: Iterable[tuple[bytes, int]],
    ready: multiprocessing.queues.Queue[_Partial | None],
    start: Event,
    path_prefix: str,
) -> None:
    host, port = address
    if transport == "http":
        send, close = _http_sender(host, port, f"{path_prefix}/v1/{signal.value}")
    else:
        send, close = _grpc_sender(f"{host}:{port}", signal)
    ready.put(None)
    start.wait()
    done = requests = retries = failures = 0
    last_ok = time.monotonic()
    first_error = ""
    for body, count in work:
        while True:
            requests += 1
            ok, retryable, error, retry_after = send(body)
            if ok:
                done += count
                last_ok = time.monotonic()
                break
            first_error = first_error or error
            if not retryable:
                failures += 1
                break
            retries += 1
            time.sleep(min(_MAX_PAUSE_SECONDS, max(0.01, retry_after)))
    close()
    ready.put(_Partial(done, requests, retries, failures, last_ok, first_error))


def send_parallel(
    transport: Transport,
    address: tuple[str, int],
    signal: Signal,
    work: Work,
    *,
    senders: int,
    path_prefix: str = "",
) -> SendResult:
    """Run ``senders`` processes; sender ``n`` sends what ``work(n, senders)`` yields."""
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.queues.Queue[_Partial | None] = context.Queue()
    start = context.Event()
    processes = [
        context.Process(
            target=_sender_main,
            args=(
                transport,
                address,
                signal,
                work(n, senders),
                queue,
                start,
                path_prefix,
            ),
            daemon=True,
        )
        for n in range(senders)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        queue.get(timeout=60)
    started = time.monotonic()
    start.set()
    parts = [queue.get() for _ in processes]
    for process in processes:
        process.join(timeout=30)
    partials = [p for p in parts if p is not None]
    return SendResult(
        items=sum(p.items for p in partials),
        requests=sum(p.requests for p in partials),
        retries=sum(p.retries for p in partials),
        failures=sum(p.failures for p in partials),
        started=started,
        last_ok=max(p.last_ok for p in partials),
        first_error=next((p.first_error for p in partials if p.first_error), ""),
    )


def presplit(bodies: Sequence[bytes], items: Sequence[int]) -> Work:
    """Pre-encoded ``bodies`` dealt round-robin to the senders."""

    def work(n: int, senders: int) -> Iterable[tuple[bytes, int]]:
        return list(zip(bodies[n::senders], items[n::senders], strict=True))

    return work
