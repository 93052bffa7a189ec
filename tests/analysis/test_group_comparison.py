"""Group comparison on both backends, against shares counted here from the spans written.

The spans are generated (seeded) and kept as plain records. For each comparison the test
puts every record in the selection, the baseline or neither by the filters' meaning, counts
each group's spans per value of every span attribute, resource attribute and span name,
and ranks by the documented score (selection share - baseline share, by absolute value).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otelite.analysis import GroupComparison, GroupComparisonPlan, group_comparison_plan
from otelite.errors import InvalidRequest
from otelite.query import Plan, TimeRange, compile_plan
from otelite.storage import Storage, WriteBatch
from otelite.types import ExportTraceServiceRequest
from tests.api.test_tempo_compare import any_value
from tests.backends import BACKENDS, store

SEC, MS = 10**9, 10**6
T0 = 1_700_000_000 * SEC
RANGE = TimeRange(T0, T0 + 600 * SEC)

Value = str | int | float | bool


@dataclass
class Record:
    start_ns: int
    duration_ns: int
    service: str
    env: str
    name: str
    error: bool
    attributes: dict[str, Value] = field(default_factory=dict)

    def values(self) -> Iterator[tuple[str, Value]]:
        """Every (attribute, value) the comparison counts for this span."""
        yield "resource.service.name", self.service
        yield "resource.env", self.env
        yield "name", self.name
        for key, value in self.attributes.items():
            yield f"span.{key}", value


def generate(seed: int = 5) -> list[Record]:
    rng = random.Random(seed)
    records = []
    for n in range(400):
        service = rng.choice(("web", "cart", "pay", "db"))
        error = rng.random() < (0.6 if service == "pay" else 0.1)
        attributes: dict[str, Value] = {"http.route": rng.choice(("/", "/cart", "/pay", "/x"))}
        if rng.random() < 0.7:
            attributes["http.status_code"] = 503 if error and rng.random() < 0.8 else 200
        if rng.random() < 0.3:
            attributes["retry"] = rng.random() < 0.5
        if rng.random() < 0.3:
            # Three values that are equal in Python: kept apart by type.
            attributes["flag"] = rng.choice((1, True, 1.0, "1"))
        records.append(
            Record(
                start_ns=T0 + n * SEC,
                duration_ns=rng.randrange(1, 100) * MS,
                service=service,
                env=rng.choice(("prod", "prod", "dev")),
                name=rng.choice(("GET", "POST", "SELECT")),
                error=error,
                attributes=attributes,
            )
        )
    return records


RECORDS = generate()


def spans_request(records: list[Record]) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(
                    attributes=[
                        KeyValue(key="service.name", value=any_value(r.service)),
                        KeyValue(key="env", value=any_value(r.env)),
                    ]
                ),
                scope_spans=[
                    ScopeSpans(
                        spans=[
                            Span(
                                trace_id=n.to_bytes(16, "big"),
                                span_id=n.to_bytes(8, "big"),
                                name=r.name,
                                start_time_unix_nano=r.start_ns,
                                end_time_unix_nano=r.start_ns + r.duration_ns,
                                status=Status(code=Status.STATUS_CODE_ERROR if r.error else 0),
                                attributes=[
                                    KeyValue(key=k, value=any_value(v))
                                    for k, v in r.attributes.items()
                                ],
                            )
                        ]
                    )
                ],
            )
            for n, r in enumerate(records, start=1)
        ]
    )


@pytest.fixture(scope="module", params=BACKENDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def storage(kind: str) -> Iterator[Storage]:
    with store(kind) as opened:
        opened.write(WriteBatch(traces=[spans_request(RECORDS)]))
        yield opened


def rows(storage: Storage, plan: Plan) -> list[dict[str, Any]]:
    statement = compile_plan(plan, storage.dialect)
    table = storage.query(statement.sql, statement.params, types=statement.types)
    return table.to_pylist()


def run(storage: Storage, plan: GroupComparisonPlan) -> GroupComparison:
    totals = rows(storage, plan.totals)
    return plan.answer(totals, [rows(storage, p) for p in plan.counts(totals)])


Row = tuple[str, str, Value, int, int]
"""attribute, the value's type name, the value, selection count, baseline count."""


def expected(
    selected: Callable[[Record], bool], baseline: Callable[[Record], bool] | None
) -> tuple[int, int, set[Row]]:
    groups: dict[int, list[Record]] = {1: [], 0: []}
    for r in RECORDS:
        if selected(r):
            groups[1].append(r)
        elif baseline is None or baseline(r):
            groups[0].append(r)
    counts: dict[int, Counter[tuple[str, str, Value]]] = {}
    for side, records in groups.items():
        counts[side] = Counter(
            (name, type(value).__name__, value) for r in records for name, value in r.values()
        )
    keys = set(counts[0]) | set(counts[1])
    rows = {(*key, counts[1][key], counts[0][key]) for key in keys}
    return len(groups[1]), len(groups[0]), rows


def rows_of(found: GroupComparison) -> set[Row]:
    return {
        (v.attribute, type(v.value).__name__, v.value, v.selection, v.baseline)
        for v in found.values
    }


def assert_ranked(found: GroupComparison, selection: int, baseline: int) -> None:
    """Shares are the counts over the group sizes; ranked by |score|, then by count."""
    keys = []
    for v in found.values:
        assert v.exact
        assert v.selection_share == pytest.approx(v.selection / selection if selection else 0)
        assert v.baseline_share == pytest.approx(v.baseline / baseline if baseline else 0)
        assert v.score == pytest.approx(v.selection_share - v.baseline_share)
        keys.append((-round(abs(v.score), 12), -(v.selection + v.baseline)))
    assert keys == sorted(keys)


CASES = {
    "errors vs the rest": ("{ status = error }", None, lambda r: r.error, None),
    "slow vs cart, overlapping": (
        "{ duration > 50ms }",
        '{ resource.service.name = "cart" }',
        lambda r: r.duration_ns > 50 * MS,
        lambda r: r.service == "cart",
    ),
    "every span vs nothing": ("{ }", None, lambda r: True, None),
    "typed attribute vs a name": (
        "{ span.flag = 1 }",
        '{ name = "POST" }',
        # A number compares as a number, ints and doubles alike; true and "1" are no number.
        lambda r: type(r.attributes.get("flag")) in (int, float) and r.attributes["flag"] == 1,
        lambda r: r.name == "POST",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_shares_match_an_independent_count(storage: Storage, case: str) -> None:
    selection, baseline, chosen, other = CASES[case]
    plan = group_comparison_plan(selection, baseline, RANGE, limit=1000)
    found = run(storage, plan)
    n_selection, n_baseline, rows = expected(chosen, other)
    assert (found.selection_spans, found.baseline_spans) == (n_selection, n_baseline)
    assert rows_of(found) == rows
    assert_ranked(found, n_selection, n_baseline)
    assert (found.values_cut, found.attributes_cut, found.ranked_cut) == ((), False, False)
    assert found.sample is None


def test_the_limit_keeps_the_top_ranked(storage: Storage) -> None:
    found = run(storage, group_comparison_plan("{ status = error }", None, RANGE, limit=3))
    n_selection, n_baseline, rows = expected(lambda r: r.error, None)

    def score(row: Row) -> float:
        return row[3] / n_selection - row[4] / n_baseline

    ranked = sorted(rows, key=lambda row: (-abs(score(row)), -(row[3] + row[4])))
    assert [abs(score(row)) for row in ranked[:4]] == sorted(
        {abs(score(row)) for row in ranked[:4]}, reverse=True
    ), "the generated data has no tie at the top"
    assert rows_of(found) == set(ranked[:3])
    assert found.ranked_cut
    # pay fails 60% of the time, the others 10%: 503 and pay are among the first.
    assert {("span.http.status_code", 503), ("resource.service.name", "pay")} <= {
        (v.attribute, v.value) for v in found.values
    }


def test_a_window_selects_by_start(storage: Storage) -> None:
    # Spans start one a second; (T0+100s, T0+200s] holds spans 101 to 200.
    window = (T0 + 100 * SEC, T0 + 200 * SEC)
    plan = group_comparison_plan("{ }", None, RANGE, window=window, limit=1000)
    found = run(storage, plan)
    n_selection, n_baseline, rows = expected(lambda r: window[0] < r.start_ns <= window[1], None)
    assert (found.selection_spans, found.baseline_spans) == (n_selection, n_baseline) == (100, 300)
    assert rows_of(found) == rows


def test_the_time_range_bounds_what_is_read(storage: Storage) -> None:
    # The first 50 spans only.
    time = TimeRange(T0, T0 + 50 * SEC)
    found = run(storage, group_comparison_plan("{ status = error }", None, time, limit=1000))
    assert found.selection_spans + found.baseline_spans == 50


def test_cuts_are_said(storage: Storage) -> None:
    # Four attributes most spans have: resource.service.name, resource.env, name and
    # span.http.route (every span); one more exists, so the bound cuts.
    plan = group_comparison_plan("{ status = error }", None, RANGE, limit=1000, max_attributes=4)
    found = run(storage, plan)
    assert found.attributes_cut
    assert {v.attribute for v in found.values} == {
        "resource.service.name",
        "resource.env",
        "name",
        "span.http.route",
    }


def test_an_attribute_with_many_values_is_cut(kind: str) -> None:
    # Every span a value of its own: more than the values kept per attribute.
    many = [
        Record(T0 + n * MS, MS, "svc", "prod", "op", n % 2 == 0, {"user.id": f"u{n:04}"})
        for n in range(300)
    ]
    with store(kind) as other:
        other.write(WriteBatch(traces=[spans_request(many)]))
        found = run(other, group_comparison_plan("{ status = error }", None, RANGE, limit=1000))
    assert found.values_cut == ("span.user.id",)
    users = [v for v in found.values if v.attribute == "span.user.id"]
    # Each group's kept values are among its own; the other group's count is not known.
    assert users and all(not v.exact for v in users)
    assert all(v.exact for v in found.values if v.attribute != "span.user.id")


@pytest.mark.parametrize(
    ("selection", "baseline", "message"),
    [
        ("{ status = ", None, "selection: parse error"),
        ("{ } | rate()", None, "selection: a span set query such as .* is expected, not metrics"),
        ("{ status = error }", "{ } | compare({ .a })", "baseline: a span set query"),
        ("{ status = error }", "rate(", "baseline: parse error"),
    ],
)
def test_bad_filters_name_the_field(selection: str, baseline: str | None, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        group_comparison_plan(selection, baseline, RANGE)


def test_the_range_must_be_whole_and_bounded() -> None:
    with pytest.raises(InvalidRequest, match="whole time range"):
        group_comparison_plan("{ }", None, TimeRange(T0, None))
    with pytest.raises(InvalidRequest, match="start: a group comparison reads at most 168h"):
        group_comparison_plan("{ }", None, TimeRange(T0, T0 + 8 * 24 * 3600 * SEC))
    with pytest.raises(InvalidRequest, match="selectionEnd"):
        group_comparison_plan("{ }", None, RANGE, window=(T0 + 5, T0 + 5))


def test_more_spans_than_the_bound_are_sampled_by_trace(storage: Storage) -> None:
    # 400 spans, each its own trace; at most 100 are counted, about a quarter of them.
    plan = group_comparison_plan("{ status = error }", None, RANGE, limit=1000, max_spans=100)
    found = run(storage, plan)
    n_selection, n_baseline, every = expected(lambda r: r.error, None)
    assert (found.selection_spans, found.baseline_spans) == (n_selection, n_baseline)
    sample = found.sample
    assert sample is not None and sample.rate == 0.25
    # The hash spreads trace ids evenly enough: within five standard deviations (~43).
    assert abs(sample.selection + sample.baseline - 100) <= 43
    # What the sample counted is part of what there is, and its shares are of the sample.
    most = {(a, t, v): (s, b) for a, t, v, s, b in every}
    for v in found.values:
        sel, base = most[v.attribute, type(v.value).__name__, v.value]
        assert v.selection <= sel and v.baseline <= base
        assert v.selection_share == pytest.approx(v.selection / sample.selection)
        assert v.baseline_share == pytest.approx(v.baseline / sample.baseline)
    names = sum(v.selection + v.baseline for v in found.values if v.attribute == "name")
    assert names == sample.selection + sample.baseline  # every span has a name
