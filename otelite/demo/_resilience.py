"""The shop's resilience patterns, as deterministic state machines on the shop's clock.

* ``CircuitBreaker`` guards the payment provider: ``closed`` until ``threshold`` failures
  in a row, then ``open`` (calls fail fast) for ``cooldown`` seconds, then ``half_open``:
  one trial call closes it again on success or reopens it on failure.
* ``Bulkhead`` caps the requests the API gateway works on at once; the load it sees rises
  and falls and spikes for a few seconds every two minutes, when it rejects (HTTP 429).
* ``retry_delay`` is the jittered exponential backoff between attempts.
"""

from __future__ import annotations

import math
import random

__all__ = ["CLOSED", "HALF_OPEN", "OPEN", "Bulkhead", "CircuitBreaker", "retry_delay"]

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
Transition = tuple[str, str]


class CircuitBreaker:
    """closed → open → half_open → closed (or back to open); see the module docstring."""

    __slots__ = ("_failures", "_opened_at", "cooldown", "state", "threshold")

    def __init__(self, *, threshold: int = 5, cooldown: float = 5.0) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.state = CLOSED
        self._failures = 0
        self._opened_at = 0.0

    def allow(self, now: float) -> tuple[bool, list[Transition]]:
        """Whether a call may go out at ``now`` (seconds), and the transitions that implies."""
        if self.state == OPEN:
            if now - self._opened_at < self.cooldown:
                return False, []
            self.state = HALF_OPEN
            return True, [(OPEN, HALF_OPEN)]
        return True, []

    def record(self, success: bool, now: float) -> list[Transition]:
        """Count the outcome of a call made at ``now``; returns the transitions it caused."""
        before = self.state
        if success:
            self._failures = 0
            if before == HALF_OPEN:
                self.state = CLOSED
        else:
            self._failures += 1
            if before == HALF_OPEN or self._failures >= self.threshold:
                self.state = OPEN
                self._opened_at = now
                self._failures = 0
        return [] if self.state == before else [(before, self.state)]


class Bulkhead:
    """At most ``capacity`` requests in flight at the gateway; the rest get HTTP 429."""

    __slots__ = ("base", "capacity")

    def __init__(self, *, capacity: int = 64, base: float = 30.0) -> None:
        self.capacity = capacity
        self.base = base

    def load(self, now: float) -> float:
        """The expected number of requests in flight at ``now`` (seconds since start)."""
        wave = 1.0 + 0.3 * math.sin(2 * math.pi * now / 600)
        spike = 2.2 if 60 <= now % 120 < 70 else 1.0
        return self.base * wave * spike

    def in_flight(self, now: float, rng: random.Random) -> int:
        """The requests in flight that one arriving request finds."""
        return int(self.load(now) * (0.6 + 0.8 * rng.random()))

    def admits(self, in_flight: int) -> bool:
        """Whether a request arriving with ``in_flight`` others still gets a slot."""
        return in_flight < self.capacity


def retry_delay(attempt: int, rng: random.Random, *, base: float = 0.05) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...): ``base·2^(attempt-1)``, ±50%."""
    return float(base * 2 ** (attempt - 1) * rng.uniform(0.5, 1.5))
