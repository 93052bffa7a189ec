"""The numbers of an SLO: its SLI, error budget, burn rates, and which burn-rate alerts hold.

With target ``T``, the error budget is ``1 - T``, the share of events allowed to be bad.
Over a window with ``good`` of ``total`` events:

* the SLI is ``good / total``;
* the burn rate is ``(bad / total) / (1 - T)``: how many times faster than allowed the
  budget is being spent (1 spends exactly the budget over the SLO's window);
* over the SLO's own window, the budget remaining is ``1 - (bad / total) / (1 - T)``,
  the share of the budget not yet spent (below 0 once it is overspent).

A window without events has none of these (None): no traffic spends no budget, and
burns nothing.

Alerts follow the multi-window, multi-burn-rate method of Google's SRE workbook: an alert
holds while the burn rate exceeds its factor over both a long window (which makes it
significant) and a short one (which makes it stop soon after the burning does). Paging on
14.4x over an hour spends 2% of a 30-day budget in that hour; 6x over six hours, 5%;
the ticket at 1x over three days, 10%.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from otelite.analysis._openslo import Objective

__all__ = [
    "BURN_RULES",
    "BURN_WINDOWS",
    "BurnRule",
    "EventCounts",
    "ObjectiveStatus",
    "objective_status",
]

_MINUTE = 60
_HOUR = 3600
_DAY = 86400


@dataclass(frozen=True, slots=True)
class BurnRule:
    """An alert: burn rate above ``factor`` over both ``long_seconds`` and ``short_seconds``."""

    name: str
    """The Prometheus ``alertname``."""
    severity: str
    long_seconds: int
    short_seconds: int
    factor: float


BURN_RULES = (
    BurnRule("SLOFastBurn", "page", _HOUR, 5 * _MINUTE, 14.4),
    BurnRule("SLOSlowBurn", "page", 6 * _HOUR, 30 * _MINUTE, 6.0),
    BurnRule("SLOBudgetBurn", "ticket", 3 * _DAY, 6 * _HOUR, 1.0),
)
BURN_WINDOWS = tuple(
    sorted({s for rule in BURN_RULES for s in (rule.long_seconds, rule.short_seconds)})
)
"""The windows, in seconds, whose burn rates the alerts read: 5m, 30m, 1h, 6h, 3d."""


@dataclass(frozen=True, slots=True)
class EventCounts:
    """Events in a window: all of them and the good ones (PromQL counts are floats)."""

    total: float
    good: float

    @classmethod
    def of(
        cls, total: float, *, good: float | None = None, bad: float | None = None
    ) -> EventCounts:
        """Counts from the total and either the good or the bad events, kept consistent:
        extrapolated counters may put one a little above the total, or below zero."""
        total = max(0.0, total)
        if good is None:
            assert bad is not None
            good = total - bad
        return cls(total, min(max(0.0, good), total))

    @property
    def bad(self) -> float:
        return self.total - self.good

    @property
    def sli(self) -> float | None:
        return self.good / self.total if self.total > 0 else None

    def burn_rate(self, objective: Objective) -> float | None:
        """How many times the allowed rate the budget is spent at; None without events."""
        if self.total <= 0:
            return None
        return (self.bad / self.total) / objective.error_budget


@dataclass(frozen=True, slots=True)
class ObjectiveStatus:
    """One objective over the SLO's window, its burn rates and its alerts' conditions."""

    objective: Objective
    counts: EventCounts
    """Over the SLO's window."""
    budget_remaining: float | None
    burn_rates: Mapping[int, float | None]
    """By window in seconds: ``BURN_WINDOWS`` and the SLO's window."""
    firing: Mapping[str, bool]
    """By ``BurnRule.name``: whether its condition holds."""

    @property
    def sli(self) -> float | None:
        return self.counts.sli


def objective_status(
    objective: Objective, window_seconds: int, counts: Mapping[int, EventCounts]
) -> ObjectiveStatus:
    """The status of ``objective`` from the event counts of each window (``counts`` has
    ``window_seconds`` and every one of ``BURN_WINDOWS``)."""
    overall = counts[window_seconds]
    burn = {seconds: counts[seconds].burn_rate(objective) for seconds in counts}
    spent = burn[window_seconds]
    return ObjectiveStatus(
        objective,
        overall,
        None if spent is None else 1.0 - spent,
        burn,
        {rule.name: _holds(rule, burn) for rule in BURN_RULES},
    )


def _holds(rule: BurnRule, burn: Mapping[int, float | None]) -> bool:
    long, short = burn[rule.long_seconds], burn[rule.short_seconds]
    return long is not None and short is not None and long > rule.factor and short > rule.factor
