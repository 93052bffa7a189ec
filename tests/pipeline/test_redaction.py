"""Redaction as tables: attributes in, attributes out, and what the record is marked with.
Expected values are written by hand from the rules' documented meaning (masks, deletions,
and keyed hashes computed here with hmac)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Gauge,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from otelite.otlp import any_value_plain
from otelite.pipeline import RedactionRules, parse_pipeline
from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportTraceServiceRequest,
)

KEY = "s3cret-key"
CARD = "4111 1111 1111 1111"  # passes the Luhn check
NOT_A_CARD = "4111 1111 1111 1112"


def rules(body: str) -> RedactionRules:
    found = parse_pipeline("processors:\n  redaction:\n" + body).redaction
    assert isinstance(found, RedactionRules)
    return found


def hashed(text: str) -> str:
    return hmac.new(KEY.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


def value(plain: Any) -> AnyValue:
    if isinstance(plain, str):
        return AnyValue(string_value=plain)
    if isinstance(plain, bool):
        return AnyValue(bool_value=plain)
    if isinstance(plain, int):
        return AnyValue(int_value=plain)
    if isinstance(plain, list):
        return AnyValue(array_value=ArrayValue(values=[value(v) for v in plain]))
    return AnyValue(
        kvlist_value=KeyValueList(
            values=[KeyValue(key=k, value=value(v)) for k, v in plain.items()]
        )
    )


def kvs(attributes: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=value(v)) for k, v in attributes.items()]


def plain(attributes: Any) -> dict[str, Any]:
    return {kv.key: any_value_plain(kv.value) for kv in attributes}


def span_request(attributes: dict[str, Any]) -> ExportTraceServiceRequest:
    span = Span(name="op", attributes=kvs(attributes))
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])]
    )


def span_attributes(request: ExportTraceServiceRequest) -> dict[str, Any]:
    return plain(request.resource_spans[0].scope_spans[0].spans[0].attributes)


RULES = """\
    rules:
      - keys: [password, http.request.header.authorization]
        action: delete
      - key_pattern: (?i)token
        action: mask
      - keys: [user.id]
        action: hash
      - values: [credit_card, email]
        action: mask
      - value_pattern: 'acct-\\d{6}'
        action: hash
      - values: [us_ssn]
        action: delete
    ignore_keys: [session.token.kind]
    hash_key_env: OTELITE_TEST_REDACTION_KEY
"""

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("nothing to redact", {"http.route": "/cart", "n": 3}, {"http.route": "/cart", "n": 3}),
    (
        "a key deleted",
        {"password": "hunter2", "http.route": "/login"},
        {"http.route": "/login", "redaction.redacted.count": 1},
    ),
    (
        "a key pattern masks, whatever the value's type",
        {"auth.Token": 12345, "csrf_token": "abc"},
        {"auth.Token": "****", "csrf_token": "****", "redaction.masked.count": 2},
    ),
    (
        "an ignored key is left",
        {"session.token.kind": "opaque"},
        {"session.token.kind": "opaque"},
    ),
    (
        "a key hashed, keyed",
        {"user.id": "u-42"},
        {"user.id": hashed("u-42"), "redaction.hashed.count": 1},
    ),
    (
        "a card number in text is masked, a non-card number is not",
        {"note": f"paid with {CARD} today", "ref": NOT_A_CARD},
        {"note": "paid with **** today", "ref": NOT_A_CARD, "redaction.masked.count": 1},
    ),
    (
        "e-mail addresses inside lists and maps",
        {"to": ["a@example.com", "ok"], "meta": {"from": "b@example.org", "n": 1}},
        {
            "to": ["****", "ok"],
            "meta": {"from": "****", "n": 1},
            "redaction.masked.count": 2,
        },
    ),
    (
        "a value pattern hashes each match",
        {"msg": "acct-123456 and acct-654321"},
        {
            "msg": f"{hashed('acct-123456')} and {hashed('acct-654321')}",
            "redaction.hashed.count": 1,
        },
    ),
    (
        "a value rule that deletes takes the attribute",
        {"ssn": "123-45-6789", "kept": "x"},
        {"kept": "x", "redaction.redacted.count": 1},
    ),
]


@pytest.mark.parametrize(("what", "before", "after"), CASES, ids=[c[0] for c in CASES])
def test_span_attributes(
    monkeypatch: pytest.MonkeyPatch, what: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    monkeypatch.setenv("OTELITE_TEST_REDACTION_KEY", KEY)
    request = span_request(before)
    changed = rules(RULES).apply(request)
    assert span_attributes(request) == after
    assert changed == (before != after)


def test_allow_list_mode_keeps_only_the_listed_keys_and_the_service() -> None:
    redaction = rules("    allow_keys: [http.route]\n    summary: debug\n")
    request = span_request({"http.route": "/", "user.email": "x", "db.statement": "select"})
    request.resource_spans[0].resource.CopyFrom(
        Resource(attributes=kvs({"service.name": "shop", "host.name": "h1"}))
    )
    assert redaction.apply(request)
    assert span_attributes(request) == {
        "http.route": "/",
        "redaction.redacted.count": 2,
        "redaction.redacted.keys": "db.statement,user.email",
    }
    assert plain(request.resource_spans[0].resource.attributes) == {
        "service.name": "shop",
        "redaction.redacted.count": 1,
        "redaction.redacted.keys": "host.name",
    }
    assert redaction.counts == {"redacted": 3}


def test_events_links_log_bodies_and_metric_points() -> None:
    redaction = rules("    rules:\n      - values: [email, bearer_token]\n        action: mask\n")
    span = Span(name="op")
    span.events.add(name="mail", attributes=kvs({"to": "c@example.com"}))
    span.links.add(attributes=kvs({"auth": "Bearer abc.def"}))
    traces = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])]
    )
    assert redaction.apply(traces)
    stored = traces.resource_spans[0].scope_spans[0].spans[0]
    assert plain(stored.events[0].attributes) == {"to": "****"}
    assert plain(stored.links[0].attributes) == {"auth": "****"}
    # Events and links count toward their span.
    assert plain(stored.attributes) == {"redaction.masked.count": 2}

    log = LogRecord(body=value({"user": "d@example.com", "text": "hi Bearer xyz"}))
    logs = ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=[log])])]
    )
    assert redaction.apply(logs)
    record = logs.resource_logs[0].scope_logs[0].log_records[0]
    assert any_value_plain(record.body) == {"user": "****", "text": "hi ****"}

    point = NumberDataPoint(as_int=1, attributes=kvs({"owner": "e@example.com"}))
    metrics = ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                scope_metrics=[
                    ScopeMetrics(metrics=[Metric(name="m", gauge=Gauge(data_points=[point]))])
                ]
            )
        ]
    )
    assert redaction.apply(metrics)
    stored_point = metrics.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0]
    assert plain(stored_point.attributes) == {"owner": "****", "redaction.masked.count": 1}
    assert redaction.counts == {"masked": 5}


def test_silent_summary_marks_nothing_but_counts() -> None:
    redaction = rules(
        "    summary: silent\n    rules:\n      - keys: [a]\n        action: delete\n"
    )
    request = span_request({"a": 1, "b": 2})
    assert redaction.apply(request)
    assert span_attributes(request) == {"b": 2}
    assert redaction.counts == {"redacted": 1}
