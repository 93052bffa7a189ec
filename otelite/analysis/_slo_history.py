"""An SLO's numbers over a time range: budget remaining and burn rates at evenly spaced
times, for charts. Each time is evaluated as a status would be, from counts per minute
(see ``read_count_series``): the times are whole minutes, at most ``MAX_POINTS`` of them,
over at most ``MAX_RANGE_NS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from otelite.analysis._openslo import Objective, SloDefinition
from otelite.analysis._slo_counts import HISTORY_BUCKET_NS, read_count_series
from otelite.analysis._slo_math import BURN_WINDOWS, EventCounts
from otelite.errors import InvalidRequest
from otelite.storage import Storage

__all__ = ["MAX_POINTS", "MAX_RANGE_NS", "SloHistory", "history_times", "slo_history"]

MAX_POINTS = 500
MAX_RANGE_NS = 30 * 86400 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class SloHistory:
    """The counts of every window (``BURN_WINDOWS`` and the SLO's) at each time."""

    definition: SloDefinition
    times_ns: tuple[int, ...]
    step_ns: int
    counts: Mapping[int, Sequence[EventCounts]]

    def burn_rates(self, objective: Objective) -> dict[int, list[float | None]]:
        """Each window's burn rate at each time (None: no events)."""
        return {
            seconds: [c.burn_rate(objective) for c in counts]
            for seconds, counts in self.counts.items()
        }

    def budget_remaining(self, objective: Objective) -> list[float | None]:
        """The share of the budget left over the SLO's window, at each time."""
        found: list[float | None] = []
        for counts in self.counts[self.definition.window_seconds]:
            spent = counts.burn_rate(objective)
            found.append(None if spent is None else 1.0 - spent)
        return found


def history_times(start_ns: int, end_ns: int, points: int) -> tuple[list[int], int]:
    """Up to ``points`` whole-minute times in ``(start_ns, end_ns]``, evenly spaced, and
    the step between them; ``InvalidRequest`` for a range or count out of bounds."""
    if not 1 <= points <= MAX_POINTS:
        raise InvalidRequest(f"points: expected 1 to {MAX_POINTS}, got {points}")
    if not 0 < end_ns - start_ns <= MAX_RANGE_NS:
        raise InvalidRequest("start: the range must be more than zero and at most 30 days")
    minutes = -(-(end_ns - start_ns) // (points * HISTORY_BUCKET_NS))
    step = minutes * HISTORY_BUCKET_NS
    last = end_ns // step * step
    times = list(range(last, start_ns, -step))[::-1]
    return times or [last], step


def slo_history(
    storage: Storage,
    definition: SloDefinition,
    start_ns: int,
    end_ns: int,
    *,
    points: int = 200,
    timeout_s: float | None = None,
) -> SloHistory:
    """``definition``'s counts at up to ``points`` times over ``start_ns``..``end_ns``
    (blocking)."""
    times, step = history_times(start_ns, end_ns, points)
    windows = sorted({*BURN_WINDOWS, definition.window_seconds})
    counts = read_count_series(storage, definition, times, windows, timeout_s=timeout_s)
    return SloHistory(definition, tuple(times), step, counts)
