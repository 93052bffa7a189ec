"""Scenarios: known faults injected into the shop, so analysis can be checked against them.

A scenario takes effect ``fault_after`` seconds into a run (``Shop`` option) and stays.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SCENARIOS", "Deploy", "Scenario"]


@dataclass(frozen=True, slots=True)
class Deploy:
    """A new ``version`` of ``service`` that is ``latency`` times slower and fails more."""

    service: str
    version: str
    latency: float
    error_rate: float


@dataclass(frozen=True, slots=True)
class Scenario:
    """A fault: what it changes once active."""

    name: str
    description: str
    db_slowdown: float = 1.0
    """Multiplies the duration of every PostgreSQL call."""
    provider_failure: float | None = None
    """The payment provider's failure probability per attempt (None: its usual flakiness)."""
    deploy: Deploy | None = None


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "slow-database",
            "PostgreSQL answers 8x slower: database spans, and everything above them, slow down",
            db_slowdown=8.0,
        ),
        Scenario(
            "failing-payment-provider",
            "the payment provider fails 85% of calls: retries, an open circuit breaker, "
            "compensated orders",
            provider_failure=0.85,
        ),
        Scenario(
            "bad-deploy",
            "catalog 1.9.0 replaces 1.8.3: catalog calls get 4x slower and 8% of them fail",
            deploy=Deploy("catalog", "1.9.0", latency=4.0, error_rate=0.08),
        ),
    )
}
"""Every scenario by name."""
