"""Load for a real ``otelite serve``: senders that remember what was acknowledged, RSS probes."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from otelite.otlp import decode_request_json
from otelite.types import ExportTraceServiceRequest, Signal


def make_request(batch: int, spans: int) -> ExportTraceServiceRequest:
    """``spans`` spans of one trace per ``batch``; span ids are unique across batches."""
    now = time.time_ns()
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    attribute = resource_spans.resource.attributes.add()
    attribute.key, attribute.value.string_value = "service.name", "load"
    scope_spans = resource_spans.scope_spans.add()
    for i in range(spans):
        span = scope_spans.spans.add()
        span.trace_id = batch.to_bytes(8, "big") + (1).to_bytes(8, "big")
        span.span_id = (batch * 100_000 + i + 1).to_bytes(8, "big")
        span.name = f"op-{i % 7}"
        span.start_time_unix_nano = now + i
        span.end_time_unix_nano = span.start_time_unix_nano + 1000
        for k in range(4):
            kv = span.attributes.add()
            kv.key, kv.value.string_value = f"attribute.{k}", f"value-{batch}-{i}-{k}"
    return request


def span_ids(request: ExportTraceServiceRequest) -> set[bytes]:
    return {s.span_id for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans}


class Sender(threading.Thread):
    """Posts ``spans``-span requests until stopped; remembers what was acknowledged.

    A refused request (429/503) is counted, its ``Retry-After`` kept, and the sender moves
    on to a new batch after ``pause`` seconds: the point is to keep the server past
    capacity, not to be a polite client. Each batch is sent at most once.
    """

    def __init__(self, url: str, first_batch: int, *, spans: int, pause: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.batch = first_batch
        self.spans = spans
        self.pause = pause
        self.sent: set[bytes] = set()
        self.acknowledged: set[bytes] = set()
        self.refusals: Counter[int] = Counter()
        self.retry_after: list[str | None] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stopping.is_set():
                request = make_request(self.batch, self.spans)
                self.batch += 1
                ids = span_ids(request)
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
                else:
                    self.refusals[response.status_code] += 1
                    self.retry_after.append(response.headers.get("Retry-After"))
                    self.stopping.wait(self.pause)


def stored_span_ids(api_url: str) -> Counter[bytes]:
    """Every span id in storage, with how many times it is stored."""
    response = httpx.get(f"{api_url}/api/export", params={"signal": "traces"}, timeout=120)
    response.raise_for_status()
    ids: Counter[bytes] = Counter()
    for line in response.text.splitlines():
        request = decode_request_json(Signal.TRACES, line)
        assert isinstance(request, ExportTraceServiceRequest)
        ids.update(
            s.span_id for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans
        )
    return ids


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


class PeakRss(threading.Thread):
    """Samples a process's RSS every ``interval`` seconds, keeping the peak."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.peak = max(self.peak, rss_bytes(self.pid))
            except (OSError, AssertionError):
                return  # the process is gone
            self.stopping.wait(self.interval)
