"""Query latency over a store filled to a given size, and the store's footprint.

The store is filled through OTLP/HTTP like any client would: a pool of generated requests is
sent again and again with fresh trace ids, spread over the last day, oldest first. The
queries are picked from the data itself (a trace that exists, an attribute value that some
spans carry) so they work with any generator. With several stores, each is filled in turn
with the same data, then they take turns answering the same requests, run by run.
"""

from __future__ import annotations

import collections
import random
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from bench._analysis import analysis_queries, send_big_trace
from bench._disk import disk_usage, settled_disk_usage
from bench._ingest import count_stored
from bench._send import SendResult, send_parallel
from bench._server import MemorySampler, OteliteProcess, Store, read_memory, wait_until
from bench._stats import percentile
from bench._workload import Pool, fill_schedule, regenerate_id, retime_logs, retrace_spans
from otelite.types import ExportLogsServiceRequest, ExportTraceServiceRequest, Signal

__all__ = [
    "LOGQL_FILTER",
    "LOGQL_JSON",
    "LOGQL_LEVELS",
    "TRACEQL_FILTER",
    "TRACEQL_RATE",
    "TRACEQL_STRUCTURAL",
    "Latency",
    "StoreRun",
    "run_store",
]

_WINDOW_NS = 24 * 3600 * 10**9
_FILL_SENDERS = 2


@dataclass(frozen=True, slots=True)
class Latency:
    """One query's latencies over repeated runs: p50 and p99 of each run, in seconds."""

    name: str
    example: str
    """One of the request paths, as sent."""
    p50s: list[float]
    p99s: list[float]
    requests_per_run: int
    result_rows: int
    """Rows (traces, operations, records) the example answered with: a sanity check."""


@dataclass(frozen=True, slots=True)
class StoreRun:
    """A store filled to ``spans`` spans (and ``logs`` log records), then queried."""

    spans: int
    logs: int
    fill: SendResult
    fill_queryable_after: float
    disk_bytes: int
    """Size of the data directory after a clean shutdown, spans only."""
    settled_disk_bytes: int
    """The same without what the store is bound to delete (``bench._disk``)."""
    restart_seconds: float
    peak_rss: int
    rest_rss: int
    latencies: list[Latency]
    store: Store = "duckdb"


def _fill(
    server: OteliteProcess, pool: Pool, total: int, *, timeout: float
) -> tuple[SendResult, float]:
    per_request = max(1, pool.items[0])
    requests = -(-total // per_request)
    schedule = list(fill_schedule(requests, len(pool.requests), _WINDOW_NS))

    def work(n: int, senders: int) -> Iterator[tuple[bytes, int]]:
        for index, generation, shift in schedule[n::senders]:
            request = pool.requests[index]
            if isinstance(request, ExportTraceServiceRequest):
                body = retrace_spans(request, generation, shift)
            else:
                assert isinstance(request, ExportLogsServiceRequest)
                body = retime_logs(request, generation, shift)
            yield body, pool.items[index]

    before = _stored(server, pool.signal)
    sent = send_parallel(
        "http", ("127.0.0.1", server.http_port), pool.signal, work, senders=_FILL_SENDERS
    )
    wait_until(
        lambda: _stored(server, pool.signal) >= before + sent.items,
        timeout=timeout,
        what=f"{sent.items} {pool.signal.value} items to be stored",
        every=0.25,
    )
    return sent, time.monotonic() - sent.last_ok


def _stored(server: OteliteProcess, signal: Signal) -> int:
    with httpx.Client() as client:
        return count_stored(client, server.url, signal)


def run_store(
    spans: Pool,
    logs: Pool,
    *,
    total_spans: int,
    total_logs: int,
    workdir: Path,
    runs: int,
    requests_per_run: int,
    stores: Sequence[Store] = ("duckdb",),
    seed: int = 7,
) -> list[StoreRun]:
    """For each store: fill a fresh one, measure it on disk, restart it and add logs; then
    time the queries, the stores taking turns run by run (the others paused)."""
    servers = [OteliteProcess.under(workdir, store) for store in stores]
    fills: list[tuple[SendResult, float, int, int, int]] = []
    restarts: list[float] = []
    rests = []
    with ExitStack() as cleanup:
        for server in servers:
            cleanup.callback(shutil.rmtree, server.data_dir, ignore_errors=True)
            server.start()
            try:
                with MemorySampler(server.pid) as memory:
                    fill, queryable_after = _fill(server, spans, total_spans, timeout=3600)
            finally:
                server.stop()
            disk = disk_usage(server.data_dir)
            settled = settled_disk_usage(server.data_dir, server.store)
            fills.append((fill, queryable_after, disk, settled, memory.peak))
        for server in servers:
            restarted = time.monotonic()
            server.start()
            restarts.append(time.monotonic() - restarted)
            cleanup.callback(server.stop)
            if total_logs:
                _fill(server, logs, total_logs, timeout=3600)
            big_trace = send_big_trace(server)
            server.pause()
        queries = [
            *_queries(spans, logs, total_spans, random.Random(seed)),
            *analysis_queries(big_trace),
        ]
        latencies = [
            _time_query(servers, name, make, runs, requests_per_run) for name, make in queries
        ]
        for server in servers:
            with server.turn():
                rests.append(read_memory(server.pid))
    out = []
    for n, server in enumerate(servers):
        fill, queryable_after, disk, settled, peak = fills[n]
        out.append(
            StoreRun(
                spans=fill.items,
                logs=total_logs,
                fill=fill,
                fill_queryable_after=queryable_after,
                disk_bytes=disk,
                settled_disk_bytes=settled,
                restart_seconds=restarts[n],
                peak_rss=max(peak, rests[n].hwm),
                rest_rss=rests[n].rss,
                latencies=[of_query[n] for of_query in latencies],
                store=server.store,
            )
        )
    return out


TRACEQL_FILTER = "TraceQL: service && status code >= 500, last hour"
TRACEQL_STRUCTURAL = "TraceQL: { kind = server } >> { postgresql }, last hour"
TRACEQL_RATE = "TraceQL metrics: rate() by service, 1 h, 1 m step"
LOGQL_FILTER = 'LogQL: {service_name="X"} |= "error", 1 h, limit 100'
LOGQL_LEVELS = "LogQL: sum by (detected_level) (count_over_time(all[1m])), 6 h"
LOGQL_JSON = 'LogQL: {service_name="X"} | json | duration > 250ms, 1 h'

Query = Callable[[], str]
"""Makes the next request path (and query string) of one query."""


def _queries(
    spans: Pool, logs: Pool, total_spans: int, rng: random.Random
) -> list[tuple[str, Query]]:
    traces = [r for r in spans.requests if isinstance(r, ExportTraceServiceRequest)]
    sent_requests = -(-total_spans // max(1, spans.items[0]))

    def trace_by_id() -> str:
        n = rng.randrange(sent_requests)
        generation, index = divmod(n, len(traces))
        span = rng.choice(list(_spans(traces[index])))
        return f"/api/traces/{regenerate_id(span[1].trace_id, generation).hex()}"

    service, key, value, min_ms = _search_terms(traces)
    search = (
        f"/api/search/traces?service={service}&attr={key}={value}"
        f"&minDuration={min_ms}ms&start=now-1h&end=now"
    )
    busiest = collections.Counter(s for s, _ in _all_spans(traces)).most_common(1)[0][0]
    operations = f"/api/services/{busiest}/operations?start=now-24h&end=now"
    word = _log_word(logs)
    text = f"/api/search/logs?text={word}&start=now-1h&end=now"
    failing = _failing_service(traces)
    hour = {"start": "now-1h", "end": "now"}
    traceql_filter = "/api/search?" + urlencode(
        {
            "q": f'{{ resource.service.name = "{failing}" '
            "&& span.http.response.status_code >= 500 }",
            **hour,
        }
    )
    structural = "/api/search?" + urlencode(
        {"q": '{ kind = server } >> { span.db.system.name = "postgresql" }', **hour}
    )
    rates = "/api/metrics/query_range?" + urlencode(
        {"q": "{ } | rate() by (resource.service.name)", "step": "1m", **hour}
    )
    return [
        ("trace by id", trace_by_id),
        ("search: service + attribute + duration, last hour", lambda: search),
        ("operations p50/p95/p99 + errors, 24 h", lambda: operations),
        ("logs text search, last hour", lambda: text),
        (TRACEQL_FILTER, lambda: traceql_filter),
        (TRACEQL_STRUCTURAL, lambda: structural),
        (TRACEQL_RATE, lambda: rates),
        *_logql_queries(logs),
    ]


def _logql_queries(logs: Pool) -> list[tuple[str, Query]]:
    """The Loki API's queries, as Grafana sends them (ns times, a step in ms), over the
    hour (six for the volume) before each request: the service with most log records
    for the filter, the one that writes JSON for the parser."""
    records = [
        (service, record.body.string_value)
        for request in logs.requests
        if isinstance(request, ExportLogsServiceRequest)
        for service, record in _log_records(request)
    ]
    busiest = collections.Counter(s for s, _ in records).most_common(1)[0][0]
    writes_json = collections.Counter(s for s, body in records if body.startswith("{"))
    json_service = writes_json.most_common(1)[0][0] if writes_json else busiest

    def loki(query: str, hours: int, **more: str) -> Query:
        def make() -> str:
            end = time.time_ns()
            window = {"start": str(end - hours * 3600 * 10**9), "end": str(end)}
            return "/loki/api/v1/query_range?" + urlencode({"query": query, **window, **more})

        return make

    return [
        (
            LOGQL_FILTER,
            loki(f'{{service_name="{busiest}"}} |= "error"', 1, limit="100"),
        ),
        (
            LOGQL_LEVELS,
            loki(
                'sum by (detected_level) (count_over_time({service_name=~".+"}[1m]))',
                6,
                step="60000ms",
            ),
        ),
        (
            LOGQL_JSON,
            loki(f'{{service_name="{json_service}"}} | json | duration > 250ms', 1, limit="100"),
        ),
    ]


def _log_records(request: ExportLogsServiceRequest) -> Iterator[tuple[str, LogRecord]]:
    for rl in request.resource_logs:
        service = next(
            (a.value.string_value for a in rl.resource.attributes if a.key == "service.name"),
            "",
        )
        for sl in rl.scope_logs:
            for record in sl.log_records:
                yield service, record


def _failing_service(traces: list[ExportTraceServiceRequest]) -> str:
    """The service with the most spans answering HTTP 500 or more."""
    found: collections.Counter[str] = collections.Counter()
    for service, span in _all_spans(traces):
        for attribute in span.attributes:
            if attribute.key == "http.response.status_code" and attribute.value.int_value >= 500:
                found[service] += 1
    return found.most_common(1)[0][0] if found else "checkout"


def _spans(request: ExportTraceServiceRequest) -> Iterator[tuple[str, Span]]:
    for rs in request.resource_spans:
        service = next(
            (a.value.string_value for a in rs.resource.attributes if a.key == "service.name"), ""
        )
        for ss in rs.scope_spans:
            for span in ss.spans:
                yield service, span


def _all_spans(traces: Iterable[ExportTraceServiceRequest]) -> Iterator[tuple[str, Span]]:
    for request in traces:
        yield from _spans(request)


def _search_terms(traces: list[ExportTraceServiceRequest]) -> tuple[str, str, str, int]:
    """A service and a string attribute that ~1-10% of spans carry, and a duration bound
    half of those spans exceed: a search that has to look at much of the window."""
    found: collections.Counter[tuple[str, str, str]] = collections.Counter()
    durations: dict[tuple[str, str, str], list[int]] = collections.defaultdict(list)
    total = 0
    for service, span in _all_spans(traces):
        total += 1
        for attribute in span.attributes:
            if attribute.value.WhichOneof("value") == "string_value":
                term = (service, attribute.key, attribute.value.string_value)
                found[term] += 1
                durations[term].append(span.end_time_unix_nano - span.start_time_unix_nano)
    candidates = [t for t, n in found.items() if 0.01 <= n / total <= 0.10] or list(found)
    term = max(candidates, key=lambda t: found[t])
    median_ns = sorted(durations[term])[len(durations[term]) // 2]
    return (*term, max(0, median_ns // 1_000_000))


def _log_word(logs: Pool) -> str:
    """A word in about one log body of twenty: a search that finds some, not all."""
    words: collections.Counter[str] = collections.Counter()
    total = 0
    for request in logs.requests:
        assert isinstance(request, ExportLogsServiceRequest)
        for rl in request.resource_logs:
            for sl in rl.scope_logs:
                for record in sl.log_records:
                    total += 1
                    body = record.body.string_value
                    words.update({w for w in body.split() if len(w) >= 4 and w.isalpha()})
    if not words:
        return "error"
    return min(words, key=lambda w: abs(words[w] / max(1, total) - 0.05))


def _time_query(
    servers: Sequence[OteliteProcess], name: str, make: Query, runs: int, requests_per_run: int
) -> list[Latency]:
    """One query's latencies on each server: every server answers the same requests."""
    example = make()
    warm = [make() for _ in range(3)]  # once, as a server that has been running would be
    rows = []
    for server in servers:
        with server.turn(), _client(server) as client:
            answer = client.get(example)
            answer.raise_for_status()
            rows.append(_rows(answer.json()))
            for path in warm:
                client.get(path).raise_for_status()
    p50s: list[list[float]] = [[] for _ in servers]
    p99s: list[list[float]] = [[] for _ in servers]
    for _ in range(runs):
        paths = [make() for _ in range(requests_per_run)]
        for n, server in enumerate(servers):
            with server.turn(), _client(server) as client:
                # Untimed: opens the connection (a paused server drops its idle ones when
                # it resumes) and wakes the server after its pause.
                client.get(example).raise_for_status()
                seconds = []
                for path in paths:
                    began = time.perf_counter()
                    response = client.get(path)
                    seconds.append(time.perf_counter() - began)
                    response.raise_for_status()
            p50s[n].append(percentile(seconds, 50))
            p99s[n].append(percentile(seconds, 99))
    return [
        Latency(name, example, p50s[n], p99s[n], requests_per_run, rows[n])
        for n in range(len(servers))
    ]


def _client(server: OteliteProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=120)


def _rows(body: object) -> int:
    if isinstance(body, dict):
        for key in (
            "traces",
            "operations",
            "logs",
            "batches",
            "series",
            "spans",
            "values",
            "edges",
        ):
            if key in body and isinstance(body[key], list):
                return len(body[key])
        data = body.get("data")
        if isinstance(data, dict) and isinstance(data.get("result"), list):
            # Loki: log lines of every stream, or a metric query's series.
            result = data["result"]
            if data.get("resultType") == "streams":
                return sum(len(stream.get("values", [])) for stream in result)
            return len(result)
    return 0
