"""OTLP log records as Loki sees them: stream labels, structured metadata, the line and
the level, by Loki's own OTLP mapping (``pkg/loghttp/push/otlp.go``), so that a query
written for Loki finds the same streams here.

- **Stream (index) labels**: the resource attributes Loki indexes by default
  (``INDEX_ATTRIBUTES``), named as Prometheus labels (``service.name`` →
  ``service_name``), and always a ``service_name``: from ``service.name``, else the first
  of Loki's service-discovery labels present, else ``unknown_service``. A record pushed
  through otelite's Loki push API (scope ``PUSH_SCOPE``) keeps every label it was pushed
  with: those are its resource attributes, stored under the labels' own names, beside a
  ``service.name`` that the push adds (the stream's ``service_name``, for otelite's other
  APIs) and that is no label (no label name has a dot).
- **Structured metadata**: every other resource attribute, the scope's and the record's
  attributes (maps flattened to ``parent_child`` keys), and the record's ``trace_id``,
  ``span_id``, ``severity_number``, ``severity_text``, ``flags``,
  ``dropped_attributes_count``, ``event_name``, ``observed_timestamp`` and the scope's
  name, version and dropped count, where set. A pushed record's structured metadata is
  what it was pushed with, its attributes, and nothing else: the fields the push sets
  (severity, trace context, observed time) are read from those or the clock.
- **Level**: ``detected_level`` from the severity text (normalised), else the severity
  number's range, else a level field or word in the line.

This is the one definition of a record's labels: SQL that selects streams must agree
with ``stream_labels`` (the tests hold both to it).
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from otelite.query.promql import format_value, label_name

__all__ = [
    "DETECTED_LEVEL",
    "INDEX_ATTRIBUTES",
    "LEVELS_BY_NUMBER",
    "LEVEL_FIELDS",
    "LEVEL_WORDS",
    "PUSH_SCOPE",
    "SERVICE_DISCOVERY_LABELS",
    "SERVICE_NAME",
    "UNKNOWN_LEVEL",
    "UNKNOWN_SERVICE",
    "RecordFields",
    "any_value_text",
    "detected_level",
    "flattened",
    "index_label_attributes",
    "record_metadata",
    "shared_metadata",
    "stream_labels",
    "structured_metadata",
]

INDEX_ATTRIBUTES: tuple[str, ...] = (
    "service.name",
    "service.namespace",
    "service.instance.id",
    "deployment.environment",
    "deployment.environment.name",
    "cloud.region",
    "cloud.availability_zone",
    "k8s.cluster.name",
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.container.name",
    "container.name",
    "k8s.replicaset.name",
    "k8s.deployment.name",
    "k8s.statefulset.name",
    "k8s.daemonset.name",
    "k8s.cronjob.name",
    "k8s.job.name",
)
"""The resource attributes Loki makes index labels of by default."""

SERVICE_NAME = "service_name"
UNKNOWN_SERVICE = "unknown_service"
SERVICE_DISCOVERY_LABELS: tuple[str, ...] = (
    "service",
    "app",
    "application",
    "app_name",
    "name",
    "app_kubernetes_io_name",
    "container",
    "container_name",
    "k8s_container_name",
    "component",
    "workload",
    "job",
    "k8s_job_name",
)
"""Where ``service_name`` comes from when a stream has none: the first present."""

DETECTED_LEVEL = "detected_level"
UNKNOWN_LEVEL = "unknown"
PUSH_SCOPE = "otelite.loki.push"
"""The scope of records pushed through the Loki API: their resource attributes are
their stream labels, as pushed."""

_INDEXED = {label_name(key): key for key in INDEX_ATTRIBUTES}
_SERVICE_ATTRIBUTE = INDEX_ATTRIBUTES[0]


def index_label_attributes(label: str) -> tuple[str, ...]:
    """The resource attribute keys an index label can come from on an OTLP record (its
    own name too, for records pushed through the Loki API)."""
    indexed = _INDEXED.get(label)
    return (indexed, label) if indexed is not None and indexed != label else (label,)


def stream_labels(resource: Mapping[str, str], scope_name: str) -> dict[str, str]:
    """The stream labels of a record with these resource attributes (string forms) and
    scope name."""
    if scope_name == PUSH_SCOPE:
        labels = {k: v for k, v in resource.items() if v != "" and k != _SERVICE_ATTRIBUTE}
    else:
        labels = {
            label_name(key): resource[key]
            for key in INDEX_ATTRIBUTES
            if resource.get(key, "") != ""
        }
    if not labels.get(SERVICE_NAME):
        found = (labels.get(name, "") for name in SERVICE_DISCOVERY_LABELS)
        labels[SERVICE_NAME] = next((v for v in found if v), UNKNOWN_SERVICE)
    return dict(sorted(labels.items()))


@dataclass(frozen=True, slots=True)
class RecordFields:
    """What structured metadata is made of, besides attributes: a record's own fields
    and its scope's (empty, zero or None where unset)."""

    trace_id: bytes = b""
    span_id: bytes = b""
    severity_number: int = 0
    severity_text: str = ""
    flags: int = 0
    dropped_attributes_count: int = 0
    event_name: str = ""
    observed_ns: int | None = None
    """The observed time, only when the record also has a time of its own."""
    scope_name: str = ""
    scope_version: str = ""
    scope_dropped_attributes_count: int = 0


def structured_metadata(
    resource: Iterable[tuple[str, AnyValue]],
    scope: Iterable[tuple[str, AnyValue]],
    attributes: Iterable[tuple[str, AnyValue]],
    fields: RecordFields,
) -> dict[str, str]:
    """A record's structured metadata: its resource attributes that are not index labels,
    its scope's and its own attributes, and its fields; a pushed record's: its attributes."""
    if fields.scope_name == PUSH_SCOPE:
        return flattened(attributes)
    return record_metadata(shared_metadata(resource, scope), attributes, fields)


def shared_metadata(
    resource: Iterable[tuple[str, AnyValue]], scope: Iterable[tuple[str, AnyValue]]
) -> dict[str, str]:
    """The structured metadata that every OTLP record of a resource and scope has: the
    resource attributes that are not index labels, then the scope's."""
    found = flattened((k, v) for k, v in resource if k not in INDEX_ATTRIBUTES)
    found.update(flattened(scope))
    return found


def record_metadata(
    shared: Mapping[str, str], attributes: Iterable[tuple[str, AnyValue]], fields: RecordFields
) -> dict[str, str]:
    """An OTLP record's structured metadata from its resource's and scope's
    (``shared_metadata``), its attributes and its fields."""
    found = dict(shared)
    found.update(flattened(attributes))
    own = {
        "trace_id": fields.trace_id.hex(),
        "span_id": fields.span_id.hex(),
        "severity_number": str(fields.severity_number) if fields.severity_number else "",
        "severity_text": fields.severity_text,
        "flags": str(fields.flags) if fields.flags else "",
        "dropped_attributes_count": _count(fields.dropped_attributes_count),
        "event_name": fields.event_name,
        "observed_timestamp": "" if fields.observed_ns is None else str(fields.observed_ns),
        "scope_name": fields.scope_name,
        "scope_version": fields.scope_version,
        "scope_dropped_attributes_count": _count(fields.scope_dropped_attributes_count),
    }
    found.update((k, v) for k, v in own.items() if v)
    return found


def _count(value: int) -> str:
    return str(value) if value else ""


@functools.lru_cache(maxsize=1 << 16)
def _named(key: str) -> str:
    return label_name(key)


def flattened(attributes: Iterable[tuple[str, AnyValue]]) -> dict[str, str]:
    """Attributes as Loki names them: label names, map values flattened into
    ``parent_child`` keys, every other value in its string form."""
    found: dict[str, str] = {}
    for key, value in attributes:
        if value.WhichOneof("value") == "kvlist_value":
            inner = ((kv.key, kv.value) for kv in value.kvlist_value.values)
            for child, text in flattened(inner).items():
                found[_named(f"{key}_{child}")] = text
            continue
        name = _named(key)
        if name:
            found[name] = any_value_text(value)
    return found


def any_value_text(value: AnyValue) -> str:
    """A value's string form, as the Collector's ``AsString`` writes it: bools ``true``
    and ``false``, numbers in their shortest form, bytes in base64, arrays and maps as
    JSON."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "int_value":
        return str(value.int_value)
    if kind == "double_value":
        return format_value(value.double_value)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    if kind in ("array_value", "kvlist_value"):
        return json.dumps(_plain(value), separators=(",", ":"), sort_keys=False)
    return ""


def _plain(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_plain(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _plain(kv.value) for kv in value.kvlist_value.values}
    if kind == "bool_value":
        return value.bool_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    return any_value_text(value)


LEVEL_WORDS = {
    "trace": "trace",
    "debug": "debug",
    "dbg": "debug",
    "info": "info",
    "inf": "info",
    "information": "info",
    "informational": "info",
    "notice": "info",
    "warn": "warn",
    "wrn": "warn",
    "warning": "warn",
    "error": "error",
    "err": "error",
    "critical": "critical",
    "crit": "critical",
    "fatal": "fatal",
    "emerg": "fatal",
    "alert": "fatal",
}
"""The words a level is written in (lowercase), and the level each means."""
LEVEL_FIELDS = (
    "level",
    "LEVEL",
    "Level",
    "log.level",
    "severity",
    "SEVERITY",
    "Severity",
    "SeverityText",
    "lvl",
    "LVL",
    "Lvl",
    "severity_text",
    "Severity_Text",
    "SEVERITY_TEXT",
)
"""The labels and metadata fields a level is read from, the first present winning."""
_LEVEL_IN_FIELD = re.compile(
    r"""["']?(?:level|lvl|severity)["']?\s*[:=]\s*["']?([A-Za-z]+)""", re.IGNORECASE
)
_LEVEL_WORD = re.compile(
    r"\b(trace|debug|dbg|info|inf|information|notice|warn|wrn|warning|error|err"
    r"|critical|crit|fatal|emerg|alert)\b",
    re.IGNORECASE,
)
LEVELS_BY_NUMBER = (
    (1, "trace"),
    (5, "debug"),
    (9, "info"),
    (13, "warn"),
    (17, "error"),
    (21, "fatal"),
)
"""The level of each range of OTLP severity numbers (1 to 24): (its lowest, level)."""


def detected_level(
    severity_text: str,
    severity_number: int,
    labels: Mapping[str, str],
    line: str,
) -> str:
    """The level Loki detects for a record: from a level label or metadata field (the
    severity text among them), normalised; else from the severity number; else from a
    level field or the first level word in the line; else ``unknown``."""
    text = severity_text or next((labels[f] for f in LEVEL_FIELDS if labels.get(f)), "")
    if text:
        return _normalised(text)
    if 1 <= severity_number <= 24:
        return next(level for low, level in reversed(LEVELS_BY_NUMBER) if severity_number >= low)
    field = _LEVEL_IN_FIELD.search(line)
    if field is not None:
        return _normalised(field.group(1))
    word = _LEVEL_WORD.search(line)
    return _normalised(word.group(1)) if word is not None else UNKNOWN_LEVEL


def _normalised(word: str) -> str:
    return LEVEL_WORDS.get(word.strip().lower(), word.strip())
