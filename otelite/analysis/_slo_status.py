"""An SLO's status at one time: every objective's numbers and its alerts' conditions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from otelite.analysis._openslo import SloDefinition
from otelite.analysis._slo_alerts import Condition
from otelite.analysis._slo_counts import read_counts
from otelite.analysis._slo_math import (
    BURN_RULES,
    BURN_WINDOWS,
    BurnRule,
    EventCounts,
    ObjectiveStatus,
    objective_status,
)
from otelite.storage import Storage

__all__ = ["SloStatus", "alert_annotations", "alert_labels", "slo_status", "window_text"]


@dataclass(frozen=True, slots=True)
class SloStatus:
    """``definition`` evaluated at ``at_ns``."""

    definition: SloDefinition
    at_ns: int
    counts: Mapping[int, EventCounts]
    """By window in seconds: the SLO's own and ``BURN_WINDOWS``."""
    objectives: tuple[ObjectiveStatus, ...]

    def conditions(self) -> list[Condition]:
        """Each burn-rate alert of each objective, and whether it holds."""
        return [
            Condition(
                self.definition.name,
                status.objective.name,
                rule.name,
                status.firing[rule.name],
                status.burn_rates[rule.long_seconds],
                alert_labels(self.definition, status.objective.name, rule),
                alert_annotations(self.definition, status.objective.name, rule),
            )
            for status in self.objectives
            for rule in BURN_RULES
        ]


def slo_status(
    storage: Storage, definition: SloDefinition, at_ns: int, *, timeout_s: float | None = None
) -> SloStatus:
    """``definition``'s status from the events in ``storage`` up to ``at_ns`` (blocking)."""
    windows = sorted({*BURN_WINDOWS, definition.window_seconds})
    counts = read_counts(storage, definition, at_ns, windows, timeout_s=timeout_s)
    objectives = tuple(
        objective_status(objective, definition.window_seconds, counts)
        for objective in definition.objectives
    )
    return SloStatus(definition, at_ns, counts, objectives)


def alert_labels(definition: SloDefinition, objective: str, rule: BurnRule) -> dict[str, str]:
    """The labels of an alert: its rule, severity, SLO, objective and service."""
    labels = {
        "alertname": rule.name,
        "severity": rule.severity,
        "slo": definition.name,
        "objective": objective,
    }
    if definition.service is not None:
        labels["service"] = definition.service
    return labels


def alert_annotations(definition: SloDefinition, objective: str, rule: BurnRule) -> dict[str, str]:
    """What an alert says to the person it reaches."""
    title = definition.display_name or definition.name
    return {
        "summary": f"SLO {title} is burning its error budget fast"
        if rule.severity == "page"
        else f"SLO {title} is spending its error budget faster than it lasts",
        "description": (
            f"Objective {objective} of SLO {definition.name}: the burn rate is above "
            f"{rule.factor:g} over both {window_text(rule.long_seconds)} and "
            f"{window_text(rule.short_seconds)}; at {rule.factor:g}x, the "
            f"{window_text(rule.long_seconds)} spends "
            f"{rule.factor * rule.long_seconds / definition.window_seconds:.1%} of the "
            f"{window_text(definition.window_seconds)} budget."
        ),
    }


def window_text(seconds: int) -> str:
    """A window as a duration: ``5m``, ``1h``, ``3d``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
