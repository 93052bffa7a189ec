"""The state of one tenant's SLO alerts: which fire, since when, and every change of state.

An alert is one burn-rate rule of one objective of one SLO. Each evaluation tells the
book whether each condition holds; an alert whose condition starts to hold *fires* (its
``activeAt`` is that evaluation), and one whose condition stops holding, or whose SLO or
objective is gone, is *resolved*. An alert that keeps firing is *repeated* every
``repeat_ns`` (Alertmanager's ``repeat_interval``: a reminder, and a second chance for a
receiver that lost the first). Every such change is a ``Transition`` with a sequence
number that only grows, kept (the newest ``MAX_TRANSITIONS``) for whoever takes them on
(the alert notifiers): the book also keeps the last number each has had (``delivered``),
so that after a restart each carries on from there, and nothing is skipped or handed on
twice.

The book is written to ``alerts.json`` (through a temporary file and a rename, so a crash
leaves the old or the new state, never half of one) after every change and before the
change is reported: an alert firing before a restart is firing after it, and does not fire
again. Resolved alerts are shown for ``KEEP_RESOLVED_NS`` (as Prometheus keeps them) and
then forgotten.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson

from otelite.analysis._alert_events import AlertEvent
from otelite.analysis._files import read_json, write_json

__all__ = [
    "MAX_TRANSITIONS",
    "Alert",
    "AlertBook",
    "AlertId",
    "Condition",
    "Transition",
    "alert_event",
]

log = logging.getLogger("otelite.slo")

MAX_TRANSITIONS = 1000
KEEP_RESOLVED_NS = 15 * 60 * 1_000_000_000
_FILE = "alerts.json"

State = Literal["firing", "resolved"]


@dataclass(frozen=True, slots=True)
class AlertId:
    """Which alert: a burn-rate rule of an objective of an SLO."""

    slo: str
    objective: str
    rule: str

    @property
    def key(self) -> str:
        return orjson.dumps([self.slo, self.objective, self.rule]).decode()


@dataclass(frozen=True, slots=True)
class Condition(AlertId):
    """One alert's condition as an evaluation found it."""

    holds: bool
    value: float | None
    """The burn rate over the rule's long window."""
    labels: Mapping[str, str]
    annotations: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Alert(AlertId):
    """An alert that fires, or was resolved in the last ``KEEP_RESOLVED_NS``."""

    state: State
    active_at_ns: int
    resolved_at_ns: int | None
    value: float | None
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    noted_at_ns: int = 0
    """When its latest transition was made (it fired, was repeated or resolved)."""


@dataclass(frozen=True, slots=True)
class Transition:
    """An alert starting to fire, or resolved; ``sequence`` orders every tenant's changes."""

    sequence: int
    at_ns: int
    alert: Alert


class AlertBook:
    """One tenant's alerts, kept in ``directory`` (None: in memory). Thread-safe."""

    def __init__(self, directory: Path | None) -> None:
        self._path = None if directory is None else directory / _FILE
        self._lock = threading.Lock()
        self._alerts: dict[str, Alert] = {}
        self._transitions: list[Transition] = []
        self._sequence = 0
        self._delivered: dict[str, int] = {}
        """Per notification receiver, the last sequence number it has had."""
        if self._path is not None:
            self._load(self._path)

    def alerts(self, now_ns: int) -> list[Alert]:
        """Alerts firing, and those resolved less than ``KEEP_RESOLVED_NS`` before ``now_ns``."""
        with self._lock:
            return [a for a in self._alerts.values() if _shown(a, now_ns)]

    def transitions(self, after: int = 0) -> list[Transition]:
        """The kept changes with a sequence number above ``after``, oldest first."""
        with self._lock:
            return [t for t in self._transitions if t.sequence > after]

    def register(self, receivers: Iterable[str], *, only: bool = False) -> None:
        """Start keeping what each receiver not seen before has had: from now on, the
        changes to come (saved, so that none made before a restart is missed). ``only``:
        forget the others (receivers no longer configured)."""
        with self._lock:
            wanted = list(receivers)
            delivered = (
                {r: n for r, n in self._delivered.items() if r in wanted}
                if only
                else dict(self._delivered)
            )
            delivered |= {r: self._sequence for r in wanted if r not in delivered}
            if delivered != self._delivered:
                self._save(self._alerts, self._transitions, self._sequence, delivered)

    def undelivered(self, receiver: str) -> list[Transition]:
        """The changes a registered ``receiver`` has not had, oldest first."""
        with self._lock:
            after = self._delivered[receiver]
            return [t for t in self._transitions if t.sequence > after]

    def delivered(self, receiver: str, sequence: int) -> None:
        """``receiver`` has had every change up to ``sequence`` (saved before this returns)."""
        with self._lock:
            if sequence > self._delivered[receiver]:
                delivered = self._delivered | {receiver: sequence}
                self._save(self._alerts, self._transitions, self._sequence, delivered)

    def record(
        self,
        slo: str,
        conditions: Iterable[Condition],
        at_ns: int,
        *,
        repeat_ns: int | None = None,
    ) -> list[Transition]:
        """What one evaluation of ``slo`` found: every condition of it (an alert of ``slo``
        not among them is resolved). An alert still firing ``repeat_ns`` (None: never)
        after its latest transition is repeated. Returns the changes, saved before they
        are."""
        found = {c.key: c for c in conditions}
        with self._lock:
            changes = []
            for condition in found.values():
                alert = self._alerts.get(condition.key)
                if condition.holds and (alert is None or alert.state == "resolved"):
                    changes.append(_fired(condition, at_ns))
                elif alert is not None and alert.state == "firing":
                    if condition.holds:
                        still = replace(alert, value=condition.value)
                        if repeat_ns is not None and at_ns - alert.noted_at_ns >= repeat_ns:
                            changes.append(replace(still, noted_at_ns=at_ns))
                        else:
                            self._alerts[alert.key] = still
                    else:
                        changes.append(_resolved(alert, at_ns, condition.value))
            changes += [
                _resolved(alert, at_ns, alert.value)
                for alert in self._alerts.values()
                if alert.slo == slo and alert.state == "firing" and alert.key not in found
            ]
            return self._apply(changes, at_ns)

    def forget(self, slo: str, at_ns: int) -> list[Transition]:
        """``slo`` is deleted: its firing alerts are resolved."""
        return self.record(slo, (), at_ns)

    def _apply(self, changes: list[Alert], at_ns: int) -> list[Transition]:
        expired = [k for k, a in self._alerts.items() if not _shown(a, at_ns)]
        if not changes and not expired:
            return []
        alerts = dict(self._alerts)
        for key in expired:
            del alerts[key]
        made: list[Transition] = []
        for alert in changes:
            alerts[alert.key] = alert
            made.append(Transition(self._sequence + len(made) + 1, at_ns, alert))
        kept = self._transitions + made
        transitions = kept[-MAX_TRANSITIONS:]
        if len(kept) > MAX_TRANSITIONS:
            dropped = kept[-MAX_TRANSITIONS - 1].sequence
            for receiver, after in self._delivered.items():
                if after < dropped:
                    log.warning(
                        "notifications to %s: the oldest waiting change (%d) is dropped; "
                        "more than %d changes wait for it",
                        receiver,
                        after + 1,
                        MAX_TRANSITIONS,
                    )
        # Saved first: if this fails, nothing changed and the next evaluation retries.
        self._save(alerts, transitions, self._sequence + len(made), self._delivered)
        return made

    def _save(
        self,
        alerts: dict[str, Alert],
        transitions: list[Transition],
        sequence: int,
        delivered: dict[str, int],
    ) -> None:
        """Write the state, then take it (a failed write changes nothing)."""
        if self._path is not None:
            write_json(
                self._path,
                {
                    "sequence": sequence,
                    "alerts": [asdict(a) for a in alerts.values()],
                    "transitions": [asdict(t) for t in transitions],
                    "delivered": delivered,
                },
            )
        self._alerts, self._transitions = alerts, transitions
        self._sequence, self._delivered = sequence, delivered

    def _load(self, path: Path) -> None:
        state = read_json(path)
        if state is None:
            return
        try:
            self._alerts = {a.key: a for a in map(_alert, state["alerts"])}
            self._transitions = [
                Transition(t["sequence"], t["at_ns"], _alert(t["alert"]))
                for t in state["transitions"]
            ]
            self._sequence = int(state["sequence"])
            self._delivered = {str(k): int(v) for k, v in state.get("delivered", {}).items()}
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            log.error("%s is not an alert state otelite wrote (%r); starting afresh", path, error)
            self._alerts, self._transitions, self._sequence = {}, [], 0
            self._delivered = {}


def alert_event(alert: Alert) -> AlertEvent:
    """An alert's state as the notifiers send it; its ``key`` (the alert, its state and
    when that state was noted) is the same however often the change is handed over."""
    return AlertEvent(
        labels=dict(alert.labels),
        status=alert.state,
        starts_at=_utc(alert.active_at_ns),
        ends_at=None if alert.resolved_at_ns is None else _utc(alert.resolved_at_ns),
        annotations=dict(alert.annotations),
        generator_url=f"/slos?slo={alert.slo}",
        key=f"slo:{alert.key}:{alert.state}:{alert.noted_at_ns}",
    )


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1000 / 1e6, UTC)


def _fired(condition: Condition, at_ns: int) -> Alert:
    return Alert(
        condition.slo,
        condition.objective,
        condition.rule,
        "firing",
        at_ns,
        None,
        condition.value,
        dict(condition.labels),
        dict(condition.annotations),
        at_ns,
    )


def _resolved(alert: Alert, at_ns: int, value: float | None) -> Alert:
    return replace(alert, state="resolved", resolved_at_ns=at_ns, value=value, noted_at_ns=at_ns)


def _shown(alert: Alert, now_ns: int) -> bool:
    return alert.resolved_at_ns is None or now_ns - alert.resolved_at_ns < KEEP_RESOLVED_NS


def _alert(data: Mapping[str, Any]) -> Alert:
    state = data["state"]
    if state not in ("firing", "resolved"):
        raise ValueError(f"unknown alert state {state!r}")
    return Alert(
        str(data["slo"]),
        str(data["objective"]),
        str(data["rule"]),
        state,
        int(data["active_at_ns"]),
        None if data["resolved_at_ns"] is None else int(data["resolved_at_ns"]),
        None if data["value"] is None else float(data["value"]),
        dict(data["labels"]),
        dict(data["annotations"]),
        # Kept since repeats were added; an older state's alert was noted when it fired.
        int(data.get("noted_at_ns", data["active_at_ns"])),
    )
