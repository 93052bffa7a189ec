"""SLO evaluation series for otelite's own ``/metrics``, read when scraped."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from otelite.analysis._slo_evaluator import SloEvaluator

__all__ = ["SloCollector"]


class SloCollector(Collector):
    """``otelite_slo_evaluations_total{tenant, outcome}`` and
    ``otelite_slo_alerts_firing{tenant, severity}``."""

    def __init__(self, evaluator: SloEvaluator) -> None:
        self._evaluator = evaluator

    def collect(self) -> Iterator[Metric]:
        # The counts grow in other threads: copied (atomically) before they are read.
        evaluations = CounterMetricFamily(
            "otelite_slo_evaluations",
            "SLO evaluations by the schedule, by tenant and outcome (ok, error).",
            labels=["tenant", "outcome"],
        )
        for (tenant, outcome), count in sorted(self._evaluator.counts.copy().items()):
            evaluations.add_metric([tenant, outcome], count)
        yield evaluations
        firing = GaugeMetricFamily(
            "otelite_slo_alerts_firing",
            "SLO burn-rate alerts firing, by tenant and severity.",
            labels=["tenant", "severity"],
        )
        for (tenant, severity), count in sorted(self._evaluator.firing().items()):
            firing.add_metric([tenant, severity], count)
        yield firing
