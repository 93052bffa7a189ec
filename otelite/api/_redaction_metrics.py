"""``otelite_redactions_total``: what the pipeline file's redaction did, read on each scrape."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["RedactionMetrics"]


class RedactionMetrics(Collector):
    """Attributes (and log bodies) redacted, by what was done to them: ``redacted``
    (deleted), ``masked`` or ``hashed``; ``counts`` gives them as they are now."""

    def __init__(self, counts: Callable[[], Mapping[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "otelite_redactions",
            "Attributes and log bodies the pipeline file's redaction deleted (redacted), "
            "masked or hashed.",
            labels=["action"],
        )
        found = dict(self._counts())
        for action in ("redacted", "masked", "hashed"):
            family.add_metric([action], found.get(action, 0))
        yield family
