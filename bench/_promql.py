"""PromQL beside Prometheus: the same series in both, the same queries, latency as ratios.

For each size, an hour of samples at 15 s is generated as OTLP (a cumulative counter and
a histogram per route, on processes of ten services): ``size`` counter series and
``size`` histogram bucket series. otelite receives them over OTLP/HTTP like any client
would send them; Prometheus (Debian's, as the PromQL tests run it) serves the same
samples, translated by the tests' own reading of the specification's rules and written
into TSDB blocks by promtool. Before anything is timed, every query's answer from each
otelite store is checked against Prometheus's.

Then the servers take turns, run by run: each query, as a range query over the hour
(15 s step) and as an instant query at its end, ``requests`` times against Prometheus,
then each otelite store (the store not answering is paused). A figure is the median
latency of a run, over HTTP, as Grafana would see it; a ratio is otelite's over
Prometheus's in the same run.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from bench._format import DASH, count, ms, ratio, summary_text
from bench._send import presplit, send_parallel
from bench._server import STORE_NAMES, OteliteProcess, Store, wait_until
from bench._stats import paired_ratios, summarize
from otelite.types import ExportMetricsServiceRequest, Signal
from tests.promql.reference import Reference
from tests.promql.translate import prometheus_series

__all__ = [
    "QUERIES",
    "RATIO_LIMIT",
    "PromqlLatency",
    "PromqlRun",
    "promql_section",
    "run_promql",
    "run_ratios",
    "worst_range_ratio",
]

Kind = Literal["range", "instant"]
_KINDS: tuple[Kind, ...] = ("range", "instant")
QUERIES: dict[str, str] = {
    "rate + sum by": "sum by (job) (rate(bench_requests_total[5m]))",
    "histogram_quantile": (
        "histogram_quantile(0.99, sum by (le, job) (rate(bench_latency_seconds_bucket[5m])))"
    ),
}
_BASE_S = 1_767_571_200  # 2026-01-05T00:00:00Z, on a two-hour block boundary
_STEP_S = 15
_POINTS = 240  # an hour at 15 s
_SERVICES = 10
_ROUTES = 10
_CODES = ("200", "201", "204", "301", "304", "400", "401", "404", "429", "500")
_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_PER_PROCESS = _ROUTES * len(_CODES)  # counter series; as many bucket series


@dataclass(frozen=True, slots=True)
class PromqlLatency:
    """One query of one kind on one server: the median latency of each run, seconds."""

    query: str
    kind: Kind
    server: Store | Literal["prometheus"]
    medians: list[float]


@dataclass
class PromqlRun:
    """Everything measured at one size."""

    series: int
    """Counter series; the histogram has as many bucket series."""
    samples: int
    requests_per_run: int
    latencies: list[PromqlLatency] = field(default_factory=list)
    checked: dict[Store, str] = field(default_factory=dict)
    """Per store: how its answers compared with Prometheus's."""

    def of(self, query: str, kind: Kind, server: str) -> PromqlLatency | None:
        return next(
            (
                lat
                for lat in self.latencies
                if (lat.query, lat.kind, lat.server) == (query, kind, server)
            ),
            None,
        )


def run_promql(
    sizes: Sequence[int],
    *,
    stores: Sequence[Store],
    workdir: Path,
    runs: int,
) -> list[PromqlRun]:
    """Each size in turn: fill Prometheus and every store, check answers, time queries."""
    found = []
    for size in sizes:
        requests = list(_requests(size))
        series = prometheus_series(requests)
        samples = sum(len(s.samples) for s in series)
        per_run = max(5, min(30, 30_000 // size))
        run = PromqlRun(size, samples, per_run)
        with ExitStack() as stack:
            reference = stack.enter_context(Reference(series, workdir / f"prometheus-{size}"))
            del series
            servers: dict[Store, OteliteProcess] = {}
            for store in stores:
                (workdir / f"promql-{size}").mkdir(parents=True, exist_ok=True)
                server = OteliteProcess.under(workdir / f"promql-{size}", store)
                server.start()
                stack.callback(server.stop)
                _send(server, requests, expected=size)
                servers[store] = server
                server.pause()
            for store, server in servers.items():
                with server.turn():
                    run.checked[store] = _check(server.url, reference.url)
            timings: dict[tuple[str, Kind, Store | Literal["prometheus"]], list[float]] = {}
            for _ in range(runs):
                for name, query in QUERIES.items():
                    for kind in _KINDS:
                        timings.setdefault((name, kind, "prometheus"), []).append(
                            _median_latency(reference.url, query, kind, per_run)
                        )
                        for store, server in servers.items():
                            with server.turn():
                                timings.setdefault((name, kind, store), []).append(
                                    _median_latency(server.url, query, kind, per_run)
                                )
            run.latencies = [
                PromqlLatency(name, kind, server, medians)
                for (name, kind, server), medians in timings.items()
            ]
        found.append(run)
    return found


def _requests(size: int) -> Iterator[ExportMetricsServiceRequest]:
    """An hour of exports from ``size / 100`` processes: per 15 s, one request with a
    point of each of their series, as each process's SDK would export them. Every
    series starts at zero: where a counter's first sample is not zero, the window that
    starts before it extrapolates differently in Prometheus 2 (the reference here) and
    Prometheus 3 (otelite's semantics)."""
    processes = max(1, size // _PER_PROCESS)
    rng = random.Random(size)
    # Per process and route: requests per 15 s of each code, and bucket increments.
    per_step = [
        [[rng.randint(0, 20) for _ in _CODES] for _ in range(_ROUTES)] for _ in range(processes)
    ]
    spread = [
        [[rng.randint(0, 6) for _ in range(len(_BOUNDS) + 1)] for _ in range(_ROUTES)]
        for _ in range(processes)
    ]
    start_ns = _BASE_S * 10**9
    for step in range(_POINTS):
        at = (_BASE_S + step * _STEP_S) * 10**9
        resources = []
        for process in range(processes):
            counters = [
                NumberDataPoint(
                    start_time_unix_nano=start_ns,
                    time_unix_nano=at,
                    as_int=per_step[process][route][code] * step,
                    attributes=[_kv("route", f"/r{route}"), _kv("code", _CODES[code])],
                )
                for route in range(_ROUTES)
                for code in range(len(_CODES))
            ]
            buckets = [
                HistogramDataPoint(
                    start_time_unix_nano=start_ns,
                    time_unix_nano=at,
                    count=sum(spread[process][route]) * step,
                    sum=float(sum(spread[process][route]) * step) / 8,
                    bucket_counts=[n * step for n in spread[process][route]],
                    explicit_bounds=_BOUNDS,
                    attributes=[_kv("route", f"/r{route}")],
                )
                for route in range(_ROUTES)
            ]
            metrics = [
                Metric(
                    name="bench_requests",
                    sum=Sum(
                        data_points=counters,
                        aggregation_temporality=AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE,
                        is_monotonic=True,
                    ),
                ),
                Metric(
                    name="bench_latency_seconds",
                    histogram=Histogram(
                        data_points=buckets,
                        aggregation_temporality=AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE,
                    ),
                ),
            ]
            resource = Resource(
                attributes=[
                    _kv("service.name", f"svc-{process % _SERVICES}"),
                    _kv("service.instance.id", f"i-{process}"),
                ]
            )
            resources.append(
                ResourceMetrics(resource=resource, scope_metrics=[ScopeMetrics(metrics=metrics)])
            )
        for first in range(0, len(resources), 20):
            yield ExportMetricsServiceRequest(resource_metrics=resources[first : first + 20])


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _send(
    server: OteliteProcess, requests: list[ExportMetricsServiceRequest], *, expected: int
) -> None:
    """Every request over OTLP/HTTP (2 senders, retrying what the server asks to be
    retried, as an exporter does), then wait until every sample is queryable."""
    bodies = [request.SerializeToString() for request in requests]
    sent = send_parallel(
        "http",
        ("127.0.0.1", server.http_port),
        Signal.METRICS,
        presplit(bodies, [1] * len(bodies)),
        senders=2,
    )
    if sent.failures:
        raise RuntimeError(f"otelite refused {sent.failures} requests: {sent.first_error}")
    end = _BASE_S + (_POINTS - 1) * _STEP_S

    def stored() -> bool:
        body = httpx.get(
            f"{server.url}/api/v1/query",
            params={
                "query": "sum(count_over_time(bench_requests_total[1h]))"
                " + sum(count_over_time(bench_latency_seconds_bucket[1h]))",
                "time": str(end),
            },
            timeout=120,
        ).json()
        result = body.get("data", {}).get("result", [])
        return bool(result) and float(result[0]["value"][1]) == 2 * expected * _POINTS

    # Every sample, not only the last step's: two senders' requests are stored in the
    # order they were accepted, so the last step may be queryable before an earlier one.
    wait_until(stored, timeout=600, what="every sample to be queryable")


def _params(query: str, kind: Kind) -> tuple[str, dict[str, str]]:
    end = _BASE_S + (_POINTS - 1) * _STEP_S
    if kind == "instant":
        return "/api/v1/query", {"query": query, "time": str(end)}
    start = end - 3600 + _STEP_S
    return "/api/v1/query_range", {
        "query": query,
        "start": str(start),
        "end": str(end),
        "step": str(_STEP_S),
    }


def _ask(client: httpx.Client, base: str, query: str, kind: Kind) -> dict[str, Any]:
    path, params = _params(query, kind)
    response = client.get(base + path, params=params)
    body: dict[str, Any] = response.json()
    if body.get("status") != "success":
        raise RuntimeError(f"{base}{path} {query!r}: {body}")
    return body


def _median_latency(base: str, query: str, kind: Kind, requests: int) -> float:
    with httpx.Client(timeout=600) as client:
        _ask(client, base, query, kind)  # a connection, and anything a first query warms
        latencies = []
        for _ in range(requests):
            began = time.perf_counter()
            _ask(client, base, query, kind)
            latencies.append(time.perf_counter() - began)
    return statistics.median(latencies)


def _check(otelite: str, prometheus: str) -> str:
    """Whether every query of every kind answers as Prometheus does: the same series,
    the same steps, values equal to 1e-9 of the larger."""
    worst, where = 0.0, ""
    with httpx.Client(timeout=600) as client:
        for query in QUERIES.values():
            for kind in _KINDS:
                ours = _samples(_ask(client, otelite, query, kind))
                theirs = _samples(_ask(client, prometheus, query, kind))
                if ours.keys() != theirs.keys():
                    return f"different series or steps for {query!r} ({kind})"
                for key, value in theirs.items():
                    other = ours[key]
                    if math.isnan(value) and math.isnan(other):
                        continue
                    scale = max(abs(value), abs(other), 1e-300)
                    if abs(value - other) / scale > worst:
                        worst = abs(value - other) / scale
                        where = f"{query!r} ({kind}) at {key}: {other} against {value}"
    if worst > 1e-9:
        return f"values differ by up to {worst:.1e} (relative), e.g. {where}"
    return f"same answers (largest relative difference {worst:.0e})"


def _samples(body: dict[str, Any]) -> dict[tuple[Any, ...], float]:
    data = body["data"]
    found: dict[tuple[Any, ...], float] = {}
    for item in data["result"]:
        labels = tuple(sorted(item["metric"].items()))
        pairs = item.get("values") or [item["value"]]
        for at, value in pairs:
            found[(labels, float(at))] = float(value)
    return found


# --- report -----------------------------------------------------------------------------

RATIO_LIMIT = 2.0
"""The target: otelite on DuckDB within this factor of Prometheus on range queries."""


def run_ratios(run: PromqlRun, query: str, kind: Kind, store: Store) -> list[float]:
    """otelite's median latency over Prometheus's, run by run."""
    ours, theirs = run.of(query, kind, store), run.of(query, kind, "prometheus")
    if ours is None or theirs is None:
        return []
    return paired_ratios(ours.medians, theirs.medians)


def worst_range_ratio(runs: Sequence[PromqlRun], store: Store) -> tuple[float, str] | None:
    """The largest median ratio of any range query at any size, and where."""
    found = []
    for run in runs:
        for query in QUERIES:
            ratios = run_ratios(run, query, "range", store)
            if ratios:
                where = f"{query}, {count(run.series)} series"
                found.append((summarize(ratios).median, where))
    return max(found, default=None)


def promql_section(runs: Sequence[PromqlRun], stores: Sequence[Store]) -> list[str]:
    lines = ["", "## PromQL beside Prometheus", ""]
    if not runs:
        return [*lines, "Not run."]
    lines += [
        "The same samples in Prometheus (Debian's prometheus, from promtool's blocks) and in",
        "each otelite store (sent as OTLP/HTTP): per size, that many counter series",
        "(`bench_requests_total`, 100 per process, 10 services) and as many histogram bucket",
        "series (`bench_latency_seconds_bucket`, 10 bounds and +Inf per route), an hour at",
        "15 s. Every answer was checked against Prometheus's before timing. Each query runs",
        "as a range query over the hour (15 s step, 240 steps) and as an instant query at its",
        "end, over HTTP, the servers taking turns run by run (otelite's other store paused).",
        "A figure is the median of the runs' median latencies (min" + DASH + "max); a ratio,",
        "the median of the run-by-run ratios to Prometheus.",
        "",
        "Queries: " + "; ".join(f"{name}: `{query}`" for name, query in QUERIES.items()) + ".",
        "",
    ]
    names = [STORE_NAMES[s] for s in stores]
    for run in runs:
        lines += [f"### {count(run.series)} series ({run.samples:,} samples)", ""]
        lines += [f"- {STORE_NAMES[s]}: {text}" for s, text in run.checked.items()]
        lines += [f"- {run.requests_per_run} requests per query per run", ""]
        header = ["query", "", "Prometheus ms"]
        for name in names:
            header += [f"{name} ms", f"{name} / Prometheus"]
        rows = []
        for query in QUERIES:
            for kind in _KINDS:
                theirs = run.of(query, kind, "prometheus")
                row = [query, kind, _latency(theirs)]
                for store in stores:
                    ratios = run_ratios(run, query, kind, store)
                    row += [
                        _latency(run.of(query, kind, store)),
                        summary_text(summarize(ratios), ratio) if ratios else "—",
                    ]
                rows.append(row)
        lines += [
            "| " + " | ".join(header) + " |",
            "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(row) + " |" for row in rows),
            "",
        ]
    return lines


def _latency(latency: PromqlLatency | None) -> str:
    if latency is None or not latency.medians:
        return "—"
    return summary_text(summarize(latency.medians), ms)
