"""The tail sampler's settings (``processors: tail_sampling:`` of the pipeline file) and
what it counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from otelite.pipeline._pipeline_file import Node
from otelite.pipeline._sampling_policies import Policy, parse_policies

__all__ = ["SamplingReport", "SamplingStats", "TailSamplingSettings"]


@dataclass(frozen=True, slots=True)
class TailSamplingSettings:
    """``processors: tail_sampling:`` of the pipeline file."""

    policies: tuple[Policy, ...]
    decision_wait: float = 30.0
    num_traces: int = 50_000
    sampled_cache_size: int = 100_000
    non_sampled_cache_size: int = 100_000

    @classmethod
    def parse(cls, node: Node) -> TailSamplingSettings:
        given = node.mapping("decision_wait", "num_traces", "decision_cache", "policies")
        if "policies" not in given:
            raise node.problem("policies: required")
        policies = parse_policies(given["policies"])
        options: dict[str, float | int] = {}
        if "decision_wait" in given:
            options["decision_wait"] = given["decision_wait"].duration()
        if "num_traces" in given:
            options["num_traces"] = given["num_traces"].integer(minimum=1)
        if "decision_cache" in given:
            cache = given["decision_cache"].mapping("sampled_cache_size", "non_sampled_cache_size")
            for name, value in cache.items():
                options[name] = value.integer()
        return cls(policies, **options)  # type: ignore[arg-type]

    @property
    def tick_seconds(self) -> float:
        """How often due traces are decided: each second, or a tenth of a shorter
        ``decision_wait`` (at least 50 ms), so that a short wait is not doubled by the
        tick."""
        return min(1.0, max(0.05, self.decision_wait / 10))

    def describe(self) -> str:
        """One line for ``otelite pipeline check``."""
        names = ", ".join(policy.name for policy in self.policies)
        return (
            f"tail_sampling: decision_wait {self.decision_wait:g}s, num_traces "
            f"{self.num_traces}, policies {names}"
        )


@dataclass(slots=True)
class SamplingStats:
    """What the sampler counts, for otelite's own metrics."""

    kept: int = 0
    dropped: int = 0
    decided_early: int = 0
    """Traces decided before their wait was over, to stay within ``num_traces``."""
    late_kept: int = 0
    late_dropped: int = 0
    """Spans that came after their trace's decision, handed on or dropped with it."""
    replayed_traces: int = 0
    policies: dict[str, list[int]] = field(default_factory=dict)
    """By policy name: [traces it alone would keep, traces it alone would drop]."""


@dataclass(frozen=True, slots=True)
class SamplingReport:
    """A sampler's counts and what it holds, as of now."""

    stats: SamplingStats
    held_traces: int
    held_spans: int
