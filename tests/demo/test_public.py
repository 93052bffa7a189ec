"""``otelite.demo``'s public names exist and the scenarios are described."""

from __future__ import annotations

import otelite.demo as demo


def test_dunder_all_is_honest() -> None:
    assert [name for name in demo.__all__ if not hasattr(demo, name)] == []


def test_scenarios_are_named_and_described() -> None:
    assert set(demo.SCENARIOS) == {"slow-database", "failing-payment-provider", "bad-deploy"}
    assert all(s.description for s in demo.SCENARIOS.values())
