"""SLO evaluation and notification series for otelite's own ``/metrics``, read when scraped."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from otelite.analysis._notifier import AlertNotifier
from otelite.analysis._slo_evaluator import SloEvaluator

__all__ = ["SloCollector"]


class SloCollector(Collector):
    """``otelite_slo_evaluations_total{tenant, outcome}``, ``otelite_slo_alerts_firing
    {tenant, severity}``, and with a notifier ``otelite_slo_notifications_total{receiver,
    outcome}`` and ``otelite_slo_notification_breaker_open{receiver}``."""

    def __init__(self, evaluator: SloEvaluator, notifier: AlertNotifier | None = None) -> None:
        self._evaluator = evaluator
        self._notifier = notifier

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
        if self._notifier is None:
            return
        sent = CounterMetricFamily(
            "otelite_slo_notifications",
            "Alert notification attempts, by receiver and outcome (sent; failed, retried; "
            "refused, skipped).",
            labels=["receiver", "outcome"],
        )
        for (receiver, outcome), count in sorted(self._notifier.counts.copy().items()):
            sent.add_metric([receiver, outcome], count)
        yield sent
        breakers = GaugeMetricFamily(
            "otelite_slo_notification_breaker_open",
            "1 while a receiver's circuit breaker refuses calls.",
            labels=["receiver"],
        )
        for receiver in self._notifier.receivers:
            state = self._notifier.breaker(receiver).state
            breakers.add_metric([receiver], 1.0 if state == "open" else 0.0)
        yield breakers
