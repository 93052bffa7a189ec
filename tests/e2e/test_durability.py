"""``kill -9`` right after a 200 must not lose what was acknowledged."""

from __future__ import annotations

import random
import signal
import threading
import time
from collections import Counter

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otelite.otlp import decode_request_json
from otelite.types import Signal
from tests.e2e.conftest import ServerProcess, wait_for

pytestmark = pytest.mark.slow


def _request(batch: int, spans: int) -> ExportTraceServiceRequest:
    now = time.time_ns()  # recent, so that retention keeps it
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    attribute = resource_spans.resource.attributes.add()
    attribute.key, attribute.value.string_value = "service.name", "durable"
    scope_spans = resource_spans.scope_spans.add()
    for i in range(spans):
        span = scope_spans.spans.add()
        span.trace_id = batch.to_bytes(8, "big") + (1).to_bytes(8, "big")
        span.span_id = (batch * 100_000 + i + 1).to_bytes(8, "big")
        span.name = f"op-{i % 7}"
        span.start_time_unix_nano = now + i
        span.end_time_unix_nano = span.start_time_unix_nano + 1000
        kv = span.attributes.add()
        kv.key, kv.value.int_value = "batch", batch
    return request


def _stored_span_ids(server: ServerProcess) -> Counter[bytes]:
    response = httpx.get(f"{server.url}/api/export", params={"signal": "traces"}, timeout=30)
    response.raise_for_status()
    ids: Counter[bytes] = Counter()
    for line in response.text.splitlines():
        request = decode_request_json(Signal.TRACES, line)
        for rs in request.resource_spans:  # type: ignore[union-attr]
            for ss in rs.scope_spans:
                ids.update(span.span_id for span in ss.spans)
    return ids


class Sender(threading.Thread):
    """Sends 200-span requests until stopped, remembering which spans were acknowledged."""

    def __init__(self, url: str, first_batch: int) -> None:
        super().__init__()
        self.url = url
        self.batch = first_batch
        self.sent: set[bytes] = set()
        self.acknowledged: set[bytes] = set()
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self.stopping.is_set():
                request = _request(self.batch, 200)
                ids = {s.span_id for s in request.resource_spans[0].scope_spans[0].spans}
                self.sent |= ids
                try:
                    response = client.post(
                        f"{self.url}/v1/traces",
                        content=request.SerializeToString(),
                        headers={"Content-Type": "application/x-protobuf"},
                    )
                except httpx.TransportError:
                    return  # the server died mid-request: not acknowledged
                if response.status_code == 200:
                    self.acknowledged |= ids
                self.batch += 1


def test_kill_9_after_ack_loses_nothing(server: ServerProcess) -> None:
    rng = random.Random(7)
    acknowledged: set[bytes] = set()
    sent: set[bytes] = set()
    for cycle in range(3):
        sender = Sender(server.otlp_http, first_batch=1 + cycle * 100_000)
        sender.start()
        wait_for(lambda s=sender: bool(s.acknowledged), what="a first acknowledgement")
        threading.Event().wait(rng.uniform(0.1, 0.6))
        server.stop(signal.SIGKILL)
        sender.stopping.set()
        sender.join()
        acknowledged |= sender.acknowledged
        sent |= sender.sent

        server.start()
        stored = _stored_span_ids(server)
        missing = acknowledged - stored.keys()
        assert not missing, f"{len(missing)} acknowledged spans lost after kill -9"
        duplicated = {span_id for span_id, n in stored.items() if n > 1}
        assert not duplicated, f"{len(duplicated)} spans stored twice"
        assert stored.keys() <= sent
    assert len(acknowledged) >= 600
