"""Tail sampling's series on ``/metrics``: what each policy would keep, what was kept and
dropped, traces decided early, late spans, and what is held now. Read when scraped."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from otelite.pipeline import TailSampler

__all__ = ["TailSamplingMetrics"]


class TailSamplingMetrics(Collector):
    """The sampler's counts and holdings (one sampler serves every tenant)."""

    def __init__(self, sampler: TailSampler) -> None:
        self._sampler = sampler

    def collect(self) -> Iterator[Metric]:
        stats = self._sampler.stats
        by_policy = CounterMetricFamily(
            "otelite_sampling_policy_traces",
            "Traces each tail-sampling policy decided, by what that policy alone would do "
            "(kept: matched, or did not match for a drop policy).",
            labels=["policy", "decision"],
        )
        for name, (kept, dropped) in stats.policies.items():
            by_policy.add_metric([name, "kept"], kept)
            by_policy.add_metric([name, "dropped"], dropped)
        traces = CounterMetricFamily(
            "otelite_sampling_traces",
            "Traces tail sampling decided, by decision (all policies together).",
            labels=["decision"],
        )
        traces.add_metric(["kept"], stats.kept)
        traces.add_metric(["dropped"], stats.dropped)
        early = CounterMetricFamily(
            "otelite_sampling_traces_decided_early",
            "Traces decided before their decision_wait: beyond num_traces, or at shutdown "
            "without a data directory.",
            value=stats.decided_early,
        )
        late = CounterMetricFamily(
            "otelite_sampling_late_spans",
            "Spans that came after their trace was decided and followed its decision.",
            labels=["decision"],
        )
        late.add_metric(["kept"], stats.late_kept)
        late.add_metric(["dropped"], stats.late_dropped)
        replayed = CounterMetricFamily(
            "otelite_sampling_replayed_traces",
            "Undecided traces held again from the tail-sampling log at start-up.",
            value=stats.replayed_traces,
        )
        held = GaugeMetricFamily(
            "otelite_sampling_held_traces",
            "Traces held now: waiting for their decision, or kept and waiting for storage.",
            value=self._sampler.held_traces,
        )
        spans = GaugeMetricFamily(
            "otelite_sampling_held_spans",
            "Spans held now: of undecided traces, and of kept requests waiting for storage.",
            value=self._sampler.held_spans,
        )
        yield from (by_policy, traces, early, late, replayed, held, spans)
