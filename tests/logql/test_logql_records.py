"""The fast read path agrees with the general one, on both backends: entries whose labels
are worked out once per resource and scope and whose metadata is read only when asked
for, and the SQL conditions label filters add, give what ``_labels``' definitions,
applied record by record, and the whole pipeline run in Python on every record give."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otelite.query._compile import compile_plan
from otelite.query._plan import Select, Table, TimeRange
from otelite.query.logql import (
    DETECTED_LEVEL,
    PUSH_SCOPE,
    Direction,
    Entries,
    EntryLabels,
    LogQuery,
    detected_level,
    parse,
    read_entries,
    select_logs,
    selector_predicate,
    split_query,
    stream_labels,
    structured_metadata,
)
from otelite.query.logql._arrow import distinct_rows
from otelite.query.logql._labels import RecordFields
from otelite.query.logql._process import compile_stages
from otelite.query.logql._records import RECORD_OUTPUTS, RecordReader
from otelite.storage import Storage, WriteBatch, stored_attributes
from otelite.types import ExportLogsServiceRequest
from tests.backends import BACKENDS, store
from tests.strategies import logs_requests

T0 = 1_760_000_000 * 10**9
S = 10**9


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Storage]:
    with store(request.param) as opened:
        yield opened


def _rows(storage: Storage, query: LogQuery | None = None) -> pa.Table:
    where = None if query is None else selector_predicate(query.selector)
    plan = Select(Table.LOGS, RECORD_OUTPUTS, where=where, time=TimeRange())
    statement = compile_plan(plan, storage.dialect)
    return storage.query(statement.sql, statement.params, types=statement.types)


def _reference(row: dict[str, Any]) -> EntryLabels:
    """A record's labels by ``_labels``' definitions, computed for the record alone."""
    resource = row["ResourceAttributes"]
    scope_name = row["ScopeName"] or ""
    stream = stream_labels(dict(resource or ()), scope_name)
    observed = row["observed_ns"]
    fields = RecordFields(
        trace_id=row["TraceId"] or b"",
        span_id=row["SpanId"] or b"",
        severity_number=row["SeverityNumber"] or 0,
        severity_text=row["SeverityText"] or "",
        flags=row["TraceFlags"] or 0,
        dropped_attributes_count=row["DroppedAttributesCount"] or 0,
        event_name=row["EventName"] or "",
        observed_ns=observed if observed and not row["TimestampIsObserved"] else None,
        scope_name=scope_name,
        scope_version=row["ScopeVersion"] or "",
        scope_dropped_attributes_count=row["ScopeDroppedAttributesCount"] or 0,
    )
    metadata = structured_metadata(
        stored_attributes(resource, row["ResourceAttributeTypes"]),
        stored_attributes(row["ScopeAttributes"], row["ScopeAttributeTypes"]),
        stored_attributes(row["LogAttributes"], row["LogAttributeTypes"]),
        fields,
    )
    if DETECTED_LEVEL not in metadata:
        metadata[DETECTED_LEVEL] = detected_level(
            fields.severity_text,
            fields.severity_number,
            {**metadata, **stream},
            row["Body"] or "",
        )
    return EntryLabels(stream, metadata)


def _general(table: pa.Table) -> Entries:
    rows = table.to_pylist()
    return Entries(
        [row["time_ns"] for row in rows],
        [row["Body"] or "" for row in rows],
        [_reference(row) for row in rows],
    )


def _answer(entries: Entries) -> list[tuple[Any, ...]]:
    """Entries as comparable values, in a fixed order (ties in time have none)."""
    found = [
        (at, line, labels.all(), labels.categorized())
        for at, line, labels in zip(entries.times, entries.lines, entries.labels, strict=True)
    ]
    return sorted(found, key=repr)


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def _record(at: float, line: str, **fields: Any) -> LogRecord:
    return LogRecord(time_unix_nano=T0 + round(at * S), body=AnyValue(string_value=line), **fields)


def _stream(
    resource: dict[str, str], *scopes: tuple[InstrumentationScope | None, list[LogRecord]]
) -> ResourceLogs:
    """Records under a resource with these string attributes, scope by scope."""
    attributes = [_kv(key, string_value=value) for key, value in resource.items()]
    return ResourceLogs(
        resource=Resource(attributes=attributes),
        scope_logs=[ScopeLogs(scope=scope, log_records=records) for scope, records in scopes],
    )


def _awkward() -> ExportLogsServiceRequest:
    """Records that take every turn of the fast path: names that clash with stream
    labels and fields, the error labels as attributes, maps and arrays, a level read
    from an attribute or the line, pushed streams, separators in attribute values, and
    JSON lines whose keys only an escape spells."""
    nested = KeyValueList(values=[_kv("status", int_value=503), _kv("ok", bool_value=True)])
    web = InstrumentationScope(name="web", version="2", dropped_attributes_count=1)
    api = _stream(
        {"service.name": "api", "k8s.pod.name": "api-1", "host.name": "h\x1c1", "duration": "9s"},
        (
            web,
            [
                _record(1, '{"duration":"300ms","trace_id":"x"}', severity_text="INFO"),
                _record(
                    2,
                    '{"dur\\u0061tion":"2s","flags":3}',
                    attributes=[
                        _kv("service_name", string_value="fake"),
                        _kv("http", kvlist_value=nested),
                        _kv("tags", array_value=ArrayValue(values=[AnyValue(int_value=1)])),
                    ],
                    trace_id=bytes(range(16)),
                    span_id=bytes(range(8)),
                    flags=1,
                ),
                _record(
                    3,
                    "level=warn took=1s",
                    attributes=[_kv("ratio", double_value=0.5), _kv("tiny", double_value=1e-7)],
                ),
                _record(
                    4,
                    '{"a":{"duration":"5s"},"status":200}',
                    attributes=[_kv("level", string_value="debug"), _kv("n", int_value=7)],
                    dropped_attributes_count=2,
                    event_name="e",
                ),
                _record(
                    5,
                    "no json at all",
                    attributes=[
                        _kv("__error__", string_value="E"),
                        _kv("__error_details__", string_value="D"),
                        _kv("duration", string_value="700ms"),
                    ],
                ),
            ],
        ),
        (None, [_record(6, '{"duration":"100ms"} error', severity_number=17)]),
    )
    other = _stream(
        {"service.name": "api"},
        (
            None,
            [
                _record(7, '{"duration":"260ms"}'),
                _record(7.5, '{"dur\\u0061tion":"2s"}'),
                _record(7.6, '{"\\u0064uration":"1s","level":"info"}'),
            ],
        ),
    )
    pushed = _stream(
        {"service_name": "api", "duration": "1m", "level": "warn", "service.name": "api"},
        (
            InstrumentationScope(name=PUSH_SCOPE),
            [
                _record(8, "pushed", attributes=[_kv("level", string_value="error")]),
                _record(9, '{"size":"2KB"}', attributes=[_kv("size", string_value="1KB")]),
            ],
        ),
    )
    bare = _stream({}, (None, [_record(10, '{"duration":"3s"}'), LogRecord()]))
    return ExportLogsServiceRequest(resource_logs=[api, other, pushed, bare])


@pytest.fixture(scope="module")
def awkward(backend: Storage) -> Storage:
    backend.write(WriteBatch(logs=[_awkward()]))
    return backend


def _check_labels(table: pa.Table) -> None:
    reader = RecordReader()
    half = table.num_rows // 2
    fast = reader.entries(table.slice(0, half))
    fast.extend(reader.entries(table.slice(half)))  # the second batch reuses the first's groups
    general = _general(table)
    assert fast.times == general.times
    assert fast.lines == general.lines
    for found, expected in zip(fast.labels, general.labels, strict=True):
        assert found.all() == expected.all()
        assert found.categorized() == expected.categorized()
        assert (found.error, found.error_details) == (expected.error, expected.error_details)


def test_entries_have_the_labels_of_the_general_path(awkward: Storage) -> None:
    _check_labels(_rows(awkward))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs_requests(extended=True))
def test_random_records_have_the_labels_of_the_general_path(
    backend: Storage, request: ExportLogsServiceRequest
) -> None:
    backend.write(WriteBatch(logs=[request]))
    _check_labels(_rows(backend))


API = '{service_name="api"}'


@pytest.mark.parametrize(
    "pipeline",
    [
        "",
        "| json",
        "| json | duration > 250ms",
        "| json | duration > 250ms | line_format `{{.duration}} {{.trace_id}}`",
        '| json | duration="300ms"',
        "| json | duration > 250ms and status >= 200",
        "| json | duration > 250ms or status >= 200",
        "| json | size > 1KB",
        "| json | flags > 2",
        "| json | a_duration > 1s",
        "| json | trace_id_extracted != ``",
        "| logfmt | duration > 250ms",
        "| duration > 250ms",
        "| json | drop trace_id | duration > 250ms",
        "| json | keep duration, level | duration > 250ms",
        "| label_format duration=`1h` | duration > 250ms",
        '| line_format `{"duration":"1h"}` | json | duration > 250ms',
        '|= "json" | json | duration > 250ms',
        "| json | __error__ = `` | duration > 250ms",
        "| logfmt | json | level = `warn`",
        "| json | detected_level = `info`",
        '| json | label_format x="{{.service_name}}" | drop level',
        "| json http_status=`http.status` | http_status > 500",
        '| json | duration > 250ms | line_format "{{.host_name}}"',
    ],
)
@pytest.mark.parametrize("direction", list(Direction))
def test_log_queries_answer_as_the_pipeline_over_every_record(
    awkward: Storage, pipeline: str, direction: Direction
) -> None:
    query = parse(f"{API} {pipeline}")
    assert isinstance(query, LogQuery)
    fast = select_logs(
        awkward, query, start_ns=T0, end_ns=T0 + 20 * S, limit=100, direction=direction
    )
    # Every record of the streams, through every stage in Python.
    general = compile_stages((*query.line_filters, *query.stages)).run(
        _general(_rows(awkward, query))
    )
    assert _answer(fast.entries) == _answer(general)


def test_a_label_filter_that_needs_a_label_adds_a_condition_on_the_record() -> None:
    def conditions(pipeline: str) -> int:
        query = parse(f"{API} {pipeline}")
        assert isinstance(query, LogQuery)
        where = split_query(query).where
        return repr(where).count("Exists(")

    assert conditions("| json | duration > 250ms") == 3  # an attribute, in each map
    assert conditions("| json | duration > 250ms and size > 1KB") == 6
    assert conditions('| json | method = "GET"') == 3
    assert conditions("| json | duration > 250ms or size > 1KB") == 0
    assert conditions('| json | method != "GET"') == 0  # "" passes it
    assert conditions("| json | http_status > 500") == 0  # nested keys join with _
    assert conditions("| json | flags > 1") == 0  # a record field
    assert conditions("| logfmt | duration > 1s") == 0
    assert conditions("| json | line_format `x` | duration > 1s") == 0


def test_rows_with_equal_values_are_told_apart_exactly() -> None:
    maps = pa.map_(pa.string(), pa.string())
    table = pa.table(
        {
            "m": pa.array([[], None, [("", "")], [("a", "b")], [("a", "b")], [("ab", "")]], maps),
            "s": pa.array(["x", "x", "x", "x", None, "x"]),
        }
    )
    found = distinct_rows(table, ["m", "s"])
    # [] and None are one value; {"": ""} is another; a null string reads as "".
    assert found.index.tolist() == [0, 0, 1, 2, 3, 4]
    assert found.first.tolist() == [0, 2, 3, 4, 5]
    # A separator in a key: two maps that would read as the same text are told apart.
    shifted = pa.table(
        {
            "m": pa.array(
                [
                    [("a\x1e", "1"), ("b", "1")],
                    [("a", "1"), ("\x1eb", "1")],
                    [("a\x1e", "1"), ("b", "1")],
                ],
                maps,
            )
        }
    )
    assert distinct_rows(shifted, ["m"]).index.tolist() == [0, 1, 0]


def _uneven() -> ExportLogsServiceRequest:
    """3,000 lines of one stream, every third picked: bursts of up to 300 lines at one
    time, a dense minute and hours with few lines."""
    rng = random.Random(13)
    times: list[int] = []
    while len(times) < 3000:
        if rng.random() < 0.8:
            at = UNEVEN + rng.randrange(60 * S)  # the dense minute
        else:
            at = UNEVEN + rng.randrange(6 * 3600 * S)  # anywhere in six hours
        times += [at] * (rng.randrange(1, 300) if rng.random() < 0.1 else 1)
    records = [
        LogRecord(time_unix_nano=at, body=AnyValue(string_value=f"n={i} pick={i % 3 == 0}"))
        for i, at in enumerate(times)
    ]
    return ExportLogsServiceRequest(
        resource_logs=[_stream({"service.name": "uneven"}, (None, records))]
    )


UNEVEN = T0 + 3600 * S


@pytest.fixture(scope="module")
def uneven(backend: Storage) -> Storage:
    backend.write(WriteBatch(logs=[_uneven()]))
    return backend


@pytest.mark.parametrize("limit", [1, 50, 333, 999, 5000])
@pytest.mark.parametrize("direction", list(Direction))
def test_windows_find_the_first_lines_that_pass(
    uneven: Storage, limit: int, direction: Direction
) -> None:
    query = parse('{service_name="uneven"} | logfmt | pick="True"')
    assert isinstance(query, LogQuery)
    start, end = UNEVEN, UNEVEN + 6 * 3600 * S
    found = select_logs(uneven, query, start_ns=start, end_ns=end, limit=limit, direction=direction)
    general = compile_stages(query.stages).run(_general(_rows(uneven, query)))
    passed = sorted(zip(general.times, general.lines, strict=True))
    if direction is Direction.BACKWARD:
        passed.reverse()
    backward = direction is Direction.BACKWARD
    times = found.entries.times
    assert times == sorted(times, reverse=backward)
    # The first `limit` times, each line once (which of the lines at the last time is
    # not defined).
    assert times == [at for at, _ in passed[:limit]]
    got = list(zip(times, found.entries.lines, strict=True))
    assert len(set(got)) == len(got) and set(got) <= set(passed)
    # Every line once, in order, when nothing is dropped.
    parsed = parse('{service_name="uneven"} | logfmt')
    assert isinstance(parsed, LogQuery)
    batches = list(read_entries(uneven, parsed, start_ns=start, end_ns=end, direction=direction))
    every = [(at, line) for b in batches for at, line in zip(b.times, b.lines, strict=True)]
    assert [at for at, _ in every] == sorted(at for at, _ in every)[:: -1 if backward else 1]
    assert sorted(line for _, line in every) == sorted(_general(_rows(uneven, parsed)).lines)
