"""Any metrics request survives flattening to the metric tables, in Arrow and in DuckDB."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from otelite.storage._metrics import metrics_from_tables, metrics_to_tables
from otelite.types import ExportMetricsServiceRequest
from tests.roundtrip import assert_same_telemetry
from tests.storage.test_metrics import through_duckdb
from tests.strategies import metrics_requests

# Examples are costly to generate; test_metrics covers the edge cases by hand, including
# those this strategy leaves out (points without a value, times past int64).
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(PROPERTY, max_examples=40)
@given(metrics_requests())
def test_any_metrics_round_trip_through_arrow(sent: ExportMetricsServiceRequest) -> None:
    assert_same_telemetry([sent], [metrics_from_tables(metrics_to_tables([sent]))])


@settings(PROPERTY, max_examples=15)
@given(metrics_requests())
def test_any_metrics_round_trip_through_duckdb(sent: ExportMetricsServiceRequest) -> None:
    received = metrics_from_tables(through_duckdb(metrics_to_tables([sent])))
    assert_same_telemetry([sent], [received])
