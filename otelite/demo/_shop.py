"""``Shop``: the simulated shop as a source of OTLP export requests."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from otelite.demo._metrics import MetricsModel
from otelite.demo._pending import Pending
from otelite.demo._scenarios import SCENARIOS
from otelite.demo._topology import SERVICES, Instance
from otelite.demo._traffic import Traffic
from otelite.types import ExportRequest, Signal

__all__ = ["Batch", "Shop", "generate_batches"]

_CLIENTS = frozenset({"web-frontend", "mobile-app"})
_NOMINAL_REQUESTS_PER_SECOND = 100.0
"""The traffic metrics describe when nothing is simulated (``batches(Signal.METRICS)``)."""


@dataclass(frozen=True, slots=True)
class Batch:
    """One serialised OTLP export request of ``signal`` carrying ``items`` spans, data
    points or log records."""

    signal: Signal
    body: bytes
    items: int

    def request(self) -> ExportRequest:
        """The request as a protobuf message."""
        return self.signal.request_type.FromString(self.body)


class Shop:
    """A deterministic microservice shop that produces OTLP telemetry of itself.

    The same ``seed`` and the same ``clock`` readings give byte-identical requests.
    Timestamps come from ``clock`` (nanoseconds; the wall clock by default): each user
    action ends at the reading taken when it is simulated, so data lands in "the last few
    minutes" of any query window.

    ``services`` limits which services report (all by default); ``error_rate`` is roughly
    the share of requests that fail for ordinary reasons; ``scenario`` (a name from
    ``SCENARIOS``) injects its fault ``fault_after`` seconds after the shop starts.
    ``signals`` lists the signals to produce; leaving some out makes the rest faster.
    Traces and logs come in requests of exactly ``batch_size`` items, metrics in requests
    of whole per-instance snapshots of about ``batch_size`` data points.
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        services: Iterable[str] | None = None,
        error_rate: float = 0.02,
        scenario: str | None = None,
        fault_after: float = 0.0,
        batch_size: int = 500,
        clock: Callable[[], int] = time.time_ns,
        signals: Iterable[Signal] = tuple(Signal),
    ) -> None:
        known = [s.name for s in SERVICES]
        wanted = set(known if services is None else services)
        if unknown := sorted(wanted - set(known)):
            raise ValueError(f"unknown services {unknown}: choose from {', '.join(known)}")
        if scenario is not None and scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}: choose from {', '.join(SCENARIOS)}")
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"error_rate must be between 0 and 1, got {error_rate}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = batch_size
        self.signals = frozenset(signals)
        self._clock = clock
        self._start = clock()
        self._rng = random.Random(seed)
        self._traffic = Traffic(
            self._rng,
            error_rate=error_rate,
            scenario=None if scenario is None else SCENARIOS[scenario],
            fault_after=fault_after,
            record_logs=Signal.LOGS in self.signals,
        )
        self._wanted = frozenset(wanted)
        self._everyone = len(wanted) == len(known)
        self._keys = frozenset(
            i.key
            for group in self._traffic.instances.values()
            for i in group
            if i.service in wanted
        )
        self._spans = Pending()
        self._logs = Pending()
        self._metrics = MetricsModel(
            self._traffic, self._rng, start=self._start, error_rate=error_rate
        )
        self._requests = 0
        self._last_metrics = self._start

    def simulate(self) -> None:
        """Simulate one user action and queue its spans and log records."""
        now = self._clock()
        traces = self._traffic.request((now - self._start) / 1e9)
        base = now - traces[0].spans[0].end
        emit_span = emit_log = None
        if Signal.TRACES in self.signals:
            emit_span = self._spans.add if self._everyone else self._emit_span
        if Signal.LOGS in self.signals:
            emit_log = self._logs.add if self._everyone else self._emit_log
        for trace in traces:
            trace.encode(base, emit_span, emit_log)
        self._requests += 1

    def batches(self, signal: Signal) -> Iterator[Batch]:
        """Endless requests of one signal (see the class docstring for their size)."""
        if signal not in self.signals:
            raise ValueError(f"this shop was made without {signal.value}")
        if signal is Signal.METRICS:
            return self._metric_batches()
        pending = self._spans if signal is Signal.TRACES else self._logs
        return self._batches(signal, pending)

    def _batches(self, signal: Signal, pending: Pending) -> Iterator[Batch]:
        while True:
            while len(pending) < self.batch_size:
                self.simulate()
            yield Batch(signal, *pending.take(self.batch_size))

    def stream(self, *, metrics_interval: float = 10.0) -> Iterator[Batch]:
        """Endless requests of every signal as the shop runs: traces and logs whenever a
        batch is full, metrics of every instance each ``metrics_interval`` seconds."""
        size, spans, logs = self.batch_size, self._spans, self._logs
        interval = int(metrics_interval * 1e9)
        while True:
            self.simulate()
            if len(spans) >= size:
                yield Batch(Signal.TRACES, *spans.take(size))
            if len(logs) >= size:
                yield Batch(Signal.LOGS, *logs.take(size))
            if Signal.METRICS in self.signals and self._clock() - self._last_metrics >= interval:
                yield self.metrics()

    def flush(self) -> list[Batch]:
        """Everything still queued, and a last metrics snapshot: call when a run ends."""
        found = []
        for signal, pending in ((Signal.TRACES, self._spans), (Signal.LOGS, self._logs)):
            while len(pending):
                found.append(Batch(signal, *pending.take(self.batch_size)))
        if Signal.METRICS in self.signals:
            found.append(self.metrics())
        return found

    def metrics(self) -> Batch:
        """One snapshot of every reporting instance's metrics, as one request."""
        now = self._clock()
        parts, points = [], 0
        for instance in self._reporting():
            body, count = self._metrics.snapshot(instance, now, self._requests)
            parts.append(body)
            points += count
        self._requests = 0
        self._last_metrics = now
        return Batch(Signal.METRICS, b"".join(parts), points)

    def _metric_batches(self) -> Iterator[Batch]:
        last: dict[int, int] = {}  # when each instance last exported
        while True:
            parts, points = [], 0
            while points < self.batch_size:
                for instance in self._reporting():
                    now = self._clock()
                    since = (now - last.get(instance.key, self._start)) / 1e9
                    last[instance.key] = now
                    requests = since * _NOMINAL_REQUESTS_PER_SECOND
                    body, count = self._metrics.snapshot(instance, now, requests)
                    parts.append(body)
                    points += count
                    if points >= self.batch_size:
                        break
            yield Batch(Signal.METRICS, b"".join(parts), points)

    def _reporting(self) -> list[Instance]:
        """The instances that export metrics now: servers' current versions."""
        traffic = self._traffic
        return [
            instance
            for service in SERVICES
            if service.name in self._wanted and service.name not in _CLIENTS
            for instance in traffic.instances[service.name, traffic.version(service.name)]
        ]

    def _emit_span(self, instance: Instance, record: bytes) -> None:
        if instance.key in self._keys:
            self._spans.add(instance, record)

    def _emit_log(self, instance: Instance, record: bytes) -> None:
        if instance.key in self._keys:
            self._logs.add(instance, record)


def generate_batches(
    signal: Signal, *, seed: int = 1, batch_size: int = 500, scenario: str | None = None
) -> Iterator[ExportRequest]:
    """Endless export requests of ``signal`` from a ``Shop`` running on the wall clock.

    Traces and logs come ``batch_size`` items per request, metrics about ``batch_size``
    data points; timestamps are near now. To skip parsing, iterate
    ``Shop(...).batches(signal)`` and send each ``Batch.body`` as it is.
    """
    shop = Shop(seed=seed, batch_size=batch_size, scenario=scenario, signals=(signal,))
    return (batch.request() for batch in shop.batches(signal))
