"""``tests.roundtrip.assert_same_telemetry``: blind to grouping and order, to nothing else."""

from __future__ import annotations

import math

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric

from otelite.types import ExportMetricsServiceRequest, ExportTraceServiceRequest
from tests.roundtrip import assert_same_telemetry
from tests.storage.samples import T0, TRACE_A, kv, resource, scope, span, trace_request


def _one_per_request(request: ExportTraceServiceRequest) -> list[ExportTraceServiceRequest]:
    """Every span in a request of its own, in reverse order."""
    out = []
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for item in scope_spans.spans:
                single = ExportTraceServiceRequest()
                rs = single.resource_spans.add(
                    resource=resource_spans.resource, schema_url=resource_spans.schema_url
                )
                rs.scope_spans.add(
                    scope=scope_spans.scope, schema_url=scope_spans.schema_url, spans=[item]
                )
                out.append(single)
    return out[::-1]


def test_regrouping_splitting_and_order_do_not_count() -> None:
    assert_same_telemetry([trace_request()], _one_per_request(trace_request()))


def test_a_changed_field_fails_with_a_diff() -> None:
    changed = trace_request()
    changed.resource_spans[0].scope_spans[0].spans[1].name = "renamed"
    with pytest.raises(AssertionError) as failure:
        assert_same_telemetry([trace_request()], [changed])
    message = str(failure.value)
    assert "sent but not received (1)" in message
    assert '-  "name": "span 2",\n+  "name": "renamed",' in message


@pytest.mark.parametrize(
    ("sent", "received"),
    [
        (AnyValue(int_value=1), AnyValue(double_value=1.0)),
        (AnyValue(int_value=1), AnyValue(string_value="1")),
        (AnyValue(double_value=0.0), AnyValue(double_value=-0.0)),
        (AnyValue(), AnyValue(string_value="")),
        (AnyValue(), AnyValue(array_value=ArrayValue())),
        (AnyValue(bytes_value=b""), AnyValue(string_value="")),
    ],
)
def test_value_types_count(sent: AnyValue, received: AnyValue) -> None:
    def request(value: AnyValue) -> ExportTraceServiceRequest:
        item = span(TRACE_A, 1, T0, attributes=[KeyValue(key="k", value=value)])
        request = ExportTraceServiceRequest()
        request.resource_spans.add().scope_spans.add().spans.append(item)
        return request

    with pytest.raises(AssertionError):
        assert_same_telemetry([request(sent)], [request(received)])


def test_nan_equals_nan_and_an_empty_value_equals_none() -> None:
    with_values = trace_request()
    attributes = with_values.resource_spans[0].scope_spans[0].spans[1].attributes
    attributes.extend([kv("nan", double_value=math.nan), kv("empty")])
    without = trace_request()
    attributes = without.resource_spans[0].scope_spans[0].spans[1].attributes
    attributes.extend([kv("nan", double_value=math.nan), KeyValue(key="empty")])
    assert_same_telemetry([with_values], [without])


def test_how_often_an_item_occurs_counts() -> None:
    with pytest.raises(AssertionError, match="sent 8 items, received 4"):
        assert_same_telemetry([trace_request(), trace_request()], [trace_request()])


def test_metrics_compare_point_by_point_with_their_metric() -> None:
    def request(points: list[int], temporality: int) -> ExportMetricsServiceRequest:
        metric = Metric(name="requests")
        metric.sum.aggregation_temporality = temporality  # type: ignore[assignment]
        for value in points:
            metric.sum.data_points.add(time_unix_nano=T0 + value, as_int=value)
        out = ExportMetricsServiceRequest()
        rm = out.resource_metrics.add(resource=resource("svc"))
        rm.scope_metrics.add(scope=scope("s"), metrics=[metric])
        return out

    assert_same_telemetry([request([1, 2], 1)], [request([2], 1), request([1], 1)])
    with pytest.raises(AssertionError):
        assert_same_telemetry([request([1, 2], 1)], [request([1, 2], 2)])
