"""A circuit breaker: stop calling a destination that keeps failing, then probe it.

Three states, in the usual shape of the pattern:

* **closed**: calls go through; ``failure_threshold`` failures in a row open the breaker.
* **open**: calls are refused for ``cooldown_seconds``, so that a dead destination costs
  nothing and a struggling one gets room to recover.
* **half-open**: after the cool-down, exactly one call (the probe) is let through; its
  success closes the breaker, its failure opens it again for another cool-down.

Pure logic with an injectable clock and no I/O or locks: one owner (a delivery worker, an
exporter) asks ``allow()`` before a call and reports the outcome. Callers decide what a
failure is; a refusal of the content (an HTTP 400) is usually not one, since the
destination answered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures; probes once after
    ``cooldown_seconds``; closes on the probe's success. ``clock`` gives seconds on a
    monotonic scale (``time.monotonic`` by default)."""

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cooldown_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold: at least 1")
        if cooldown_seconds < 0:
            raise ValueError("cooldown_seconds: not negative")
        self.failure_threshold = failure_threshold
        self.cooldown_seconds = cooldown_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self.opened_count = 0
        """How many times the breaker opened (for metrics)."""

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        # The same sum as in ``wait_seconds``, so that a wait of 0 always means half-open.
        if self._probing or self._clock() >= self._opened_at + self.cooldown_seconds:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """May a call go out now? In half-open state only the first caller (the probe) may,
        until its outcome is recorded."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def wait_seconds(self) -> float:
        """How long until a call may go out (0 when one may now; the cool-down's rest when
        open; a probe's outcome is awaited when half-open with a probe out)."""
        if self._opened_at is None:
            return 0.0
        if self._probing:
            return self.cooldown_seconds
        return max(0.0, self._opened_at + self.cooldown_seconds - self._clock())

    def record_success(self) -> None:
        """A call succeeded: close."""
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        """A call failed: count it; open at the threshold, or again when the probe failed."""
        self._failures += 1
        if self._probing or (self._opened_at is None and self._failures >= self.failure_threshold):
            self._opened_at = self._clock()
            self._probing = False
            self.opened_count += 1
