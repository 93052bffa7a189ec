"""Alerts and Alertmanager's webhook body: fingerprints as the Prometheus model computes
them (its published test vectors), grouping, common labels, and bad alerts refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from otelite.analysis import AlertEvent, alert_fingerprint, webhook_payload
from otelite.errors import InvalidRequest

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def test_fingerprints_match_the_prometheus_model() -> None:
    # The vectors of prometheus/common's model tests (LabelsToSignature, 0xFF separators).
    assert alert_fingerprint({}) == f"{14695981039346656037:016x}"
    pair = {"name": "garland, briggs", "fear": "love is not enough"}
    assert alert_fingerprint(pair) == f"{5799056148416392346:016x}"
    assert alert_fingerprint(pair) == "507a62d79ee76c9a"
    # Order does not matter; a value moved to another name does.
    assert alert_fingerprint({"b": "2", "a": "1"}) == alert_fingerprint({"a": "1", "b": "2"})
    assert alert_fingerprint({"a": "bb", "b": "c"}) != alert_fingerprint({"a": "b", "bb": "c"})


def test_one_group_in_alertmanagers_webhook_shape() -> None:
    firing = AlertEvent(
        {"alertname": "HighBurn", "service": "cart", "severity": "page"},
        "firing",
        T0,
        annotations={"summary": "cart burns", "runbook": "r1"},
        generator_url="http://otelite:3200/slo/cart",
    )
    resolved = AlertEvent(
        {"alertname": "HighBurn", "service": "shop", "severity": "page"},
        "resolved",
        T0 - timedelta(hours=1),
        ends_at=T0,
        annotations={"summary": "shop burns", "runbook": "r1"},
    )
    body = webhook_payload(
        [firing, resolved], receiver="pager", group_by=["alertname"], external_url="http://x"
    )
    assert body == {
        "version": "4",
        "groupKey": '{}:{alertname="HighBurn"}',
        "truncatedAlerts": 0,
        "status": "firing",  # one of them still fires
        "receiver": "pager",
        "groupLabels": {"alertname": "HighBurn"},
        "commonLabels": {"alertname": "HighBurn", "severity": "page"},
        "commonAnnotations": {"runbook": "r1"},
        "externalURL": "http://x",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "HighBurn", "service": "cart", "severity": "page"},
                "annotations": {"runbook": "r1", "summary": "cart burns"},
                "startsAt": "2026-12-07T03:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://otelite:3200/slo/cart",
                "fingerprint": firing.fingerprint,
            },
            {
                "status": "resolved",
                "labels": {"alertname": "HighBurn", "service": "shop", "severity": "page"},
                "annotations": {"runbook": "r1", "summary": "shop burns"},
                "startsAt": "2026-12-07T02:00:00Z",
                "endsAt": "2026-12-07T03:00:00Z",
                "generatorURL": "",
                "fingerprint": resolved.fingerprint,
            },
        ],
    }
    only_resolved = webhook_payload(
        [resolved], receiver="pager", group_by=["alertname", "service"], external_url=""
    )
    assert only_resolved["status"] == "resolved"
    assert only_resolved["groupKey"] == '{}:{alertname="HighBurn", service="shop"}'


def test_alerts_round_trip_through_their_wire_form() -> None:
    alert = AlertEvent({"alertname": "A"}, "resolved", T0, ends_at=T0 + timedelta(seconds=1.5))
    assert AlertEvent.from_json(alert.to_json()) == alert


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: AlertEvent({}, "firing", T0), "labels"),
        (lambda: AlertEvent({"a": "b"}, "pending", T0), "status"),  # type: ignore[arg-type]
        (lambda: AlertEvent({"a": "b"}, "resolved", T0), "endsAt"),
        (lambda: AlertEvent({"a": "b"}, "firing", datetime(2026, 1, 1)), "startsAt"),
        (lambda: AlertEvent({"a": "b"}, "resolved", T0, ends_at=T0 - timedelta(1)), "endsAt"),
        (lambda: AlertEvent({"a": 1}, "firing", T0), "labels"),  # type: ignore[dict-item]
    ],
)
def test_bad_alerts_are_refused_naming_the_field(make: object, field: str) -> None:
    with pytest.raises(InvalidRequest, match=field):
        make()  # type: ignore[operator]
