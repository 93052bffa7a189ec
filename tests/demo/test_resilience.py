"""The resilience patterns as state machines."""

from __future__ import annotations

import random

from otelite.demo._resilience import Bulkhead, CircuitBreaker, retry_delay


def test_circuit_breaker_opens_after_the_threshold_and_recovers_through_half_open() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown=5.0)
    assert [breaker.record(False, 0.0) for _ in range(2)] == [[], []]
    assert breaker.record(False, 1.0) == [("closed", "open")]
    assert breaker.allow(3.0) == (False, [])  # fails fast while open
    assert breaker.allow(6.0) == (True, [("open", "half_open")])
    assert breaker.record(False, 6.0) == [("half_open", "open")]  # the trial failed
    assert breaker.allow(10.0) == (False, [])
    assert breaker.allow(11.5) == (True, [("open", "half_open")])
    assert breaker.record(True, 11.5) == [("half_open", "closed")]
    assert breaker.state == "closed"


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(threshold=3)
    breaker.record(False, 0)
    breaker.record(False, 0)
    breaker.record(True, 0)
    breaker.record(False, 0)
    assert breaker.state == "closed"


def test_bulkhead_rejects_only_beyond_capacity_and_spikes_every_two_minutes() -> None:
    bulkhead = Bulkhead(capacity=64, base=30)
    assert bulkhead.admits(63) and not bulkhead.admits(64)
    assert bulkhead.load(65) > 2 * bulkhead.load(50)
    rng = random.Random(1)
    assert max(bulkhead.in_flight(t, rng) for t in range(0, 60)) < 64


def test_retry_delays_double_with_jitter() -> None:
    rng = random.Random(3)
    for attempt in (1, 2, 3):
        delays = [retry_delay(attempt, rng, base=0.1) for _ in range(200)]
        nominal = 0.1 * 2 ** (attempt - 1)
        assert 0.5 * nominal <= min(delays) < max(delays) <= 1.5 * nominal
        assert len(set(delays)) > 100
