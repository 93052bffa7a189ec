"""How long the data waiting for storage will take to drain: the ``Retry-After`` of a full queue.

A client refused because the queue is full should come back when there is room again,
not after a fixed pause: too short and it is refused again, too long and storage idles
while every sender waits (told to wait until the queue is empty, senders came back to an
idle server). The estimate is the time to store half the queue's bound at the rate
storage took bytes in during the last few seconds, clamped to a range (HTTP's
``Retry-After`` counts whole seconds, and a stalled store has no rate at all).
"""

from __future__ import annotations

import collections
import math
import time

__all__ = ["DrainEstimate"]

_WINDOW_SECONDS = 3.0
"""How far back the store rate looks: long enough to span a few batch writes."""
_SAMPLE_EVERY = 0.25


class DrainEstimate:
    """Samples a running total of stored bytes; says when ``queued`` bytes will be stored.

    Call :meth:`note` often (each request does) with the total stored so far; the
    samples of the last few seconds give the rate.
    """

    def __init__(self, *, floor: float = 1.0, ceiling: float) -> None:
        self._floor = floor
        self._ceiling = max(floor, ceiling)
        self._samples: collections.deque[tuple[float, int]] = collections.deque()

    def note(self, stored: int, now: float | None = None) -> None:
        """Record that ``stored`` bytes have been stored in all, at ``now`` (monotonic)."""
        now = time.monotonic() if now is None else now
        samples = self._samples
        if samples and now - samples[-1][0] < _SAMPLE_EVERY:
            return
        samples.append((now, stored))
        while now - samples[0][0] > _WINDOW_SECONDS:
            samples.popleft()

    def seconds(self, queued: int, stored: int, now: float | None = None) -> float:
        """Seconds until ``queued`` bytes are stored at the recent rate, rounded to whole
        seconds within ``[floor, ceiling]``; the ceiling when storage stored nothing lately."""
        now = time.monotonic() if now is None else now
        self.note(stored, now)
        first_time, first_stored = self._samples[0]
        elapsed = now - first_time
        if elapsed <= 0 or stored <= first_stored:
            return self._ceiling
        rate = (stored - first_stored) / elapsed
        return float(min(self._ceiling, max(self._floor, math.floor(queued / rate + 0.5))))
