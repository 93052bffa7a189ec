"""Log records flatten to ``otel_logs`` rows and rebuild with every field and body kind."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from otelite.storage import logs_from_table, logs_to_table
from otelite.storage._schema import LOGS, flattened
from otelite.types import ExportLogsServiceRequest
from tests.roundtrip import assert_same_telemetry
from tests.storage.samples import T0, logs_request
from tests.strategies import logs_requests


def _row(table: pa.Table, index: int) -> dict[str, object]:
    columns = [c.cast(pa.int64()) if pa.types.is_timestamp(c.type) else c for c in table.columns]
    row: dict[str, object] = (
        pa.table(columns, names=table.column_names).slice(index, 1).to_pylist()[0]
    )
    return row


def test_every_field_and_body_kind_round_trips() -> None:
    sent = logs_request()
    table = logs_to_table([sent])
    assert table.schema == flattened(LOGS)
    back = logs_from_table(table)
    assert_same_telemetry([sent], [back])


def test_bodies_are_stored_by_kind() -> None:
    table = logs_to_table([logs_request()])
    first = _row(table, 0)
    assert (first["Body"], first["BodyType"]) == ("payment slow", "")
    assert first["EventName"] == "shop.payment"
    no_body = _row(table, 1)
    assert no_body["BodyType"] == "n"
    empty_value = _row(table, 2)
    # The Collector writes an empty value as ""; the type code keeps it an empty value.
    assert (empty_value["Body"], empty_value["BodyType"]) == ("", "j{}")
    empty_string = _row(table, 3)
    assert (empty_string["Body"], empty_string["BodyType"]) == ("", "")
    last = _row(table, table.num_rows - 1)
    assert (last["Body"], last["BodyType"]) == ("5", "i")


def test_missing_time_falls_back_to_observed_time_and_comes_back_missing() -> None:
    sent = logs_request()
    table = logs_to_table([sent])
    last = _row(table, table.num_rows - 1)
    assert last["Timestamp"] == last["ObservedTimestamp"] == T0 + 500
    assert last["TimestampIsObserved"] is True
    assert _row(table, 0)["TimestampIsObserved"] is False
    record = logs_from_table(table).resource_logs[0].scope_logs[0].log_records[-1]
    assert record.time_unix_nano == 0
    assert record.observed_time_unix_nano == T0 + 500


def test_empty_body_keeps_its_presence() -> None:
    sent = ExportLogsServiceRequest()
    record = sent.resource_logs.add().scope_logs.add().log_records.add()
    record.body.CopyFrom(AnyValue())
    back = logs_from_table(logs_to_table([sent]))
    assert back.resource_logs[0].scope_logs[0].log_records[0].HasField("body")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests=logs_requests().map(lambda r: [r]))
def test_generated_requests_round_trip(requests: list[ExportLogsServiceRequest]) -> None:
    assert_same_telemetry(requests, [logs_from_table(logs_to_table(requests))])
