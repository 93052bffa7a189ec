"""The circuit breaker's states, driven by a hand-moved clock: closed until the threshold
of consecutive failures, open for the cool-down, one probe when half-open."""

from __future__ import annotations

import pytest

from otelite.pipeline import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_the_threshold_of_consecutive_failures_only() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown_seconds=10, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # a success in between starts the count again
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.wait_seconds() == 10
    assert breaker.opened_count == 1


def test_half_open_lets_one_probe_through_and_its_success_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_seconds=10, clock=clock)
    breaker.record_failure()
    clock.now += 4
    assert breaker.state is BreakerState.OPEN and breaker.wait_seconds() == 6
    clock.now += 6
    assert breaker.state is BreakerState.HALF_OPEN and breaker.wait_seconds() == 0
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # nobody else while it is out
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    assert breaker.consecutive_failures == 0


def test_a_failed_probe_opens_again_for_a_whole_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, cooldown_seconds=10, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.now += 15
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.wait_seconds() == 10  # from the probe's failure, not the first opening
    assert breaker.opened_count == 2


@pytest.mark.parametrize(
    ("threshold", "cooldown", "field"),
    [(0, 1.0, "failure_threshold"), (1, -1.0, "cooldown_seconds")],
)
def test_bad_settings_are_refused_by_name(threshold: int, cooldown: float, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        CircuitBreaker(failure_threshold=threshold, cooldown_seconds=cooldown)
