"""Metrics flatten to the five metric tables and rebuild with every field and presence."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AGGREGATION_TEMPORALITY_CUMULATIVE,
    AGGREGATION_TEMPORALITY_DELTA,
    Exemplar,
    Metric,
)

from otelite.query.dialects import DuckDBDialect
from otelite.storage import WriteBatch
from otelite.storage._metrics import _column, metrics_from_tables, metrics_to_tables
from otelite.storage._schema import METRIC_TABLES, flattened, table_name
from otelite.storage.duckdb import DuckDBStorage
from otelite.storage.duckdb._layout import from_stored, to_stored
from otelite.types import ExportMetricsServiceRequest, Signal
from tests.roundtrip import assert_same_telemetry

TRACE_ID = bytes(range(1, 17))
SPAN_ID = bytes(range(1, 9))
MAX_TIME = 2**64 - 1  # OTLP times are unsigned; past int64 must survive too


def kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def exemplars() -> list[Exemplar]:
    return [
        Exemplar(
            filtered_attributes=[kv("user", string_value="a"), kv("n", int_value=-2)],
            time_unix_nano=1_700_000_000_000_000_001,
            as_int=-(2**63),
            span_id=SPAN_ID,
            trace_id=TRACE_ID,
        ),
        Exemplar(time_unix_nano=MAX_TIME, as_double=0.25),  # no ids
        Exemplar(as_double=0.0),  # a zero double is not an unset value
        Exemplar(),  # no value at all
    ]


def gauge() -> Metric:
    metric = Metric(
        name="temperature",
        description="degrees",
        unit="Cel",
        metadata=[kv("origin", string_value="sensor"), kv("level", int_value=3)],
    )
    points = metric.gauge.data_points
    points.add(
        attributes=[kv("room", string_value="a"), kv("ratio", double_value=0.5)],
        start_time_unix_nano=0,
        time_unix_nano=1_700_000_000_123_456_789,
        as_int=2**63 - 1,
        exemplars=exemplars(),
        flags=1,
    )
    points.add(time_unix_nano=2**63, as_double=-1.5)
    points.add(time_unix_nano=MAX_TIME, as_int=0)
    points.add(time_unix_nano=5)  # neither as_int nor as_double
    points.add(as_double=0.0, flags=0xFFFFFFFF)
    return metric


def sums() -> list[Metric]:
    monotonic = Metric(name="requests", unit="1")
    monotonic.sum.aggregation_temporality = AGGREGATION_TEMPORALITY_CUMULATIVE
    monotonic.sum.is_monotonic = True
    monotonic.sum.data_points.add(
        start_time_unix_nano=10, time_unix_nano=20, as_int=7, exemplars=exemplars()[:2]
    )
    monotonic.sum.data_points.add(start_time_unix_nano=10, time_unix_nano=30, as_int=9)
    # Same name, other temporality and monotonicity: a metric of its own.
    delta = Metric(name="requests", unit="1")
    delta.sum.aggregation_temporality = AGGREGATION_TEMPORALITY_DELTA
    delta.sum.data_points.add(time_unix_nano=20, as_double=2.5)
    # Differs from the first in monotonicity only.
    not_monotonic = Metric(name="requests", unit="1")
    not_monotonic.sum.aggregation_temporality = AGGREGATION_TEMPORALITY_CUMULATIVE
    not_monotonic.sum.data_points.add(time_unix_nano=20, as_int=-3)
    unspecified = Metric(name="unspecified")
    unspecified.sum.data_points.add(time_unix_nano=1, as_int=1)
    return [monotonic, delta, not_monotonic, unspecified]


def histogram() -> Metric:
    metric = Metric(name="latency", description="request latency", unit="ms")
    metric.histogram.aggregation_temporality = AGGREGATION_TEMPORALITY_DELTA
    points = metric.histogram.data_points
    points.add(
        attributes=[kv("route", string_value="/"), kv("ok", bool_value=True)],
        start_time_unix_nano=100,
        time_unix_nano=200,
        count=2**64 - 1,
        sum=12.5,
        bucket_counts=[1, 0, 2**64 - 1],
        explicit_bounds=[0.5, 10.0],
        exemplars=exemplars(),
        flags=1,
        min=0.125,
        max=11.0,
    )
    points.add(time_unix_nano=300, count=0)  # no sum, min, max, buckets
    points.add(time_unix_nano=400, count=1, sum=0.0, min=0.0, max=0.0, bucket_counts=[1])
    return metric


def exponential_histogram() -> Metric:
    metric = Metric(name="size", unit="By", metadata=[kv("k", bytes_value=b"\x00\xff")])
    metric.exponential_histogram.aggregation_temporality = AGGREGATION_TEMPORALITY_CUMULATIVE
    points = metric.exponential_histogram.data_points
    full = points.add(
        attributes=[kv("host", string_value="h1")],
        start_time_unix_nano=1,
        time_unix_nano=2,
        count=10,
        sum=100.0,
        scale=-3,
        zero_count=2,
        zero_threshold=1e-9,
        exemplars=exemplars(),
        flags=1,
        min=-4.0,
        max=50.0,
    )
    full.positive.offset = -5
    full.positive.bucket_counts.extend([1, 2, 3])
    full.negative.offset = 2
    full.negative.bucket_counts.extend([4])
    only_positive = points.add(time_unix_nano=3, count=1, scale=20)
    only_positive.positive.offset = 7
    only_positive.positive.bucket_counts.append(1)
    # Present but empty buckets are not absent ones.
    empty_buckets = points.add(time_unix_nano=4, count=0)
    empty_buckets.positive.SetInParent()
    empty_buckets.negative.SetInParent()
    points.add(time_unix_nano=5, count=0, sum=0.0)  # no buckets at all
    return metric


def summary() -> Metric:
    metric = Metric(name="rpc", description="rpc durations", unit="s")
    points = metric.summary.data_points
    points.add(
        attributes=[kv("method", string_value="get")],
        start_time_unix_nano=1,
        time_unix_nano=2,
        count=3,
        sum=4.5,
        quantile_values=[{"quantile": 0.0, "value": 0.5}, {"quantile": 1.0, "value": 3.0}],
        flags=1,
    )
    points.add(time_unix_nano=3)  # no quantiles, zero count and sum
    return metric


def full_request() -> ExportMetricsServiceRequest:
    """All five types, in the order a rebuild emits them, so equality can be exact."""
    request = ExportMetricsServiceRequest()
    first = request.resource_metrics.add(schema_url="https://opentelemetry.io/schemas/1.24.0")
    first.resource.attributes.extend(
        [
            kv("service.name", string_value="checkout"),
            kv("pid", int_value=42),
            kv("tags", array_value={"values": [{"string_value": "x"}, {"int_value": 1}]}),
        ]
    )
    first.resource.dropped_attributes_count = 3
    scope = first.scope_metrics.add(
        scope={
            "name": "meter",
            "version": "1.2",
            "attributes": [kv("lib", string_value="x")],
            "dropped_attributes_count": 1,
        },
        schema_url="scope-schema",
    )
    scope.metrics.extend([gauge(), *sums(), histogram(), exponential_histogram(), summary()])
    other_scope = first.scope_metrics.add(scope={"name": "other"})
    other_scope.metrics.append(gauge())
    second = request.resource_metrics.add()  # a resource without attributes
    second_scope = second.scope_metrics.add()
    second_scope.metrics.append(summary())
    # Rebuilt envelopes are always present messages, empty or not.
    second.resource.SetInParent()
    second_scope.scope.SetInParent()
    return request


def pydict(table: pa.Table) -> dict[str, list[Any]]:
    """Column lists, times as OTLP's unsigned nanoseconds."""
    return {name: _column(table, name) for name in table.column_names}


def through_duckdb(tables: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    """Store the tables in a real DuckDB and read them back."""
    connection = duckdb.connect()
    dialect = DuckDBDialect()
    back = {}
    for kind, table in tables.items():
        name = table_name(METRIC_TABLES[kind])
        connection.execute(dialect.create_table(name, METRIC_TABLES[kind]))
        connection.register("incoming", to_stored(table))
        connection.execute(f"INSERT INTO {dialect.quote(name)} SELECT * FROM incoming")
        connection.unregister("incoming")
        stored = connection.sql(f"SELECT * FROM {dialect.quote(name)}").to_arrow_table()
        back[kind] = from_stored(stored)
    connection.close()
    return back


@pytest.mark.parametrize("store", [dict, through_duckdb], ids=["arrow", "duckdb"])
def test_every_field_round_trips(store: Any) -> None:
    sent = full_request()
    tables = metrics_to_tables([sent])
    assert set(tables) == set(METRIC_TABLES)
    for kind, table in tables.items():
        assert table.schema.equals(flattened(METRIC_TABLES[kind]), check_metadata=True)
    received = metrics_from_tables(store(tables))
    assert_same_telemetry([sent], [received])
    # Exact equality also checks what the comparison above allows to differ: the presence
    # of empty messages, and the order of points and metrics.
    assert received == sent


def test_every_field_round_trips_through_the_duckdb_storage() -> None:
    sent = full_request()
    with DuckDBStorage(None) as storage:
        storage.write(WriteBatch(metrics=[sent]))
        received = list(storage.export(Signal.METRICS, max_items=4))
    assert_same_telemetry([sent], received)


def test_one_row_per_point_with_clickhouse_columns() -> None:
    request = ExportMetricsServiceRequest()
    scope = request.resource_metrics.add().scope_metrics.add()
    scope.metrics.extend([gauge(), histogram(), exponential_histogram(), summary()])
    tables = metrics_to_tables([request])

    gauges = pydict(tables["gauge"])
    assert gauges["MetricName"] == ["temperature"] * 5
    assert gauges["Value"] == [float(2**63 - 1), -1.5, 0.0, None, 0.0]
    assert gauges["ValueInt"] == [2**63 - 1, None, 0, None, None]
    assert gauges["MetricMetadata"][0] == [("origin", "sensor"), ("level", "3")]
    assert gauges["MetricMetadataAttributeTypes"][0] == [("level", "i")]
    assert gauges["Flags"] == [1, 0, 0, 0, 0xFFFFFFFF]
    first_exemplars = gauges["Exemplars"][0]
    assert [e["ValueInt"] for e in first_exemplars] == [-(2**63), None, None, None]
    assert [e["Value"] for e in first_exemplars] == [float(-(2**63)), 0.25, 0.0, None]
    assert [e["SpanId"] for e in first_exemplars] == [SPAN_ID, b"", b"", b""]
    assert gauges["Exemplars"][1:] == [[], [], [], []]
    assert gauges["TimeUnix"] == [1_700_000_000_123_456_789, 2**63, MAX_TIME, 5, 0]
    # Inside the struct the time reads back as the stored int64 bits: 2**64 - 1 is -1.
    assert [e["TimeUnix"] for e in first_exemplars][:2] == [1_700_000_000_000_000_001, -1]

    histograms = pydict(tables["histogram"])
    assert histograms["Sum"] == [12.5, None, 0.0]
    assert histograms["Min"] == [0.125, None, 0.0]
    assert histograms["BucketCounts"] == [[1, 0, 2**64 - 1], [], [1]]
    assert histograms["AggregationTemporality"] == [AGGREGATION_TEMPORALITY_DELTA] * 3

    exponential = pydict(tables["exponential_histogram"])
    assert exponential["PositiveOffset"] == [-5, 7, 0, None]
    assert exponential["NegativeOffset"] == [2, None, 0, None]
    assert exponential["PositiveBucketCounts"] == [[1, 2, 3], [1], [], []]
    assert exponential["Scale"] == [-3, 20, 0, 0]

    summaries = pydict(tables["summary"])
    assert summaries["ValueAtQuantiles"][0] == [
        {"Quantile": 0.0, "Value": 0.5},
        {"Quantile": 1.0, "Value": 3.0},
    ]
    assert summaries["Exemplars"] == [[], []]


def test_resource_and_scope_columns_repeat_on_every_row() -> None:
    tables = metrics_to_tables([full_request()])
    summaries = pydict(tables["summary"])
    assert summaries["ServiceName"] == ["checkout", "checkout", "", ""]
    assert summaries["ResourceDroppedAttributesCount"] == [3, 3, 0, 0]
    assert summaries["ScopeName"] == ["meter", "meter", "", ""]
    assert summaries["ScopeSchemaUrl"] == ["scope-schema", "scope-schema", "", ""]
    gauges = pydict(tables["gauge"])
    assert gauges["ScopeName"] == ["meter"] * 5 + ["other"] * 5


def test_points_of_interleaved_types_keep_their_own_resource_and_metric() -> None:
    def request(first: int) -> ExportMetricsServiceRequest:
        sent = ExportMetricsServiceRequest()
        for service in ("a", "b"):
            resource = sent.resource_metrics.add()
            resource.resource.attributes.append(kv("service.name", string_value=service))
            metrics = resource.scope_metrics.add().metrics
            metrics.add(name="g").gauge.data_points.add(as_int=first)
            metrics.add(name="s").sum.data_points.add(as_int=first + 1)
            points = metrics.add(name="h").gauge.data_points
            points.add(as_int=first + 2)
            points.add(as_int=first + 3)
        return sent

    tables = metrics_to_tables([request(0), request(10)])
    gauges, sums = pydict(tables["gauge"]), pydict(tables["sum"])
    assert gauges["ServiceName"] == ["a"] * 3 + ["b"] * 3 + ["a"] * 3 + ["b"] * 3
    assert gauges["MetricName"] == ["g", "h", "h"] * 4
    assert gauges["ValueInt"] == [0, 2, 3, 0, 2, 3, 10, 12, 13, 10, 12, 13]
    assert sums["ServiceName"] == ["a", "b", "a", "b"]
    assert sums["ValueInt"] == [1, 1, 11, 11]


def test_metrics_without_points_are_not_stored() -> None:
    request = ExportMetricsServiceRequest()
    scope = request.resource_metrics.add().scope_metrics.add()
    scope.metrics.add(name="untyped")
    scope.metrics.add(name="empty").gauge.SetInParent()
    request.resource_metrics.add()  # an empty resource
    assert metrics_to_tables([request]) == {}
    assert metrics_to_tables([]) == {}
    assert metrics_from_tables({}) == ExportMetricsServiceRequest()


def test_requests_regroup_under_one_resource_and_metric() -> None:
    def one_point(time: int) -> ExportMetricsServiceRequest:
        request = ExportMetricsServiceRequest()
        resource = request.resource_metrics.add()
        resource.resource.attributes.append(kv("service.name", string_value="svc"))
        scope = resource.scope_metrics.add(scope={"name": "meter"})
        scope.metrics.add(name="g").gauge.data_points.add(time_unix_nano=time, as_int=time)
        return request

    sent = [one_point(1), one_point(2)]
    received = metrics_from_tables(metrics_to_tables(sent))
    assert_same_telemetry(sent, [received])
    (resource,) = received.resource_metrics
    (scope,) = resource.scope_metrics
    (metric,) = scope.metrics
    assert [p.as_int for p in metric.gauge.data_points] == [1, 2]


def test_special_doubles_round_trip_through_duckdb() -> None:
    request = ExportMetricsServiceRequest()
    scope = request.resource_metrics.add().scope_metrics.add()
    points = scope.metrics.add(name="g").gauge.data_points
    for value in (math.nan, math.inf, -math.inf, -0.0, 5e-324):
        points.add(as_double=value)
    histogram = scope.metrics.add(name="h").histogram.data_points.add(sum=-0.0, min=math.nan)
    histogram.explicit_bounds.extend([-math.inf, -0.0, math.inf])
    received = metrics_from_tables(through_duckdb(metrics_to_tables([request])))
    assert_same_telemetry([request], [received])
    values = [
        p.as_double
        for p in received.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points
    ]
    assert math.isnan(values[0])
    assert math.copysign(1.0, values[3]) == -1.0
