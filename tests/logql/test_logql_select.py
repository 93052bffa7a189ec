"""What SQL does for a log query: stream selection must agree with ``stream_labels``
(the one definition of a record's labels), line filters with Loki's, and every value a
query carries must reach the database as a bound parameter."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otelite.query import compile_plan
from otelite.query._plan import Select, Table, TimeRange
from otelite.query.dialects import ClickHouseDialect, DuckDBDialect
from otelite.query.logql import (
    Direction,
    LineFilter,
    LineOp,
    LogQuery,
    Matcher,
    MatchOp,
    parse,
    select_logs,
    split_query,
)
from otelite.query.logql._labels import PUSH_SCOPE, stream_labels
from otelite.query.logql._match import line_test, matcher_test
from otelite.query.logql._records import RECORD_OUTPUTS
from otelite.query.logql._select import line_filter_predicate
from otelite.storage import Storage, WriteBatch
from otelite.types import ExportLogsServiceRequest
from tests.backends import BACKENDS, store

T0 = 1_760_000_000 * 10**9

# Resource attributes that take part in stream labels, with values that exercise the
# rules: empty values, a service name that is not a string, discovery order.
_CHOICES: dict[str, list[AnyValue | None]] = {
    "service.name": [
        None,
        AnyValue(string_value="api"),
        AnyValue(string_value=""),
        AnyValue(int_value=7),
    ],
    "k8s.container.name": [None, AnyValue(string_value="web")],
    "container.name": [None, AnyValue(string_value="box")],
    "service_name": [None, AnyValue(string_value="own")],
    "app": [None, AnyValue(string_value="shop")],
    "k8s.pod.name": [None, AnyValue(string_value="p-1")],
}
_SCOPES = ("", "lib", PUSH_SCOPE)


def _resources() -> Iterator[tuple[list[KeyValue], str]]:
    for values in itertools.product(*_CHOICES.values()):
        attributes = [
            KeyValue(key=key, value=value)
            for key, value in zip(_CHOICES, values, strict=True)
            if value is not None
        ]
        for scope in _SCOPES:
            yield attributes, scope


def _string(value: AnyValue) -> str:
    return value.string_value if value.HasField("string_value") else str(value.int_value)


RECORDS = list(_resources())
"""(resource attributes, scope) of record i, whose line is ``line <i>``."""


def _expected_labels(i: int) -> dict[str, str]:
    attributes, scope = RECORDS[i]
    return stream_labels({kv.key: _string(kv.value) for kv in attributes}, scope)


@pytest.fixture(scope="module", params=BACKENDS)
def streams_store(request: pytest.FixtureRequest) -> Iterator[Storage]:
    resource_logs = [
        ResourceLogs(
            resource=Resource(attributes=attributes),
            scope_logs=[
                ScopeLogs(
                    scope=InstrumentationScope(name=scope),
                    log_records=[
                        LogRecord(time_unix_nano=T0 + i, body=AnyValue(string_value=f"line {i}"))
                    ],
                )
            ],
        )
        for i, (attributes, scope) in enumerate(RECORDS)
    ]
    with store(request.param) as opened:
        opened.write(WriteBatch(logs=[ExportLogsServiceRequest(resource_logs=resource_logs)]))
        yield opened


_LABELS = ("service_name", "k8s_container_name", "container_name", "app", "k8s_pod_name", "x")
_VALUES = ("api", "7", "own", "web", "box", "shop", "p-1", "unknown_service", "")
_REGEXES = (".+", ".*", "a.*", "web|box", "(?i)API", "p-[0-9]", "unknown_.*")


def _selectors() -> list[tuple[Matcher, ...]]:
    found = [(Matcher("service_name", MatchOp.EQ, value),) for value in _VALUES if value] + [
        (Matcher(label, MatchOp.RE, ".+"),) for label in _LABELS
    ]
    chance = random.Random(13)
    while len(found) < 120:
        matchers = []
        for _ in range(chance.randint(1, 3)):
            op = chance.choice(list(MatchOp))
            value = chance.choice(_REGEXES if op in (MatchOp.RE, MatchOp.NRE) else _VALUES)
            matchers.append(Matcher(chance.choice(_LABELS), op, value))
        found.append(tuple(matchers))
    return found


def _selected(storage: Storage, selector: tuple[Matcher, ...]) -> set[int]:
    query = LogQuery(selector)
    found = select_logs(
        storage,
        query,
        start_ns=T0,
        end_ns=T0 + len(RECORDS),
        limit=5000,
        direction=Direction.FORWARD,
    )
    return {int(line.split()[1]) for line in found.entries.lines}


def test_sql_stream_selection_agrees_with_stream_labels(streams_store: Storage) -> None:
    for selector in _selectors():
        tests = [(m.name, matcher_test(m)) for m in selector]
        expected = {
            i
            for i in range(len(RECORDS))
            if all(test(_expected_labels(i).get(name, "")) for name, test in tests)
        }
        assert _selected(streams_store, selector) == expected, selector


def test_entries_carry_the_stream_labels(streams_store: Storage) -> None:
    query = parse('{service_name=~".+"}')
    assert isinstance(query, LogQuery)
    found = select_logs(
        streams_store, query, start_ns=T0, end_ns=T0 + len(RECORDS), limit=5000
    ).entries
    for line, labels in zip(found.lines, found.labels, strict=True):
        i = int(line.split()[1])
        assert dict(labels.categorized()[0]) == _expected_labels(i)


_LINES = [
    "GET /index.html 200",
    "error: disk full",
    'quoted "value" here',
    "ünïcode line",
    "multi\nline error",
    "",
    "a.b*c+d",
]
_FILTERS = [
    LineFilter(LineOp.CONTAINS, ("error",)),
    LineFilter(LineOp.CONTAINS, ("",)),
    LineFilter(LineOp.NOT_CONTAINS, ("error", "GET")),
    LineFilter(LineOp.CONTAINS, ('"value"', "ünï")),
    LineFilter(LineOp.MATCHES, ("^GET .* [0-9]{3}$",)),
    LineFilter(LineOp.MATCHES, ("(?i)ERROR",)),
    LineFilter(LineOp.MATCHES, ("a\\.b\\*",)),
    LineFilter(LineOp.NOT_MATCHES, ("e.r", "^$")),
    LineFilter(LineOp.MATCHES, ("(?s)multi.line",)),
    LineFilter(LineOp.MATCHES, ("line$",)),
]


@pytest.fixture(scope="module", params=BACKENDS)
def lines_store(request: pytest.FixtureRequest) -> Iterator[Storage]:
    records = [
        LogRecord(time_unix_nano=T0 + i, body=AnyValue(string_value=line))
        for i, line in enumerate(_LINES)
    ]
    resource = Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value="l"))])
    request_ = ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(resource=resource, scope_logs=[ScopeLogs(log_records=records)])]
    )
    with store(request.param) as opened:
        opened.write(WriteBatch(logs=[request_]))
        yield opened


@pytest.mark.parametrize("line_filter", _FILTERS, ids=str)
def test_sql_line_filters_agree_with_python(lines_store: Storage, line_filter: LineFilter) -> None:
    _, exact = line_filter_predicate(line_filter)
    assert exact
    query = LogQuery((Matcher("service_name", MatchOp.EQ, "l"),), (line_filter,))
    found = select_logs(
        lines_store, query, start_ns=T0, end_ns=T0 + 100, limit=100, direction=Direction.FORWARD
    ).entries.lines
    test = line_test(line_filter)
    assert found == [line for line in _LINES if test(line)]


def test_what_sql_does_and_what_is_left() -> None:
    query = parse('{a="b"} |= "x" |> "<_> y <_>" | json |~ "z" | line_format "{{.a}}" |= "after"')
    assert isinstance(query, LogQuery)
    part = split_query(query)
    # The pattern's condition is only necessary, so the filter runs again in Python; the
    # filter after json is the stored line's; the one after line_format is not.
    assert [type(s).__name__ for s in part.stages] == [
        "LineFilter",
        "JsonParser",
        "LineFormat",
        "LineFilter",
    ]
    assert not part.exact
    assert split_query(LogQuery((Matcher("a", MatchOp.EQ, "b"),))).exact


_HOSTILE = 'o\'brien "q"; DROP TABLE otel_logs; --'


@pytest.mark.parametrize("dialect", [DuckDBDialect(), ClickHouseDialect()], ids=["duckdb", "ch"])
def test_every_value_is_a_bound_parameter(dialect: object) -> None:
    query = parse(
        '{service_name="o\'brien \\"q\\"; DROP TABLE otel_logs; --", app=~"it\'s|\\"x\\""}'
        ' |= "it\'s \\"quoted\\"" |~ "s \\"q" != "--\'" |> "<_>\'<_>"'
    )
    assert isinstance(query, LogQuery)
    plan = Select(Table.LOGS, RECORD_OUTPUTS, where=split_query(query).where, time=TimeRange(0, 1))
    statement = compile_plan(plan, dialect)  # type: ignore[arg-type]
    for text in (_HOSTILE, "it's", "quoted", 's \\"q', "--'", "DROP", "brien"):
        assert text not in statement.sql
    assert _HOSTILE in statement.params
    assert 'it\'s "quoted"' in statement.params


def test_hostile_values_run_as_values() -> None:
    records = [
        LogRecord(time_unix_nano=T0, body=AnyValue(string_value="it's \"quoted\" --'")),
        LogRecord(time_unix_nano=T0 + 1, body=AnyValue(string_value="plain")),
    ]
    resource = Resource(
        attributes=[KeyValue(key="service.name", value=AnyValue(string_value=_HOSTILE))]
    )
    request_ = ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(resource=resource, scope_logs=[ScopeLogs(log_records=records)])]
    )
    query = parse(
        '{service_name="o\'brien \\"q\\"; DROP TABLE otel_logs; --"}'
        ' |= "it\'s \\"quoted\\"" |~ "s \\"q" |> "<_>--\'"'
    )
    assert isinstance(query, LogQuery)
    for kind in BACKENDS:
        with store(kind) as opened:
            opened.write(WriteBatch(logs=[request_]))
            found = select_logs(opened, query, start_ns=T0, end_ns=T0 + 10, limit=10)
            assert found.entries.lines == ["it's \"quoted\" --'"]
