"""OTLP log records as Loki sees them: the expected labels are Loki's documented mapping
(its OTLP ingestion docs and defaults), written out by hand."""

from __future__ import annotations

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

from otelite.query.logql._labels import (
    PUSH_SCOPE,
    RecordFields,
    any_value_text,
    detected_level,
    index_label_attributes,
    stream_labels,
    structured_metadata,
)


def _s(text: str) -> AnyValue:
    return AnyValue(string_value=text)


@pytest.mark.parametrize(
    ("resource", "scope", "expected"),
    [
        pytest.param(
            {"service.name": "cart", "k8s.pod.name": "cart-1", "host.name": "h1"},
            "io.opentelemetry.logs",
            {"k8s_pod_name": "cart-1", "service_name": "cart"},
            id="indexed attributes only, renamed",
        ),
        pytest.param(
            {"deployment.environment.name": "prod", "k8s.container.name": "web"},
            "",
            {
                "deployment_environment_name": "prod",
                "k8s_container_name": "web",
                "service_name": "web",
            },
            id="service_name discovered from the container",
        ),
        pytest.param({"host.name": "h1"}, "", {"service_name": "unknown_service"}, id="none"),
        pytest.param(
            {"app": "shop", "env": "prod"},
            PUSH_SCOPE,
            {"app": "shop", "env": "prod", "service_name": "shop"},
            id="pushed labels kept as they are",
        ),
        pytest.param(
            {"job": "varlogs", "service.name": "varlogs"},
            PUSH_SCOPE,
            {"job": "varlogs", "service_name": "varlogs"},
            id="the service.name a push adds is no label",
        ),
        pytest.param(
            {"service.name": ""}, "", {"service_name": "unknown_service"}, id="empty values"
        ),
    ],
)
def test_stream_labels(resource: dict[str, str], scope: str, expected: dict[str, str]) -> None:
    assert stream_labels(resource, scope) == expected


def test_an_index_label_comes_from_its_attribute_or_its_own_name() -> None:
    assert index_label_attributes("service_name") == ("service.name", "service_name")
    assert index_label_attributes("app") == ("app",)


def test_structured_metadata_holds_everything_that_is_not_an_index_label() -> None:
    nested = AnyValue(
        kvlist_value=KeyValueList(
            values=[KeyValue(key="id", value=_s("u1")), KeyValue(key="tier", value=_s("gold"))]
        )
    )
    found = structured_metadata(
        [("service.name", _s("cart")), ("host.name", _s("h1"))],
        [("lib.flag", AnyValue(bool_value=True))],
        [("http.status_code", AnyValue(int_value=500)), ("user", nested)],
        RecordFields(
            trace_id=bytes.fromhex("0af7651916cd43dd8448eb211c80319c"),
            span_id=bytes.fromhex("b7ad6b7169203331"),
            severity_number=17,
            severity_text="ERROR",
            scope_name="shop.logger",
        ),
    )
    assert found == {
        "host_name": "h1",
        "lib_flag": "true",
        "http_status_code": "500",
        "user_id": "u1",
        "user_tier": "gold",
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "b7ad6b7169203331",
        "severity_number": "17",
        "severity_text": "ERROR",
        "scope_name": "shop.logger",
    }


def test_a_pushed_record_has_the_metadata_it_was_pushed_with_and_no_more() -> None:
    found = structured_metadata(
        [("job", _s("varlogs")), ("service.name", _s("varlogs"))],
        [],
        [("trace_id", _s("0af7651916cd43dd8448eb211c80319c")), ("level", _s("warn"))],
        RecordFields(
            trace_id=bytes.fromhex("0af7651916cd43dd8448eb211c80319c"),
            severity_number=13,
            severity_text="warn",
            observed_ns=1_700_000_000_000_000_000,
            scope_name=PUSH_SCOPE,
        ),
    )
    assert found == {"trace_id": "0af7651916cd43dd8448eb211c80319c", "level": "warn"}


def test_values_in_their_string_form() -> None:
    array = AnyValue(array_value=ArrayValue(values=[_s("a"), AnyValue(int_value=2)]))
    assert any_value_text(array) == '["a",2]'
    assert any_value_text(AnyValue(double_value=0.25)) == "0.25"
    assert any_value_text(AnyValue(bytes_value=b"\x00\x01")) == "AAE="


@pytest.mark.parametrize(
    ("text", "number", "labels", "line", "expected"),
    [
        ("Information", 0, {}, "", "info"),
        ("WARNING", 0, {}, "", "warn"),
        ("", 17, {}, "", "error"),
        ("", 4, {}, "", "trace"),
        ("", 23, {}, "", "fatal"),
        ("", 0, {"level": "ERR"}, "", "error"),
        ("", 0, {}, '{"msg":"x","level":"debug"}', "debug"),
        ("", 0, {}, "ts=1 lvl=warn msg=slow", "warn"),
        ("", 0, {}, "disk full: error writing block", "error"),
        ("", 0, {}, "all good", "unknown"),
        ("verbose", 0, {}, "", "verbose"),
    ],
)
def test_detected_level(
    text: str, number: int, labels: dict[str, str], line: str, expected: str
) -> None:
    assert detected_level(text, number, labels, line) == expected
