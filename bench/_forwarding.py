"""Forwarding to a local receiver: does it keep up with ingest?

A DuckDB server with ``exporters:`` in its pipeline file forwards every span it accepts to
a real OTLP receiver on the same machine (``counting_receiver``: otelite's own receivers,
decoding and checking every request, in front of a consumer that counts spans), over
OTLP/HTTP and (a second forwarding server, taking turns with the first) over OTLP/gRPC,
with the exporter's defaults (gzip, batches, two in flight). The destination does not
store: a second otelite storing on the same two cores was itself the limit (it answered
"ingest queue is full" while the forwarding server still acknowledged), and a slower
destination is one no forwarder keeps up with. The same trace workload as the other
ingest runs goes to the forwarding server; after the last acknowledgement the bench
watches three things until each is done: the forwarding server's own store (its
sustained rate, as plain ingest measures it), its queue for the destination
(``/api/forwarding``: what waits at the first look, and when it is empty, meaning the
destination acknowledged every request), and the destination's count (every span
arrived).

Forwarding keeps up when every span arrives and the delivery rate (spans from the start
until the queue is empty) is at least ``FORWARD_LIMIT`` of the rate the forwarding server
acknowledged, in the same run; the median over runs is judged, and the queue must be
empty within ``DRAIN_LIMIT_SECONDS`` of the last acknowledgement (median). The ratio is
of one run's own figures, so what else the machine does hits both sides alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench._format import TIMES, rate, summary_text
from bench._ingest import count_stored
from bench._send import SendResult, presplit, send_parallel
from bench._server import OteliteProcess, start_paused
from bench._sink import CountingReceiver, counting_receiver
from bench._stats import summarize
from bench._workload import Pool, variant
from otelite.types import Signal

__all__ = [
    "DRAIN_LIMIT_SECONDS",
    "FORWARD_LIMIT",
    "ForwardRun",
    "ForwardSeries",
    "ForwardingRun",
    "forwarding_section",
    "keeps_up",
    "run_forwarding",
]

FORWARD_LIMIT = 0.95
"""Spans delivered per second (until the queue is empty) over spans acknowledged per
second, in the same run: forwarding may trail ingest by at most 5%."""
DRAIN_LIMIT_SECONDS = 2.0
"""The queue is empty at most this long after the last acknowledgement (median)."""
PROTOCOLS = ("http/protobuf", "grpc")
DESTINATION = "local"
_TIMEOUT_SECONDS = 300.0
_POLL_SECONDS = 0.1
"""As the ingest runs poll: each look is a request the servers answer meanwhile."""


def pipeline_file(protocol: str, destination: CountingReceiver) -> str:
    """The forwarding server's pipeline file: one exporter to ``destination``."""
    if protocol == "grpc":
        endpoint = f"http://127.0.0.1:{destination.grpc_port}"
    else:
        endpoint = f"http://127.0.0.1:{destination.http_port}"
    return f"exporters:\n  {DESTINATION}:\n    endpoint: {endpoint}\n    protocol: {protocol}\n"


@dataclass(frozen=True, slots=True)
class ForwardRun:
    """One run: the workload sent once to the forwarding server."""

    sent: SendResult
    stored_after: float | None
    """Seconds from the last acknowledgement until the forwarding server stored it all."""
    drained_after: float | None
    """Seconds from the last acknowledgement until its queue was empty (None: not in time)."""
    arrived_after: float | None
    """Seconds from the last acknowledgement until the destination had every span."""
    arrived: int
    """Spans of this run the destination took (at least ``sent.items`` when all did)."""
    queued_requests: int
    """The queue at the first look after the last acknowledgement."""
    queued_bytes: int
    oldest_seconds: float | None

    @property
    def acknowledged_rate(self) -> float:
        return self.sent.rate

    @property
    def delivered_rate(self) -> float:
        """Spans per second from the start until the destination acknowledged them all."""
        if self.drained_after is None:
            return 0.0
        return self.sent.items / (self.sent.seconds + self.drained_after)

    @property
    def all_arrived(self) -> bool:
        return self.arrived_after is not None and self.arrived >= self.sent.items

    @property
    def ratio(self) -> float:
        """Delivered over acknowledged spans/s (0 when spans are missing)."""
        if not self.all_arrived:
            return 0.0
        return self.delivered_rate / self.acknowledged_rate


@dataclass(frozen=True, slots=True)
class ForwardSeries:
    """Several runs forwarding with one protocol."""

    protocol: str
    senders: int
    items_per_run: int
    runs: list[ForwardRun]


@dataclass(frozen=True, slots=True)
class ForwardingRun:
    series: list[ForwardSeries]


def run_forwarding(
    pool: Pool,
    *,
    senders: int,
    runs: int,
    workdir: Path,
    protocols: tuple[str, ...] = PROTOCOLS,
) -> ForwardingRun:
    """Send ``pool`` ``runs`` times over OTLP/HTTP to a forwarding server per protocol, the
    forwarding servers taking turns run by run, all forwarding to one destination."""
    results: list[list[ForwardRun]] = [[] for _ in protocols]
    stored = [0 for _ in protocols]
    arrived = 0
    with ExitStack() as cleanup:
        destination = cleanup.enter_context(counting_receiver())
        forwarders = []
        for protocol in protocols:
            label = f"forward-{protocol.replace('/', '-')}"
            path = workdir / f"{label}.yaml"
            path.write_text(pipeline_file(protocol, destination))
            forwarders.append(
                OteliteProcess.under(
                    workdir, "duckdb", label=label, extra_args=("--pipeline-file", str(path))
                )
            )
        start_paused(forwarders, cleanup)
        for generation in range(runs):
            work = presplit(variant(pool, generation), pool.items)
            for n, server in enumerate(forwarders):
                with server.turn(), httpx.Client() as client:
                    sent = send_parallel(
                        "http", ("127.0.0.1", server.http_port), pool.signal, work, senders=senders
                    )
                    stored[n] += sent.items
                    run = _follow(client, server, destination, sent, stored[n], arrived)
                arrived += run.arrived
                results[n].append(run)
    return ForwardingRun(
        [
            ForwardSeries(protocol, senders, pool.total_items, of_protocol)
            for protocol, of_protocol in zip(protocols, results, strict=True)
        ]
    )


def _follow(
    client: httpx.Client,
    server: OteliteProcess,
    destination: CountingReceiver,
    sent: SendResult,
    stored: int,
    arrived_before: int,
) -> ForwardRun:
    """Watch the forwarding server's store, its queue and the destination's count until
    each has everything of this run (or the time is up)."""
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    first: _Queue | None = None
    stored_after = drained_after = arrived_after = None
    arrived = 0
    while time.monotonic() < deadline:
        if drained_after is None:
            queue = _queue(client, server.url)
            first = first or queue
            if queue.requests == 0:
                drained_after = _since(sent)
        if stored_after is None and count_stored(client, server.url, Signal.TRACES) >= stored:
            stored_after = _since(sent)
        if arrived_after is None:
            arrived = destination.items() - arrived_before
            if arrived >= sent.items:
                arrived_after = _since(sent)
        if None not in (stored_after, drained_after, arrived_after):
            break
        time.sleep(_POLL_SECONDS)
    assert first is not None
    return ForwardRun(
        sent,
        stored_after,
        drained_after,
        arrived_after,
        arrived,
        first.requests,
        first.bytes,
        first.oldest_seconds,
    )


def _since(sent: SendResult) -> float:
    # Taken after the answer: conservative by up to one look's latency.
    return max(0.0, time.monotonic() - sent.last_ok)


@dataclass(frozen=True, slots=True)
class _Queue:
    requests: int
    bytes: int
    oldest_seconds: float | None


def _queue(client: httpx.Client, url: str) -> _Queue:
    """The destination's queue as ``/api/forwarding`` shows it."""
    answer = client.get(f"{url}/api/forwarding", timeout=60)
    answer.raise_for_status()
    found = next(d for d in answer.json()["destinations"] if d["name"] == DESTINATION)
    oldest = found["oldestQueuedSeconds"]
    return _Queue(
        int(found["queuedRequests"]),
        int(found["queuedBytes"]),
        None if oldest is None else float(oldest),
    )


def keeps_up(series: ForwardSeries) -> tuple[float, bool, float | None]:
    """The median run ratio (delivered over acknowledged spans/s), whether every span of
    every run arrived, and the median seconds until the queue was empty (None when a run's
    queue never was)."""
    ratio = summarize([r.ratio for r in series.runs]).median
    every = all(r.all_arrived for r in series.runs)
    drains = [r.drained_after for r in series.runs]
    drained = None if None in drains else summarize([d for d in drains if d is not None]).median
    return ratio, every, drained


def forwarding_section(found: ForwardingRun | None) -> list[str]:
    lines = ["", "## Forwarding to a local receiver", ""]
    if found is None:
        return [*lines, "Not run."]
    senders = found.series[0].senders if found.series else 0
    lines += [
        f"Traces over OTLP/HTTP from {senders} senders into a DuckDB server whose pipeline file",
        "forwards everything (`exporters:`, its defaults: gzip, batches, two in flight) to a",
        "real OTLP receiver on the same machine (otelite's receivers, decoding and checking",
        "every request, in front of a consumer that counts spans instead of storing them, so",
        "that the destination is not itself the limit); one forwarding server per protocol,",
        "taking turns run by run. After the last acknowledgement: stored, when the forwarding",
        "server had stored it all; queue, what waited for the destination at the first look",
        "(`/api/forwarding`: requests, their bytes, the age of the one being sent; medians);",
        "drained, when that queue was empty (the destination acknowledged every request);",
        "arrived, when the destination had taken every span. Delivered: spans per second",
        "from the start until drained. Judged: delivered over acknowledged, run by run, at",
        f"least {FORWARD_LIMIT:.2f}{TIMES} (median; a run with spans missing counts 0), every",
        f"span arrived, and drained within {DRAIN_LIMIT_SECONDS:g} s (median).",
        "",
        "| forwarded over | acknowledged spans/s | stored after (s) | queue at last ack "
        "| drained after (s) | delivered spans/s | arrived after (s) | delivered/acknowledged |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [_row(series) for series in found.series]
    for series in found.series:
        missing = [r for r in series.runs if not r.all_arrived]
        if missing:
            short = ", ".join(f"{r.arrived:,} of {r.sent.items:,}" for r in missing)
            lines += ["", f"Over {series.protocol}, not every span arrived: {short}."]
    return lines


def _row(series: ForwardSeries) -> str:
    runs = series.runs
    queue = summarize([r.queued_requests for r in runs])
    queued_mib = summarize([r.queued_bytes / 1024**2 for r in runs]).median
    ages = [r.oldest_seconds for r in runs if r.oldest_seconds is not None]
    oldest = f", oldest {summarize(ages).median:.1f} s" if ages else ""
    return (
        f"| {series.protocol} | {_of(runs, lambda r: r.acknowledged_rate, rate)} "
        f"| {_of(runs, lambda r: r.stored_after, _seconds)} "
        f"| {queue.median:,.0f} requests, {queued_mib:.1f} MiB{oldest} "
        f"| {_of(runs, lambda r: r.drained_after, _seconds)} "
        f"| {_of(runs, lambda r: None if r.drained_after is None else r.delivered_rate, rate)} "
        f"| {_of(runs, lambda r: r.arrived_after, _seconds)} "
        f"| {_of(runs, lambda r: r.ratio, _times)} |"
    )


def _of(
    runs: list[ForwardRun], value: Callable[[ForwardRun], float | None], fmt: Callable[[float], str]
) -> str:
    """The runs' summary of ``value``; a run where it never came is named."""
    values = [value(r) for r in runs]
    known = [v for v in values if v is not None]
    if not known:
        return "not in time"
    text = summary_text(summarize(known), fmt)
    late = len(values) - len(known)
    return text if not late else f"{text}; {late} not in {_TIMEOUT_SECONDS:g} s"


def _seconds(value: float) -> str:
    return f"{value:.1f}"


def _times(value: float) -> str:
    return f"{value:.2f}{TIMES}"
