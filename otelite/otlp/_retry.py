"""How OTLP clients wait before retrying: jittered exponential backoff and ``Retry-After``.

Used by otelite's own senders (``otelite import``, ``otelite demo``). Pure computation, no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["Backoff", "retry_after_seconds"]


@dataclass(slots=True)
class Backoff:
    """Jittered exponential waits between retries, within a total time budget."""

    initial: float = 0.5
    maximum: float = 30.0
    budget: float = 300.0
    rng: random.Random = field(default_factory=random.Random)

    def waits(self) -> Iterator[float]:
        """Successive waits: doubling from ``initial`` up to ``maximum``, each ±50%."""
        delay = self.initial
        while True:
            yield delay * self.rng.uniform(0.5, 1.5)
            delay = min(delay * 2, self.maximum)


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) → seconds to wait, None if unusable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())
