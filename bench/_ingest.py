"""Ingest runs: a fresh server per store, pre-encoded requests from parallel senders, and
the time until every acknowledged item can be read back through the query API."""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench._send import SendResult, Transport, presplit, send_parallel
from bench._server import MemorySampler, OteliteProcess, Store, read_memory, start_paused
from bench._workload import Pool, variant
from otelite.types import Signal

__all__ = ["IngestRun", "IngestSeries", "count_stored", "ingest_turns", "run_ingest"]

_DAY_S = 86_400
_TIMEOUT_SECONDS = 300.0
_POLL_SECONDS = 0.1
"""Between counts while waiting: each is a query the server answers while it stores the
last of the run, so polling faster would slow what it measures (±0.1 s is precise
enough for a figure in seconds)."""


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
    store: Store = "duckdb"


def count_stored(
    client: httpx.Client, url: str, signal: Signal, window: tuple[int, int] | None = None
) -> int:
    """Spans, log records or metric points stored between ``window`` (Unix seconds; by
    default the last two days and the next one), by ``/api/count``: stored rows, the same
    count ``/api/services`` sums for spans."""
    now = int(time.time())
    start, end = window or (now - 2 * _DAY_S, now + _DAY_S)
    params = {"signal": signal.value, "start": str(start), "end": str(end)}
    answer = client.get(f"{url}/api/count", params=params, timeout=60)
    answer.raise_for_status()
    stored: int = answer.json()["count"]
    return stored


def run_ingest(
    pool: Pool,
    *,
    transport: Transport,
    senders: int,
    runs: int,
    workdir: Path,
    stores: Sequence[Store] = ("duckdb",),
) -> list[IngestSeries]:
    """Start a fresh server per store in ``workdir`` and send all of ``pool`` to each
    ``runs`` times, each time as new data, waiting after each run until everything is
    stored. The stores take turns run by run (run 1 on each in order, then run 2, ...),
    the others paused, so that what else the machine does falls on all of them alike."""
    servers = [OteliteProcess.under(workdir, store) for store in stores]
    return ingest_turns(servers, pool, transport=transport, senders=senders, runs=runs)


def ingest_turns(
    servers: Sequence[OteliteProcess],
    pool: Pool,
    *,
    transport: Transport,
    senders: int,
    runs: int,
) -> list[IngestSeries]:
    """Start ``servers`` and send all of ``pool`` to each ``runs`` times, as ``run_ingest``
    does: the servers take turns run by run, the others paused."""
    results: list[list[IngestRun]] = [[] for _ in servers]
    stored = [0 for _ in servers]
    peaks = [0 for _ in servers]
    at_rest = []
    with ExitStack() as cleanup:
        start_paused(servers, cleanup)
        for generation in range(runs):
            work = presplit(variant(pool, generation), pool.items)
            for n, server in enumerate(servers):
                port = server.http_port if transport == "http" else server.grpc_port
                with server.turn(), MemorySampler(server.pid) as memory, httpx.Client() as client:
                    sent = send_parallel(
                        transport, ("127.0.0.1", port), pool.signal, work, senders=senders
                    )
                    stored[n] += sent.items
                    lag = _wait_stored(client, server.url, pool.signal, sent, stored[n])
                results[n].append(IngestRun(sent, lag))
                peaks[n] = max(peaks[n], memory.peak)
        for n, server in enumerate(servers):
            with server.turn(), MemorySampler(server.pid) as memory:
                time.sleep(1.0)
                at_rest.append(read_memory(server.pid))
            peaks[n] = max(peaks[n], memory.peak)
    return [
        IngestSeries(
            pool.signal,
            transport,
            senders,
            pool.total_items,
            runs_of_store,
            max(peak, rest.hwm),
            rest.rss,
            server.store,
        )
        for server, runs_of_store, peak, rest in zip(servers, results, peaks, at_rest, strict=True)
    ]


def _wait_stored(
    client: httpx.Client, url: str, signal: Signal, sent: SendResult, total: int
) -> float:
    """Seconds from the last acknowledgement until the store counts ``total`` items, all
    runs' so far (each run waits for its own, so only this one's can be missing)."""
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    while True:
        stored = count_stored(client, url, signal)
        # Taken after the answer: conservative by up to one query's latency.
        now = time.monotonic()
        if stored >= total:
            return max(0.0, now - sent.last_ok)
        if now > deadline:
            raise TimeoutError(
                f"{signal.value}: {stored} of {total} items stored after {_TIMEOUT_SECONDS}s"
            )
        time.sleep(_POLL_SECONDS)
