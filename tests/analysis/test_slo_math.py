"""SLI, budget and burn rates against numbers worked out by hand."""

from __future__ import annotations

import pytest

from otelite.analysis import BURN_RULES, BURN_WINDOWS, EventCounts, Objective, objective_status

M, H, D = 60, 3600, 86400
WINDOW = 28 * D


def test_the_rules_are_the_workbooks() -> None:
    rules = {(r.severity, r.long_seconds, r.short_seconds, r.factor) for r in BURN_RULES}
    assert rules == {
        ("page", H, 5 * M, 14.4),
        ("page", 6 * H, 30 * M, 6.0),
        ("ticket", 3 * D, 6 * H, 1.0),
    }
    assert BURN_WINDOWS == (5 * M, 30 * M, H, 6 * H, 3 * D)


def test_a_fast_burn_pages_and_a_steady_one_makes_a_ticket() -> None:
    # Target 99.9%: a budget of 0.1% of events.
    counts = {
        5 * M: EventCounts(1000, 980),  # 2% bad: burn 20
        30 * M: EventCounts(5000, 4980),  # 0.4%: burn 4
        H: EventCounts(10_000, 9850),  # 1.5%: burn 15
        6 * H: EventCounts(60_000, 59_700),  # 0.5%: burn 5
        3 * D: EventCounts(720_000, 718_560),  # 0.2%: burn 2
        WINDOW: EventCounts(6_720_000, 6_714_624),  # 0.08%: burn 0.8, 20% of the budget left
    }
    status = objective_status(Objective("0", 0.999), WINDOW, counts)
    assert status.objective.error_budget == pytest.approx(0.001)
    assert status.sli == pytest.approx(0.9992)
    assert status.budget_remaining == pytest.approx(0.2)
    expected = {5 * M: 20, 30 * M: 4, H: 15, 6 * H: 5, 3 * D: 2, WINDOW: 0.8}
    assert status.burn_rates == pytest.approx(expected)
    # 15 and 20 are over 14.4; 5 is under 6; 2 and 5 are over 1.
    assert status.firing == {"SLOFastBurn": True, "SLOSlowBurn": False, "SLOBudgetBurn": True}


def test_an_overspent_budget_is_negative_and_a_burn_at_the_factor_does_not_fire() -> None:
    # Target 50%: half the events may fail. Exactly half failing burns at 1, not above.
    half = EventCounts(100, 50)
    counts = dict.fromkeys(BURN_WINDOWS, half) | {WINDOW: EventCounts(100, 20)}
    status = objective_status(Objective("0", 0.5), WINDOW, counts)
    assert status.burn_rates[3 * D] == 1.0
    assert status.firing["SLOBudgetBurn"] is False
    assert status.budget_remaining == pytest.approx(1 - 0.8 / 0.5)  # -0.6
    counts[3 * D] = counts[6 * H] = EventCounts(100, 49)
    assert objective_status(Objective("0", 0.5), WINDOW, counts).firing["SLOBudgetBurn"]


def test_no_events_is_no_sli_and_no_burn() -> None:
    counts = dict.fromkeys((*BURN_WINDOWS, WINDOW), EventCounts(0, 0))
    counts[H] = EventCounts(10, 0)  # all bad, but the 5 minutes saw nothing
    status = objective_status(Objective("0", 0.99), WINDOW, counts)
    assert status.sli is None and status.budget_remaining is None
    assert status.burn_rates[5 * M] is None
    assert status.burn_rates[H] == pytest.approx(100)
    assert not any(status.firing.values())


def test_counts_stay_consistent() -> None:
    # Extrapolated counters can put the good above the total, or the bad below zero.
    assert EventCounts.of(100, good=103) == EventCounts(100, 100)
    assert EventCounts.of(100, bad=-2) == EventCounts(100, 100)
    assert EventCounts.of(100, bad=30) == EventCounts(100, 70)
    assert EventCounts.of(-1, good=0) == EventCounts(0, 0)
    assert EventCounts(100, 70).bad == 30
