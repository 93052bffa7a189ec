"""Compare telemetry "up to regrouping and order": what a store gives back vs what was sent.

A store may put items under different (but equal) ``Resource*`` / ``Scope*`` messages,
split or merge requests and reorder items. None of that changes the telemetry, so both
sides are canonicalised into a sorted list of per-item records — the item with its
resource, scope and schema URLs (and, for metrics, one data point with its metric's
identity) — each serialised deterministically, and the two lists are compared.

Canonical form follows proto3 meaning rather than bytes: a message field that is present
but empty equals an absent one (``KeyValue.value = {}`` is the empty value either way),
while oneof members keep their presence (an empty array is not an empty value). Ids and
bytes are hex, doubles are ``repr`` strings so that ``NaN``, ``-0.0`` and the exact value
all compare. Attribute order and duplicate keys are kept: they are part of what was sent.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportRequest,
    ExportTraceServiceRequest,
)

__all__ = ["assert_same_telemetry", "canonical_records"]

_SHOWN = 5  # records printed per side of a failure


def canonical(message: Message) -> dict[str, Any]:
    """A message as JSON-able data: present fields only, bytes in hex, doubles as repr."""
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        if field.is_repeated:
            out[field.name] = [_scalar_or_message(field, v) for v in value]
            continue
        item = _scalar_or_message(field, value)
        if item == {} and field.containing_oneof is None:
            continue  # present but empty: the same as absent
        out[field.name] = item
    return out


def _scalar_or_message(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return canonical(value)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return {"hex": value.hex()}
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return {"double": repr(value)}
    return value


def _envelopes(
    request: ExportRequest, resource_field: str, scope_field: str
) -> Iterator[tuple[dict[str, Any], Message]]:
    for resource in getattr(request, resource_field):
        base = {
            "resource": canonical(resource.resource),
            "resource_schema_url": resource.schema_url,
        }
        for scope in getattr(resource, scope_field):
            envelope = {
                **base,
                "scope": canonical(scope.scope),
                "scope_schema_url": scope.schema_url,
            }
            yield envelope, scope


def _records(request: ExportRequest) -> Iterator[dict[str, Any]]:
    if isinstance(request, ExportTraceServiceRequest):
        for envelope, scope in _envelopes(request, "resource_spans", "scope_spans"):
            for span in scope.spans:  # type: ignore[attr-defined]
                yield {"signal": "traces", **envelope, "item": canonical(span)}
    elif isinstance(request, ExportLogsServiceRequest):
        for envelope, scope in _envelopes(request, "resource_logs", "scope_logs"):
            for record in scope.log_records:  # type: ignore[attr-defined]
                yield {"signal": "logs", **envelope, "item": canonical(record)}
    elif isinstance(request, ExportMetricsServiceRequest):
        for envelope, scope in _envelopes(request, "resource_metrics", "scope_metrics"):
            for metric in scope.metrics:  # type: ignore[attr-defined]
                yield from _metric_records(envelope, metric)
    else:
        raise TypeError(f"not an export request: {type(request).__name__}")


def _metric_records(envelope: dict[str, Any], metric: Any) -> Iterator[dict[str, Any]]:
    identity = canonical(metric)
    kind = metric.WhichOneof("data")
    if kind is None:
        return
    data = identity.pop(kind, {})
    points = data.pop("data_points", [])
    identity["kind"] = kind
    identity[kind] = data  # temporality, monotonicity: part of the identity
    for point in points:
        yield {"signal": "metrics", **envelope, "metric": identity, "item": point}


def canonical_records(requests: Sequence[ExportRequest]) -> list[str]:
    """Every item of ``requests`` as a deterministic JSON line, sorted."""
    return sorted(
        json.dumps(record, sort_keys=True, separators=(",", ":"))
        for request in requests
        for record in _records(request)
    )


def _show(lines: Counter[str]) -> str:
    shown = []
    for line, count in sorted(lines.items())[:_SHOWN]:
        pretty = json.dumps(json.loads(line), sort_keys=True, indent=2)
        shown.append(f"  {count} times: {pretty}" if count > 1 else f"  {pretty}")
    more = len(lines) - _SHOWN
    if more > 0:
        shown.append(f"  ... and {more} more")
    return "\n".join(shown)


def _pretty(line: str) -> list[str]:
    return json.dumps(json.loads(line), sort_keys=True, indent=1).splitlines()


def _closest_diff(missing: Counter[str], unexpected: Counter[str]) -> str:
    """A field-level diff between a missing record and the received one most like it."""
    first = next(iter(sorted(missing)))
    candidates = sorted(unexpected)[:50]
    closest = max(
        candidates, key=lambda line: difflib.SequenceMatcher(None, first, line).quick_ratio()
    )
    diff = difflib.unified_diff(
        _pretty(first), _pretty(closest), "sent", "received", n=2, lineterm=""
    )
    return "\n".join(diff)


def assert_same_telemetry(sent: Sequence[ExportRequest], received: Sequence[ExportRequest]) -> None:
    """Fail, showing the differing items, unless both hold the same telemetry.

    Regrouping under resources and scopes, splitting into requests, and order do not
    count; every field of every item, resource and scope does, as does how many times an
    item occurs.
    """
    want = Counter(canonical_records(sent))
    got = Counter(canonical_records(received))
    if want == got:
        return
    missing = want - got
    unexpected = got - want
    parts = [
        f"sent {sum(want.values())} items, received {sum(got.values())}",
    ]
    if missing:
        parts.append(f"sent but not received ({sum(missing.values())}):\n{_show(missing)}")
    if unexpected:
        parts.append(f"received but not sent ({sum(unexpected.values())}):\n{_show(unexpected)}")
    if missing and unexpected:
        parts.append("closest pair, as a diff:\n" + _closest_diff(missing, unexpected))
    raise AssertionError("\n".join(parts))
