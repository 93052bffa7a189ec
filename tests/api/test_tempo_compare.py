"""TraceQL's ``compare()`` over Tempo's metrics API, on both backends.

The spans are generated here (seeded) and kept as plain records; the expected series are
counted from those records in Python, from Tempo's description of ``compare()``: the
spans a filter leaves are the selection (they meet the selection filter, inside the
optional window) or the baseline; each side's spans are counted per step by every value
of every attribute and intrinsic, the ``top_n`` most frequent values per attribute and
side are kept, and each attribute has a total per side labelled ``"nil"``.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otelite.query import SpanComparison, TimeRange, compile_plan
from otelite.query.traceql import _compare
from otelite.storage import Storage, WriteBatch
from otelite.types import ExportTraceServiceRequest
from tests.backends import BACKENDS, store

SEC = 10**9
STEP_S = 60
# Ten one-minute steps, an hour or so ago (whole minutes, so steps and range align).
START_S = (int(time.time()) // 3600 - 1) * 3600
END_S = START_S + 600
RANGE = {"start": str(START_S), "end": str(END_S), "step": f"{STEP_S}s"}
STEPS = [(START_S + n * STEP_S) * SEC for n in range(10)]

SERVICES = ("frontend", "cart", "checkout", "payments")
STATUS_NAMES = {0: "unset", 1: "ok", 2: "error"}
KIND_NAMES = {1: "internal", 2: "server", 3: "client", 4: "producer"}
SCOPES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("lib-http", "1.2.0", {"lib.kind": "http"}),
    ("lib-db", "", {}),
    ("", "", {}),
)

Value = str | int | float | bool
Key = tuple[str, Value]
"""A label's value with its type's name: the int 1, the double 1.0 and true differ."""


@dataclass
class Record:
    """A generated span, as the test knows it."""

    trace: int
    span_id: int
    parent: int | None
    start_ns: int
    service: str
    host: str
    environment: str | None
    scope: int
    name: str
    kind: int
    status: int
    message: str
    attributes: dict[str, Value] = field(default_factory=dict)


def generate(seed: int = 11) -> list[Record]:
    rng = random.Random(seed)
    records: list[Record] = []
    next_id = 1
    for trace in range(60):
        # Some traces start before the range or end after it; some lack their root.
        start = (START_S - 40) * SEC + rng.randrange(0, 680 * SEC)
        spans: list[Record] = []
        for n in range(rng.randrange(1, 6)):
            if n == 0:
                parent = None if rng.random() < 0.85 else 10**6 + trace
            else:
                parent = rng.choice(spans).span_id
            attributes: dict[str, Value] = {
                "http.route": rng.choice(("/", "/cart", "/checkout", "/pay", "/health")),
                "user.id": f"u{rng.randrange(0, 25)}",
            }
            if rng.random() < 0.6:
                attributes["http.status_code"] = rng.choice((200, 200, 200, 404, 500, 503))
            if rng.random() < 0.3:
                attributes["retry"] = rng.random() < 0.5
            if rng.random() < 0.4:
                attributes["ratio"] = rng.choice((0.25, 0.5, 1.0))
            if rng.random() < 0.4:
                attributes["flag"] = rng.choice((1, True, "1", 1.0))
            if rng.random() < 0.2:
                attributes["weird key"] = "x"
            status = rng.choice((0, 0, 0, 1, 2))
            spans.append(
                Record(
                    trace=trace,
                    span_id=next_id,
                    parent=parent,
                    start_ns=start + n * rng.randrange(0, 20 * SEC),
                    service=rng.choice(SERVICES),
                    host=f"h{rng.randrange(0, 14)}",
                    environment=rng.choice(("prod", "prod", "staging", None)),
                    scope=rng.randrange(0, len(SCOPES)),
                    name=rng.choice(("GET /", "POST /cart", "SELECT", "publish", "work")),
                    kind=rng.choice(tuple(KIND_NAMES)),
                    status=status,
                    message="boom" if status == 2 and rng.random() < 0.5 else "",
                    attributes=attributes,
                )
            )
            next_id += 1
        records.extend(spans)
    return records


RECORDS = generate()


def any_value(value: Value) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=value)


def otlp_request(records: list[Record]) -> ExportTraceServiceRequest:
    out = ExportTraceServiceRequest()
    for r in records:
        resource = {"service.name": r.service, "host.id": r.host}
        if r.environment is not None:
            resource["deployment.environment"] = r.environment
        scope_name, scope_version, scope_attributes = SCOPES[r.scope]
        out.resource_spans.append(
            ResourceSpans(
                resource=Resource(
                    attributes=[KeyValue(key=k, value=any_value(v)) for k, v in resource.items()]
                ),
                scope_spans=[
                    ScopeSpans(
                        scope=InstrumentationScope(
                            name=scope_name,
                            version=scope_version,
                            attributes=[
                                KeyValue(key=k, value=any_value(v))
                                for k, v in scope_attributes.items()
                            ],
                        ),
                        spans=[span(r)],
                    )
                ],
            )
        )
    return out


def span(r: Record) -> Span:
    return Span(
        trace_id=r.trace.to_bytes(16, "big"),
        span_id=r.span_id.to_bytes(8, "big"),
        parent_span_id=b"" if r.parent is None else r.parent.to_bytes(8, "big"),
        name=r.name,
        kind=r.kind,  # type: ignore[arg-type]
        start_time_unix_nano=r.start_ns,
        end_time_unix_nano=r.start_ns + 50_000_000,
        status=Status(code=r.status, message=r.message),  # type: ignore[arg-type]
        attributes=[KeyValue(key=k, value=any_value(v)) for k, v in r.attributes.items()],
    )


@pytest.fixture(scope="module", params=BACKENDS)
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    """The generated spans in a store of each kind (the API's ``client`` serves it)."""
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[otlp_request(RECORDS)]))
        yield opened


# --- the expected answer, from the records ------------------------------------------


def in_range(r: Record, start_s: int = START_S, end_s: int = END_S) -> bool:
    return start_s * SEC <= r.start_ns < end_s * SEC


def roots() -> dict[int, Record]:
    """Each trace's root among the spans in range: a span without a parent, the earliest."""
    found: dict[int, Record] = {}
    for r in sorted(RECORDS, key=lambda r: r.start_ns):
        if r.parent is None and in_range(r):
            found.setdefault(r.trace, r)
    return found


def labels_of(r: Record, root: Record | None) -> list[tuple[str, Value]]:
    """Every (attribute label, value) of a span, as Tempo names them for compare()."""
    scope_name, scope_version, scope_attributes = SCOPES[r.scope]
    found: list[tuple[str, Value]] = [
        ("resource.service.name", r.service),
        ("resource.host.id", r.host),
        ("name", r.name),
        ("status", STATUS_NAMES[r.status]),
        ("statusMessage", r.message),
        ("kind", KIND_NAMES[r.kind]),
        ("instrumentation:name", scope_name),
        ("instrumentation:version", scope_version),
    ]
    if r.environment is not None:
        found.append(("resource.deployment.environment", r.environment))
    found += [(f"instrumentation.{k}", v) for k, v in scope_attributes.items()]
    for key, value in r.attributes.items():
        found.append((f'span."{key}"' if " " in key else f"span.{key}", value))
    if root is not None:
        found += [("rootServiceName", root.service), ("rootName", root.name)]
    return found


def keyed(value: Value) -> Key:
    return (type(value).__name__, value)


@dataclass
class Expected:
    """Per (side, attribute): every value's counts per step, and the totals per step."""

    values: dict[tuple[str, str], dict[Key, dict[int, int]]]
    totals: dict[tuple[str, str], dict[int, int]]


def expected(
    keep: Callable[[Record], bool],
    selected: Callable[[Record], bool],
    window: tuple[int, int] | None = None,
    step_ns: int = STEP_S * SEC,
) -> Expected:
    found = roots()
    values: dict[tuple[str, str], dict[Key, dict[int, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    totals: dict[tuple[str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for r in RECORDS:
        if not in_range(r) or not keep(r):
            continue
        inside = window is None or window[0] < r.start_ns <= window[1]
        side = "selection" if inside and selected(r) else "baseline"
        step = r.start_ns // step_ns * step_ns
        for name, value in labels_of(r, found.get(r.trace)):
            values[side, name][keyed(value)][step] += 1
            totals[side, name][step] += 1
    return Expected(values, totals)


# --- the answer, read back ------------------------------------------------------------


def plain(value: dict[str, Any]) -> Value:
    [(kind, raw)] = value.items()
    if kind == "intValue":
        return int(raw)
    return raw  # type: ignore[no-any-return]


def answer(
    client: httpx.Client, q: str, **params: str
) -> dict[tuple[str, str, Key], dict[int, float]]:
    """The series of a compare() query by (meta type, attribute, value)."""
    response = client.get("/api/metrics/query_range", params={"q": q, **RANGE, **params})
    assert response.status_code == 200, response.text
    found = {}
    for s in response.json()["series"]:
        [meta, attribute] = s["labels"]
        assert meta["key"] == "__meta_type"
        key = (meta["value"]["stringValue"], attribute["key"], keyed(plain(attribute["value"])))
        assert key not in found
        found[key] = {int(p["timestampMs"]) * 10**6: p["value"] for p in s["samples"]}
    return found


def check(found: dict[tuple[str, str, Key], dict[int, float]], want: Expected, top: int) -> None:
    """Every series as counted, zero at steps without spans; the ``top`` most frequent
    values of each side's attribute (any of those tied at the cut)."""

    def filled(counts: dict[int, int]) -> dict[int, float]:
        return {at: float(counts.get(at, 0)) for at in STEPS}

    expected_totals = {
        (f"{side}_total", name, keyed("nil")): filled(counts)
        for (side, name), counts in want.totals.items()
    }
    assert {k: v for k, v in found.items() if k[0].endswith("_total")} == expected_totals
    kept = {k: v for k, v in found.items() if not k[0].endswith("_total")}
    assert {(side, name) for side, name, _ in kept} == set(want.values)
    for (side, name), values in want.values.items():
        returned = {
            value: kept[side, name, value] for s, n, value in kept if (s, n) == (side, name)
        }
        assert len(returned) == min(top, len(values)), (side, name)
        for value, points in returned.items():
            assert points == filled(values[value]), (side, name, value)
        sums = {value: sum(counts.values()) for value, counts in values.items()}
        if len(values) > top:
            least_kept = min(sums[v] for v in returned)
            assert all(sums[v] <= least_kept for v in values.keys() - returned.keys())


# --- the tests ------------------------------------------------------------------------


def test_errors_against_the_rest_of_all_spans(client: httpx.Client) -> None:
    found = answer(client, "{ } | compare({ status = error })")
    want = expected(lambda r: True, lambda r: r.status == 2)
    # The data set is as meant: cuts at ten values, types kept apart, some roots missing.
    assert len(want.values["baseline", "span.user.id"]) > 10
    assert len(want.values["baseline", "span.flag"]) == 4
    assert sum(want.totals["baseline", "rootName"].values()) < sum(
        want.totals["baseline", "name"].values()
    )
    check(found, want, top=10)
    assert ("selection", "status", keyed("error")) in found


def test_a_filter_and_top_n(client: httpx.Client) -> None:
    found = answer(
        client,
        '{ resource.service.name = "cart" } | compare({ span.http.status_code >= 500 }, 3)',
    )
    failed = {500, 503}
    want = expected(
        lambda r: r.service == "cart",
        lambda r: r.attributes.get("http.status_code") in failed,
    )
    check(found, want, top=3)


def test_a_window_narrows_the_selection(client: httpx.Client) -> None:
    after, until = (START_S + 120) * SEC, (START_S + 300) * SEC
    found = answer(client, f"{{ }} | compare({{ kind = server }}, 5, {after}, {until})")
    want = expected(lambda r: True, lambda r: r.kind == 2, window=(after, until))
    check(found, want, top=5)


def test_a_structural_filter_compares_the_spans_it_leaves(client: httpx.Client) -> None:
    found = answer(client, "{ kind = server } > { } | compare({ status != unset })")
    by_id = {(r.trace, r.span_id): r for r in RECORDS if in_range(r)}

    def child_of_server(r: Record) -> bool:
        parent = by_id.get((r.trace, r.parent)) if r.parent is not None else None
        return parent is not None and parent.kind == 2

    check(found, expected(child_of_server, lambda r: r.status != 0), top=10)


def test_an_instant_query_counts_the_whole_range(client: httpx.Client) -> None:
    response = client.get(
        "/api/metrics/query",
        params={"q": "{ } | compare({ status = error }, 2)", "start": RANGE["start"]}
        | {"end": RANGE["end"]},
    )
    assert response.status_code == 200, response.text
    found = {
        (meta["value"]["stringValue"], attribute["key"], keyed(plain(attribute["value"]))): s[
            "value"
        ]
        for s in response.json()["series"]
        for meta, attribute in [s["labels"]]
    }
    want = expected(lambda r: True, lambda r: r.status == 2)
    totals = {
        (f"{side}_total", name, keyed("nil")): float(sum(counts.values()))
        for (side, name), counts in want.totals.items()
    }
    assert {k: v for k, v in found.items() if k[0].endswith("_total")} == totals
    kind = {k: v for k, v in found.items() if k[:2] == ("selection", "kind")}
    counts = want.values["selection", "kind"]
    assert len(kind) == min(2, len(counts))
    for (_, _, value), total in kind.items():
        assert total == sum(counts[value].values())


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("{ } | compare({ status = error }, 0)", "top_n must be an integer from 1 to 1000"),
        ("{ } | compare({ status = error }, 1001)", "top_n must be an integer from 1 to 1000"),
        ("{ } | compare({ status = error }, 10, 5, 5)", "end must be after start"),
        ("{ } | compare({ status = error }, 10, 0, 5)", "both positive"),
        (
            "({ } | compare({ status = error })) + ({ } | rate())",
            "compare() cannot be used in arithmetic",
        ),
    ],
)
def test_bad_arguments_are_400s_with_the_reason(client: httpx.Client, q: str, message: str) -> None:
    response = client.get("/api/metrics/query_range", params={"q": q, **RANGE})
    assert response.status_code == 400
    assert message in response.text


def test_an_answer_too_large_is_refused(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_compare, "MAX_POINTS", 50)
    response = client.get(
        "/api/metrics/query_range", params={"q": "{ } | compare({ status = error })", **RANGE}
    )
    assert response.status_code == 400
    assert "more than 50 samples" in response.text


def test_only_the_attributes_most_spans_have_are_kept(storage: Storage) -> None:
    plan = SpanComparison(
        where=None,
        selection=None,
        time=TimeRange(START_S * SEC, END_S * SEC),
        step_ns=600 * SEC,
        top=1,
        max_attributes=3,
    )
    statement = compile_plan(plan, storage.dialect)
    rows = storage.query(statement.sql, statement.params).to_pylist()
    kept = {(row["compared"], row["key"]) for row in rows}
    assert len(kept) == 3
    # Each kept attribute is on at least as many spans as any left out: every span has
    # its name, status, kind, service and host, and none more than once.
    spans = sum(in_range(r) for r in RECORDS)
    assert {int(row["n"]) for row in rows if row["total"]} == {spans}


def test_strings_travel_as_parameters(client: httpx.Client) -> None:
    evil = "'; DROP TABLE otel_traces; --"
    found = answer(client, f'{{ name != "{evil}" }} | compare({{ span.http.route = "{evil}" }})')
    check(found, expected(lambda r: True, lambda r: False), top=10)
