"""Alerts as events, and the webhook payload that carries them (Alertmanager's format).

An ``AlertEvent`` is one state of one alert: its labels (which say *what* is alerting and make
its identity), annotations (what a person reads: summary, description, runbook), whether
it is firing or resolved, since when (and until when, once resolved), and a link back to
where it was computed. Whatever evaluates alerts (SLO burn rates, or anything else) emits
these; nothing here knows where they come from.

The identity of an alert is its **fingerprint**: the 64-bit FNV-1a hash of its labels
sorted by name, each name and value followed by the byte 0xFF, written as 16 hex digits.
That is the hash the Prometheus data model (and so Alertmanager) gives a label set, so a
receiver that already tracks Alertmanager's fingerprints sees the same ones from otelite.

``webhook_payload`` builds the JSON body of Alertmanager's webhook receiver (version "4"):
one body per *group* of alerts, the group being the alerts that share the values of the
``group_by`` labels (``alertname`` by default). Unlike Alertmanager, otelite never truncates
a group (``truncatedAlerts`` is always 0): the notifier splits a large group across several
posts instead, so that no alert is left unsaid.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from otelite.errors import InvalidRequest

__all__ = [
    "AlertEvent",
    "AlertStatus",
    "alert_fingerprint",
    "group_key",
    "group_labels",
    "webhook_payload",
]

AlertStatus = Literal["firing", "resolved"]

_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEPARATOR = 0xFF
_MASK = (1 << 64) - 1
_ZERO_TIME = "0001-01-01T00:00:00Z"
"""Go's zero time, which Alertmanager writes as the end of an alert still firing."""
_WEBHOOK_VERSION = "4"


def alert_fingerprint(labels: Mapping[str, str]) -> str:
    """The fingerprint of a label set, as Prometheus and Alertmanager compute it."""
    digest = _FNV_OFFSET
    for name in sorted(labels):
        for text in (name, labels[name]):
            for byte in text.encode():
                digest = ((digest ^ byte) * _FNV_PRIME) & _MASK
            digest = ((digest ^ _SEPARATOR) * _FNV_PRIME) & _MASK
    return f"{digest:016x}"


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One state of one alert: firing (``ends_at`` None) or resolved (``ends_at`` set)."""

    labels: Mapping[str, str]
    status: AlertStatus
    starts_at: datetime
    ends_at: datetime | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    generator_url: str = ""
    key: str = ""
    """Names this state among all that were handed over (not sent): an outbox keeps a
    state of a key once, so that one handed over again after a crash is not sent twice.
    Empty: no such name."""

    def __post_init__(self) -> None:
        if not self.labels:
            raise InvalidRequest("alert labels: at least one (they are the alert's identity)")
        for what, mapping in (("labels", self.labels), ("annotations", self.annotations)):
            for key, value in mapping.items():
                if not isinstance(key, str) or not key or not isinstance(value, str):
                    raise InvalidRequest(f"alert {what}: {key!r}: names and values are text")
        if self.status not in ("firing", "resolved"):
            raise InvalidRequest(f"alert status: {self.status!r}; firing or resolved")
        for name, moment in (("startsAt", self.starts_at), ("endsAt", self.ends_at)):
            if moment is not None and moment.tzinfo is None:
                raise InvalidRequest(f"alert {name}: a time with its zone (UTC)")
        if self.status == "resolved" and self.ends_at is None:
            raise InvalidRequest("alert endsAt: a resolved alert says when it ended")
        if self.ends_at is not None and self.ends_at < self.starts_at:
            raise InvalidRequest("alert endsAt: before startsAt")

    @property
    def fingerprint(self) -> str:
        return alert_fingerprint(self.labels)

    def to_json(self) -> dict[str, Any]:
        """The alert as an element of the webhook's ``alerts`` list."""
        return {
            "status": self.status,
            "labels": dict(sorted(self.labels.items())),
            "annotations": dict(sorted(self.annotations.items())),
            "startsAt": _time_text(self.starts_at),
            "endsAt": _ZERO_TIME if self.ends_at is None else _time_text(self.ends_at),
            "generatorURL": self.generator_url,
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> AlertEvent:
        """The inverse of ``to_json`` (the outbox keeps alerts in their wire form)."""
        ends = value.get("endsAt", _ZERO_TIME)
        return cls(
            labels=dict(value["labels"]),
            status=value["status"],
            starts_at=_parse_time(value["startsAt"]),
            ends_at=None if ends == _ZERO_TIME else _parse_time(ends),
            annotations=dict(value.get("annotations", {})),
            generator_url=value.get("generatorURL", ""),
        )


def group_labels(alert: AlertEvent, group_by: Sequence[str]) -> dict[str, str]:
    """The labels that put ``alert`` in its group (those of ``group_by`` it has)."""
    return {name: alert.labels[name] for name in sorted(group_by) if name in alert.labels}


def group_key(labels: Mapping[str, str]) -> str:
    """Alertmanager's ``groupKey`` for a group of the root route: ``{}:{name="value", ...}``."""
    pairs = ", ".join(f"{name}={json.dumps(labels[name])}" for name in sorted(labels))
    return f"{{}}:{{{pairs}}}"


def webhook_payload(
    alerts: Sequence[AlertEvent],
    *,
    receiver: str,
    group_by: Sequence[str],
    external_url: str,
) -> dict[str, Any]:
    """The webhook body for ``alerts``, which are one group (they share ``group_by``)."""
    if not alerts:
        raise ValueError("a notification carries at least one alert")
    labels = group_labels(alerts[0], group_by)
    return {
        "version": _WEBHOOK_VERSION,
        "groupKey": group_key(labels),
        "truncatedAlerts": 0,
        "status": "firing" if any(a.status == "firing" for a in alerts) else "resolved",
        "receiver": receiver,
        "groupLabels": labels,
        "commonLabels": _common([a.labels for a in alerts]),
        "commonAnnotations": _common([a.annotations for a in alerts]),
        "externalURL": external_url,
        "alerts": [a.to_json() for a in alerts],
    }


def _common(mappings: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """The pairs every mapping has, with the same value."""
    first, *rest = mappings
    return {
        key: value
        for key, value in sorted(first.items())
        if all(other.get(key) == value for other in rest)
    }


def _time_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
