"""Per-client ingest rates: the token bucket, and how both receivers answer a client over it."""

from __future__ import annotations

import math

import grpc
import httpx
import pytest
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

from otelite.access import Grant, Right
from otelite.config import Limits
from otelite.errors import Overloaded
from otelite.pipeline import InMemoryConsumer, PipelineStats
from otelite.receivers import GrpcReceiver, HttpReceiver
from otelite.receivers._rate import RateLimiter, client_key

from .support import LoopThread, span, traces


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_admits_the_burst_then_makes_the_client_wait_for_its_debt() -> None:
    clock, stats = Clock(), PipelineStats()
    limiter = RateLimiter(1000, 2000, stats=stats, clock=clock)
    limiter.admit("a", 1500)
    limiter.admit("a", 1500)  # 500 left: admitted, and 1000 in debt
    with pytest.raises(Overloaded) as raised:
        limiter.admit("a", 1)
    assert raised.value.retry_after == pytest.approx(1.0)
    assert str(raised.value) == (
        "client 'a' is over its ingest rate (limit ingest_rate_bytes=1000 per second, "
        "ingest_burst_bytes=2000); retry in 1.0s"
    )
    limiter.admit("b", 10)  # other clients have their own bucket
    clock.now += 1.0
    limiter.admit("a", 5000)  # out of debt: even a request over the burst goes through
    clock.now += 4.9
    with pytest.raises(Overloaded):
        limiter.admit("a", 1)
    assert stats.rejected_rate_limited == 2


def test_idle_clients_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(1000, 1000, stats=PipelineStats(), clock=clock)
    for n in range(10_001):
        limiter.admit(f"client-{n}", 1)
    clock.now += 1.0
    limiter.admit("one more", 1)
    assert len(limiter._buckets) == 1


TOKEN = Grant.of([Right.INGEST], None, "line 2 of tokens")


@pytest.mark.parametrize(
    ("tenant", "token", "peer", "key"),
    [
        ("acme", TOKEN, "127.0.0.1", "tenant acme"),
        (None, TOKEN, "127.0.0.1", "token at line 2 of tokens"),
        (None, None, "127.0.0.1", "127.0.0.1"),
        (None, None, "ipv4:10.1.2.3:5123", "10.1.2.3"),
        (None, None, "ipv6:[::1]:5123", "::1"),
        (None, None, None, "unknown peer"),
    ],
)
def test_client_key(tenant: str | None, token: Grant | None, peer: str | None, key: str) -> None:
    assert client_key(tenant=tenant, token=token, peer=peer) == key


LIMITS = Limits(ingest_rate_bytes=100, ingest_burst_bytes=100)


def test_http_client_over_its_rate_gets_429_with_retry_after(loop_thread: LoopThread) -> None:
    consumer = InMemoryConsumer()
    receiver = HttpReceiver(consumer, port=0, limits=LIMITS)
    loop_thread.run(receiver.start())
    body = traces(span()).SerializeToString()
    headers = {"Content-Type": "application/x-protobuf"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{receiver.port}") as client:
            assert client.post("/v1/traces", content=body * 3, headers=headers).status_code == 200
            refused = client.post("/v1/traces", content=body, headers=headers)
            other = client.post(
                "/v1/traces", content=body, headers={**headers, "X-Scope-OrgID": "b"}
            )
    finally:
        loop_thread.run(receiver.shutdown())
    assert refused.status_code == 429
    # The first request left the bucket (3 * size - 100) bytes in debt, paid at 100 bytes/s.
    assert refused.headers["Retry-After"] == str(math.ceil((3 * len(body) - 100) / 100))
    status = Status.FromString(refused.content)
    assert status.code == 8
    assert status.message.startswith("client '127.0.0.1' is over its ingest rate")
    # Without multi-tenancy the header is not checked, so it cannot open a new bucket.
    assert other.status_code == 429
    assert len(consumer.received) == 1
    assert receiver.stats.rejected_rate_limited == 2


def test_grpc_client_over_its_rate_gets_resource_exhausted_with_retry_info(
    loop_thread: LoopThread,
) -> None:
    receiver = GrpcReceiver(InMemoryConsumer(), port=0, limits=LIMITS)
    loop_thread.run(receiver.start())
    request = traces(*(span(name=f"s{i}") for i in range(5)))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{receiver.port}") as channel:
            stub = TraceServiceStub(channel)
            stub.Export(request)
            with pytest.raises(grpc.RpcError) as raised:
                stub.Export(request)
    finally:
        loop_thread.run(receiver.shutdown())
    error = raised.value
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
    assert "over its ingest rate" in error.details()  # type: ignore[attr-defined]
    [details] = [v for k, v in error.trailing_metadata() if k == "grpc-status-details-bin"]  # type: ignore[attr-defined]
    retry_info = RetryInfo()
    assert Status.FromString(details).details[0].Unpack(retry_info)
    assert retry_info.retry_delay.seconds >= 1
