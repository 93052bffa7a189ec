"""Ingest runs: a fresh server, pre-encoded requests from parallel senders, and the time
until every acknowledged item can be read back through the query API."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench._send import SendResult, Transport, presplit, send_parallel
from bench._server import MemorySampler, OteliteProcess, read_memory
from bench._workload import VARIANT_SHIFT_NS, Pool, variant
from otelite.types import Signal

__all__ = ["IngestRun", "IngestSeries", "count_stored", "run_ingest"]

_DAY_S = 86_400
# Logs and metrics have no count endpoint; counting them means exporting them all, which
# costs the server time, so they are polled less often than spans.
_TIMEOUT_SECONDS = 300.0
_POLL_SECONDS = {Signal.TRACES: 0.02, Signal.LOGS: 0.25, Signal.METRICS: 0.25}


@dataclass(frozen=True, slots=True)
class IngestRun:
    """One ingest run: the whole pool sent once."""

    sent: SendResult
    queryable_after: float
    """Seconds from the last successful response until every acknowledged item was read back."""

    @property
    def acknowledged_rate(self) -> float:
        return self.sent.rate

    @property
    def stored_rate(self) -> float:
        """Items per second from the start until all were queryable: the sustained rate."""
        return self.sent.items / (self.sent.seconds + self.queryable_after)


@dataclass(frozen=True, slots=True)
class IngestSeries:
    """Several runs of one workload against one fresh server, one after another."""

    signal: Signal
    transport: Transport
    senders: int
    items_per_run: int
    runs: list[IngestRun]
    peak_rss: int
    """Largest RSS sampled while sending and storing, in bytes."""
    rest_rss: int
    """RSS a second after the last run was stored."""


def count_stored(
    client: httpx.Client, url: str, signal: Signal, window: tuple[int, int] | None = None
) -> int:
    """Items of ``signal`` the query API returns between ``window`` (Unix seconds; by
    default the last two days and the next one)."""
    now = int(time.time())
    start, end = window or (now - 2 * _DAY_S, now + _DAY_S)
    params = {"start": str(start), "end": str(end)}
    if signal is Signal.TRACES:
        # The cheapest exact count the API has: span counts grouped by service.
        answer = client.get(f"{url}/api/services", params=params, timeout=60)
        answer.raise_for_status()
        return sum(int(s["spanCount"]) for s in answer.json()["services"])
    answer = client.get(f"{url}/api/export", params={**params, "signal": signal.value}, timeout=120)
    answer.raise_for_status()
    total = 0
    for line in answer.content.splitlines():
        if line.strip():
            total += _items_in_json(orjson.loads(line), signal)
    return total


def _items_in_json(request: dict[str, Any], signal: Signal) -> int:
    if signal is Signal.LOGS:
        return sum(
            len(sl.get("logRecords", []))
            for rl in request.get("resourceLogs", [])
            for sl in rl.get("scopeLogs", [])
        )
    points = 0
    for rm in request.get("resourceMetrics", []):
        for sm in rm.get("scopeMetrics", []):
            for metric in sm.get("metrics", []):
                for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
                    if kind in metric:
                        points += len(metric[kind].get("dataPoints", []))
    return points


def run_ingest(
    pool: Pool,
    *,
    transport: Transport,
    senders: int,
    runs: int,
    workdir: Path,
) -> IngestSeries:
    """Start a fresh server in ``workdir`` and send all of ``pool`` ``runs`` times, each time
    as new data, waiting after each run until everything is stored."""
    server = OteliteProcess(workdir / "data", workdir / "server.log")
    server.start()
    results = []
    try:
        port = server.http_port if transport == "http" else server.grpc_port
        stored = 0
        with MemorySampler(server.pid) as memory, httpx.Client() as client:
            for generation in range(runs):
                work = presplit(variant(pool, generation), pool.items)
                sent = send_parallel(
                    transport, ("127.0.0.1", port), pool.signal, work, senders=senders
                )
                stored += sent.items
                lag = _wait_stored(client, server.url, pool.signal, sent, stored, generation)
                results.append(IngestRun(sent, lag))
            time.sleep(1.0)
            at_rest = read_memory(server.pid)
        peak = max(memory.peak, at_rest.hwm)
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)
    return IngestSeries(
        pool.signal, transport, senders, pool.total_items, results, peak, at_rest.rss
    )


def _wait_stored(
    client: httpx.Client, url: str, signal: Signal, sent: SendResult, total: int, generation: int
) -> float:
    """Seconds from the last acknowledgement until the store answers with every item.

    Spans are counted in total (cheaply, per service); logs and points only within the hour
    this run's data was moved to, since counting them means exporting them.
    """
    every = _POLL_SECONDS[signal]
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    window = None
    if signal is not Signal.TRACES:
        middle = int(time.time()) - generation * VARIANT_SHIFT_NS // 10**9
        window, total = (middle - 1800, middle + 600), sent.items
    while True:
        stored = count_stored(client, url, signal, window)
        # Taken after the answer: conservative by up to one query's latency.
        now = time.monotonic()
        if stored >= total:
            return max(0.0, now - sent.last_ok)
        if now > deadline:
            raise TimeoutError(
                f"{signal.value}: {stored} of {total} items stored after {_TIMEOUT_SECONDS}s"
            )
        time.sleep(every)
