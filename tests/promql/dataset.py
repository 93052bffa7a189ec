"""The PromQL tests' dataset: two hours of metrics from six processes, drawn from a seed.

It exists twice, from the same numbers: ``REQUESTS``, the OTLP export requests to send to
otelite, and ``SERIES``, what the OpenTelemetry specification makes of them in Prometheus
(``translate.prometheus_series``), to load into the reference.

Each process exports every ``INTERVAL_MS`` (± ``JITTER_MS``, at a phase of its own, now
and then missing one), all its points at the time of the export, as an SDK does:

- ``http_requests``, a monotonic cumulative Sum of integers by ``method`` and ``code``
  (→ the counter ``http_requests_total``), and ``latency``, a cumulative Histogram by
  ``method`` with ``BOUNDS`` (→ ``latency_bucket``/``_sum``/``_count``), from the
  ``api`` processes and ``shop/checkout``, in the scope ``http.server`` 1.4.0. A restart
  moves their start time and drops them back to what was counted since;
- ``temperature``, a Gauge by ``sensor`` (multiples of 1/4, some below zero), and
  ``queue_depth``, a non-monotonic cumulative Sum of integers by ``queue`` (→ a gauge),
  in the scope ``runtime`` (no version, so no ``otel_scope_version`` label).

Some series begin or end partway, ``worker-1`` stops for good, ``api-2`` goes silent for
longer than the lookback, and ``checkout-0`` starts late and restarts twice: see
``PROCESSES``. Every value is an integer or a dyadic fraction, so sums are exact.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otelite.types import ExportMetricsServiceRequest
from tests.promql.reference import Series
from tests.promql.translate import prometheus_series

__all__ = [
    "BASE_MS",
    "BOUNDS",
    "END",
    "END_MS",
    "INTERVAL_MS",
    "JITTER_MS",
    "MINUTE_MS",
    "PROCESSES",
    "REQUESTS",
    "SEED",
    "SERIES",
    "SPAN_MS",
    "START",
    "Process",
    "build_requests",
]

SEED = 20260105
MINUTE_MS = 60_000
BASE_MS = 1_767_571_200_000
"""2026-01-05T00:00:00Z: far from the clock, and on a two-hour boundary, as promtool's
blocks are."""
SPAN_MS = 120 * MINUTE_MS
END_MS = BASE_MS + SPAN_MS
"""Every sample is in [BASE_MS, END_MS)."""
START = BASE_MS // 1000
END = END_MS // 1000
"""The same span in Unix seconds, as Prometheus's HTTP API takes times."""
INTERVAL_MS = 15_000
JITTER_MS = 1_500
BOUNDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""``latency``'s explicit bounds (seconds); ``le`` labels 0.05 ... 1, 2.5, +Inf."""
REQUEST_WINDOW_MS = 10 * MINUTE_MS
"""Each request holds the points of every process within one such window of time."""

# One value a bucket's observations all take: dyadic, so every sum is exact.
_IN_BUCKET = (0.03125, 0.078125, 0.1875, 0.375, 0.75, 1.75, 4.0)
_WEIGHTS = (20, 12, 8, 4, 2, 1, 1)
"""How many observations a bucket gains at most per export."""
_REQUEST_STEPS: dict[str, Callable[[random.Random], int]] = {
    "200": lambda rng: rng.randint(0, 40),
    "500": lambda rng: rng.choice((0, 0, 0, 1, 2)),
    "503": lambda rng: rng.randint(0, 3),
}
"""How many requests of each status code a series counts at most per export."""
_HTTP = ("http.server", "1.4.0")
_RUNTIME = ("runtime", "")
_NS_PER_MS = 1_000_000
_RESTART_DOWN_MS = 20_000
"""How long a restarting process sends nothing."""


@dataclass(frozen=True)
class Process:
    """One exporting process (a resource) and what happens to it; times are ms after
    ``BASE_MS``."""

    service: str
    instance: str
    namespace: str = ""
    begins: int = 0
    """Before this the process did not run; at 0 it was already running (since before)."""
    ends: int = SPAN_MS
    restarts: tuple[int, ...] = ()
    silent: tuple[int, int] | None = None
    """A stretch when its exports are lost."""
    routes: tuple[tuple[str, str, int], ...] = ()
    """(method, code, from) of each ``http_requests`` series."""
    latency: tuple[str, ...] = ()
    """The methods of its ``latency`` histograms."""
    sensors: tuple[tuple[str, float, int, int], ...] = ()
    """``temperature`` series: (sensor, first value, from, until)."""
    queues: tuple[str, ...] = ()

    @property
    def job(self) -> str:
        return f"{self.namespace}/{self.service}" if self.namespace else self.service


PROCESSES = (
    Process(
        "api",
        "api-0",
        routes=(("GET", "200", 0), ("GET", "500", 0), ("POST", "200", 0)),
        latency=("GET", "POST"),
        sensors=(("cpu", 55.0, 0, SPAN_MS), ("board", 31.5, 0, 95 * MINUTE_MS)),
    ),
    Process(
        "api",
        "api-1",
        restarts=(50 * MINUTE_MS,),
        routes=(
            ("GET", "200", 0),
            ("GET", "500", 0),
            ("POST", "200", 0),
            ("GET", "503", 80 * MINUTE_MS),
        ),
        latency=("GET",),
        sensors=(("cpu", 58.0, 0, SPAN_MS),),
    ),
    Process(
        "api",
        "api-2",
        silent=(30 * MINUTE_MS, 37 * MINUTE_MS),
        routes=(("GET", "200", 0), ("GET", "500", 0), ("POST", "200", 0)),
        latency=("GET",),
        sensors=(("cpu", 52.25, 0, SPAN_MS), ("gpu", 64.0, 20 * MINUTE_MS, SPAN_MS)),
    ),
    Process("worker", "worker-0", sensors=(("cpu", 47.5, 0, SPAN_MS),), queues=("high", "low")),
    Process(
        "worker",
        "worker-1",
        ends=70 * MINUTE_MS,
        sensors=(("cpu", 49.0, 0, SPAN_MS),),
        queues=("high", "low"),
    ),
    Process(
        "checkout",
        "checkout-0",
        namespace="shop",
        begins=5 * MINUTE_MS,
        restarts=(40 * MINUTE_MS, 95 * MINUTE_MS),
        routes=(("POST", "200", 0), ("POST", "500", 0)),
        latency=("POST",),
        sensors=(("cpu", 50.75, 0, SPAN_MS), ("outdoor", -2.0, 0, SPAN_MS)),
    ),
)


@dataclass(frozen=True)
class _Point:
    """One OTLP data point before encoding: ``value`` is a number or histogram counts."""

    scope: tuple[str, str]
    metric: str
    attributes: tuple[tuple[str, str], ...]
    time: int
    start: int
    value: float | tuple[tuple[int, ...], float]


def _exports(process: Process, rng: random.Random) -> Iterator[tuple[int, int]]:
    """(time, start time) in absolute ms of each export the process makes."""
    phase = rng.randrange(JITTER_MS, INTERVAL_MS)
    start = BASE_MS - rng.randrange(1, 48) * 60 * MINUTE_MS if process.begins == 0 else None
    restarts = [BASE_MS + at for at in process.restarts]
    tick = 0
    while (time := BASE_MS + phase + tick * INTERVAL_MS) < BASE_MS + process.ends:
        tick += 1
        time += rng.randint(-JITTER_MS, JITTER_MS)
        if time < BASE_MS + process.begins or rng.random() < 0.03:
            continue
        if start is None:
            start = time - rng.randrange(500, 3000)
        if restarts and time >= restarts[0]:
            if time < restarts[0] + _RESTART_DOWN_MS:
                continue
            start = restarts.pop(0) + rng.randrange(_RESTART_DOWN_MS)
        silent = process.silent
        if silent is None or not BASE_MS + silent[0] <= time < BASE_MS + silent[1]:
            yield time, start


def _points(rng: random.Random) -> Iterator[tuple[Process, _Point]]:
    for process in PROCESSES:
        exports = list(_exports(process, rng))
        for method, code, since in process.routes:
            step = _REQUEST_STEPS[code]
            for time, start, value in _counter(exports, since, rng, step):
                attributes = (("method", method), ("code", code))
                yield process, _Point(_HTTP, "http_requests", attributes, time, start, value)
        for method in process.latency:
            for time, start, histogram in _latency(exports, rng):
                attributes = (("method", method),)
                yield process, _Point(_HTTP, "latency", attributes, time, start, histogram)
        for sensor, first, since, until in process.sensors:
            # Outdoors crosses zero often; indoors drifts in quarters of a degree.
            steps = (-0.75, -0.5, 0.0, 0.5, 0.75) if first < 0 else (-0.5, -0.25, 0.0, 0.25, 0.5)
            value = first
            for time, _ in exports:
                if BASE_MS + since <= time < BASE_MS + until:
                    attributes = (("sensor", sensor),)
                    yield process, _Point(_RUNTIME, "temperature", attributes, time, 0, value)
                    value += rng.choice(steps)
        for queue in process.queues:
            depth = rng.randrange(0, 40)
            for time, start in exports:
                attributes = (("queue", queue),)
                yield process, _Point(_RUNTIME, "queue_depth", attributes, time, start, depth)
                depth = max(0, depth + rng.randint(-6, 6))


def _counter(
    exports: list[tuple[int, int]],
    since: int,
    rng: random.Random,
    step: Callable[[random.Random], int],
) -> Iterator[tuple[int, int, float]]:
    """A cumulative count at each export from ``since`` on, back to 0 when the start time
    moves; what a process running since before ``BASE_MS`` counted already, at first."""
    total, previous = 0, None
    for time, start in exports:
        if time < BASE_MS + since:
            continue
        if start != previous:
            total = rng.randrange(1000, 50_000) if start < BASE_MS and since == 0 else 0
            previous = start
        total += step(rng)
        yield time, start, total


def _latency(
    exports: list[tuple[int, int]], rng: random.Random
) -> Iterator[tuple[int, int, tuple[tuple[int, ...], float]]]:
    """Cumulative bucket counts and sum at each export, reset like ``_counter``."""
    counts, previous = [0] * len(_WEIGHTS), None
    for time, start in exports:
        if start != previous:
            before = start < BASE_MS
            counts = [rng.randrange(100 * w, 1000 * w) if before else 0 for w in _WEIGHTS]
            previous = start
        counts = [count + rng.randint(0, w) for count, w in zip(counts, _WEIGHTS, strict=True)]
        total = sum(count * value for count, value in zip(counts, _IN_BUCKET, strict=True))
        yield time, start, (tuple(counts), total)


def build_requests(seed: int) -> list[ExportMetricsServiceRequest]:
    """The dataset drawn from ``seed``, one request per ``REQUEST_WINDOW_MS``: per process
    a resource, per scope its metrics, per metric its points in time order."""
    rng = random.Random(seed)
    windows: dict[int, dict[Process, dict[tuple[str, str], dict[str, list[_Point]]]]] = {}
    for process, point in sorted(_points(rng), key=lambda item: item[1].time):
        window = (point.time - BASE_MS) // REQUEST_WINDOW_MS
        scopes = windows.setdefault(window, {}).setdefault(process, {})
        scopes.setdefault(point.scope, {}).setdefault(point.metric, []).append(point)
    return [
        ExportMetricsServiceRequest(
            resource_metrics=[
                ResourceMetrics(
                    resource=_resource(process),
                    scope_metrics=[
                        ScopeMetrics(
                            scope=InstrumentationScope(name=name, version=version),
                            metrics=[_metric(metric, points) for metric, points in metrics.items()],
                        )
                        for (name, version), metrics in sorted(scopes.items())
                    ],
                )
                for process, scopes in processes.items()
            ]
        )
        for _, processes in sorted(windows.items())
    ]


def _resource(process: Process) -> Resource:
    attributes = {
        "service.name": process.service,
        "service.namespace": process.namespace,
        "service.instance.id": process.instance,
    }
    return Resource(attributes=[_kv(key, value) for key, value in attributes.items() if value])


def _metric(name: str, points: list[_Point]) -> Metric:
    cumulative = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
    if name == "temperature":
        return Metric(name=name, gauge=Gauge(data_points=[_number(p, "as_double") for p in points]))
    if name == "latency":
        return Metric(
            name=name,
            histogram=Histogram(
                aggregation_temporality=cumulative, data_points=[_histogram(p) for p in points]
            ),
        )
    return Metric(
        name=name,
        sum=Sum(
            aggregation_temporality=cumulative,
            is_monotonic=name == "http_requests",
            data_points=[_number(p, "as_int") for p in points],
        ),
    )


def _number(point: _Point, field: str) -> NumberDataPoint:
    assert not isinstance(point.value, tuple)
    value = int(point.value) if field == "as_int" else point.value
    return NumberDataPoint(
        attributes=[_kv(key, value) for key, value in point.attributes],
        start_time_unix_nano=point.start * _NS_PER_MS,
        time_unix_nano=point.time * _NS_PER_MS,
        **{field: value},
    )


def _histogram(point: _Point) -> HistogramDataPoint:
    assert isinstance(point.value, tuple)
    counts, total = point.value
    return HistogramDataPoint(
        attributes=[_kv(key, value) for key, value in point.attributes],
        start_time_unix_nano=point.start * _NS_PER_MS,
        time_unix_nano=point.time * _NS_PER_MS,
        count=sum(counts),
        sum=total,
        bucket_counts=counts,
        explicit_bounds=BOUNDS,
    )


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


REQUESTS: list[ExportMetricsServiceRequest] = build_requests(SEED)
SERIES: list[Series] = prometheus_series(REQUESTS)
