"""Counting in SQL agrees with counting in Python, on both backends.

``sum by (labels) (count_over_time(...))`` and its kin are counted in the database when
the labels are ones SQL can group by (``_counts``); anything else reads every entry in
Python. Over records made to try every source of a label (severity texts in any case
and unknown words, severity numbers only, level attributes, ``detected.level``, maps,
records pushed through the Loki API, services found by discovery), both ways must give
the same series. A stage that leaves the labels alone (``label_format`` of a label not
grouped by) makes a query take the Python way.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otelite.query.logql import (
    LogQuery,
    RangeAggregation,
    ReadStats,
    VectorAggregation,
    evaluate_metric,
    parse,
)
from otelite.query.logql._counts import count_in_sql
from otelite.query.logql._labels import PUSH_SCOPE
from otelite.query.promql import Budget, Scalar
from otelite.storage import Storage, WriteBatch
from otelite.types import ExportLogsServiceRequest
from tests.backends import BACKENDS, store

S = 10**9
C0 = 1_770_000_000 * S
SPAN = 600 * S
TEXTS = ["INFO", "info", "Warning", "ERR", "fatal", "notice", " debug ", "custom", "İNFO", ""]
GENERAL = '| label_format otelite_in_python="1"'


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def _attributes(rng: random.Random) -> list[KeyValue]:
    choices = [
        [],
        [_kv("http.route", string_value="/a")],
        [_kv("level", string_value=rng.choice(["warn", "debug"]))],
        [_kv("level", int_value=3)],
        [_kv("log.level", string_value="error")],
        [_kv("detected.level", string_value="trace")],
        [_kv("detected", kvlist_value=KeyValueList(values=[_kv("level", string_value="x")]))],
        [_kv("severity", string_value="critical")],
        [_kv("team", string_value=rng.choice(["a", "b"]))],
    ]
    return rng.choice(choices)


def _records(rng: random.Random, count: int) -> list[LogRecord]:
    found = []
    for _ in range(count):
        record = LogRecord(
            time_unix_nano=C0 + rng.randrange(SPAN),
            severity_text=rng.choice(TEXTS),
            severity_number=rng.choice([0, 0, 3, 9, 13, 17, 22, 30]),  # type: ignore[arg-type]
            body=AnyValue(
                string_value=rng.choice(["plain line", "level=warn x", "an error here", "ok é"])
            ),
            attributes=_attributes(rng),
        )
        found.append(record)
    return found


def varied_request() -> ExportLogsServiceRequest:
    rng = random.Random(13)
    resources = [
        [_kv("service.name", string_value="api"), _kv("k8s.pod.name", string_value="p1")],
        [_kv("service.name", string_value="db"), _kv("team", string_value="core")],
        [_kv("k8s.container.name", string_value="sidecar")],  # service_name discovered
        [_kv("service.name", string_value="api"), _kv("level", string_value="info")],
    ]
    resource_logs = [
        ResourceLogs(
            resource=Resource(attributes=attributes),
            scope_logs=[
                ScopeLogs(
                    scope=InstrumentationScope(name="lib", version="1"),
                    log_records=_records(rng, 150),
                )
            ],
        )
        for attributes in resources
    ]
    pushed = ResourceLogs(
        resource=Resource(
            attributes=[_kv("app", string_value="shop"), _kv("level", string_value="x")]
        ),
        scope_logs=[
            ScopeLogs(scope=InstrumentationScope(name=PUSH_SCOPE), log_records=_records(rng, 100))
        ],
    )
    return ExportLogsServiceRequest(resource_logs=[*resource_logs, pushed])


@pytest.fixture(scope="module", params=BACKENDS)
def varied_store(request: pytest.FixtureRequest) -> Iterator[Storage]:
    with store(request.param) as opened:
        opened.write(WriteBatch(logs=[varied_request()]))
        yield opened


def _series(storage: Storage, text: str, start: int, end: int, step: int) -> dict[Any, Any]:
    expr = parse(text)
    assert not isinstance(expr, LogQuery)
    result = evaluate_metric(storage, expr, start_ns=start, end_ns=end, step_ns=step)
    assert not isinstance(result.value, Scalar)
    value = result.value
    return {
        labels: [
            (int(t), float(v))
            for t, v, here in zip(
                result.steps_ns, value.values[row], value.present[row], strict=True
            )
            if here
        ]
        for row, labels in enumerate(value.labels)
    }


def _counted_in_sql(storage: Storage, text: str, start: int, end: int, step: int) -> bool:
    expr = parse(text)
    assert isinstance(expr, VectorAggregation) and isinstance(expr.expr, RangeAggregation)
    steps = np.arange(start, end + 1, step, dtype=np.int64)
    counted = count_in_sql(
        storage, expr.expr, expr.grouping.labels, steps, budget=Budget(), stats=ReadStats()
    )
    return counted is not None


@pytest.mark.parametrize(
    ("by", "function", "selector"),
    [
        ("detected_level", "count_over_time", '{service_name=~".+"}'),
        ("service_name, detected_level", "count_over_time", '{service_name=~".+"}'),
        ("level, detected_level", "count_over_time", '{service_name=~".+"} | drop __error__'),
        ("team", "rate", '{service_name=~"api|db"}'),
        ("k8s_pod_name, app", "bytes_over_time", '{service_name=~".+"} |= "e"'),
        ("level", "bytes_rate", '{service_name=~".+"} | keep level, service_name'),
        ("detected_level", "count_over_time", '{service_name=~".+"} | drop detected_level="warn"'),
        ("", "count_over_time", '{service_name=~".+"}'),
    ],
)
@pytest.mark.parametrize(
    ("range_s", "step_s", "offset"),
    [(60, 60, ""), (60, 15, ""), (45, 20, ""), (7, 30, ""), (90, 25, " offset 40s")],
)
def test_sql_and_python_agree(
    varied_store: Storage,
    by: str,
    function: str,
    selector: str,
    range_s: int,
    step_s: int,
    offset: str,
) -> None:
    start, end, step = C0 + 13 * S, C0 + SPAN + 30 * S, step_s * S
    fast = f"sum by ({by}) ({function}({selector} [{range_s}s]{offset}))"
    slow = f"sum by ({by}) ({function}({selector} {GENERAL} [{range_s}s]{offset}))"
    assert _counted_in_sql(varied_store, fast, start, end, step)
    assert not _counted_in_sql(varied_store, slow, start, end, step)
    found, expected = (
        _series(varied_store, fast, start, end, step),
        _series(varied_store, slow, start, end, step),
    )
    assert found.keys() == expected.keys()
    for labels, points in expected.items():
        assert [t for t, _ in found[labels]] == [t for t, _ in points], labels
        assert [v for _, v in found[labels]] == pytest.approx([v for _, v in points], rel=1e-12)
    assert expected, "the data should have some lines in these windows"


def test_instant_counts_agree(varied_store: Storage) -> None:
    at = C0 + 400 * S
    fast = 'sum by (detected_level) (count_over_time({service_name=~".+"}[5m]))'
    slow = f'sum by (detected_level) (count_over_time({{service_name=~".+"}} {GENERAL} [5m]))'
    assert _series(varied_store, fast, at, at, 0) == _series(varied_store, slow, at, at, 0)


def test_every_level_source_is_tried(varied_store: Storage) -> None:
    levels = _series(
        varied_store,
        'sum by (detected_level) (count_over_time({service_name=~".+"}[20m]))',
        C0 + SPAN,
        C0 + SPAN,
        0,
    )
    names = {dict(labels).get("detected_level", "") for labels in levels}
    # From texts (normalised, unknown words kept), numbers, attributes, lines.
    assert {"info", "warn", "error", "fatal", "debug", "custom", "trace", "critical"} <= names
