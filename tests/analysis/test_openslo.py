"""OpenSLO v1 documents: what is taken, and what is refused with the field and the reason."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from otelite.analysis import (
    Objective,
    PromQLCount,
    SpanCount,
    parse_documents,
    parse_slo,
)
from otelite.errors import InvalidRequest

AVAILABILITY = """
apiVersion: openslo/v1
kind: SLO
metadata:
  name: payment-availability
  displayName: Payment availability
spec:
  description: Charges that go through
  service: payment
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 28d
      isRolling: true
  objectives:
    - displayName: three nines
      target: 0.999
    - targetPercent: 99
  indicator:
    metadata:
      name: payment-ok
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: otelite
            spec:
              service: payment
              operation: POST /charge
              latencyThreshold: 300ms
        total:
          metricSource:
            type: otelite
            spec:
              service: payment
              operation: POST /charge
"""

PROMETHEUS = """
apiVersion: openslo/v1
kind: SLO
metadata: {name: checkout-errors}
spec:
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
  indicator:
    spec:
      ratioMetric:
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: >-
                traces_spanmetrics_calls_total{service="checkout",
                status_code="STATUS_CODE_ERROR"}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(traces_spanmetrics_calls_total{service="checkout"})
"""


def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(AVAILABILITY)
    return loaded


def test_an_availability_and_latency_slo_on_spans() -> None:
    [slo] = parse_documents(AVAILABILITY)
    assert slo.name == "payment-availability"
    assert slo.display_name == "Payment availability"
    assert slo.service == "payment"
    assert slo.window_seconds == 28 * 86400
    assert slo.objectives == (Objective("three nines", 0.999), Objective("1", 0.99))
    assert slo.numerator == SpanCount("good", "payment", "POST /charge", 300_000_000)
    assert slo.total == SpanCount("total", "payment", "POST /charge", None)
    assert not slo.numerator_is_bad
    assert slo.document == document()


def test_a_prometheus_slo_counts_bad_events_and_defaults_to_28_days() -> None:
    [slo] = parse_documents(PROMETHEUS)
    assert slo.window_seconds == 28 * 86400
    assert slo.numerator_is_bad
    assert isinstance(slo.numerator, PromQLCount) and slo.numerator.counter
    # A selector: its increase; an expression: the increase of a subquery over it.
    assert slo.numerator.window_query(3600) == (
        'sum(increase(traces_spanmetrics_calls_total{service="checkout", '
        'status_code="STATUS_CODE_ERROR"}[3600s]))'
    )
    assert slo.total.window_query(300) == (
        'sum(increase((sum(traces_spanmetrics_calls_total{service="checkout"}))[300s:15s]))'
    )
    assert PromQLCount("sum(increase(x[$window]))", counter=False).window_query(600) == (
        "sum(sum(increase(x[600s])))"
    )


def test_json_documents_and_several_yaml_documents() -> None:
    as_json = orjson.dumps(document())
    assert parse_documents(as_json)[0].name == "payment-availability"
    # JSON indented with tabs, which YAML refuses; an array of documents.
    tabbed = orjson.dumps(document(), option=orjson.OPT_INDENT_2).replace(b"  ", b"\t")
    assert parse_documents(tabbed)[0].name == "payment-availability"
    other = document()
    other["metadata"]["name"] = "other"
    assert [d.name for d in parse_documents(orjson.dumps([document(), other]))] == [
        "payment-availability",
        "other",
    ]
    both = parse_documents(AVAILABILITY + "\n---\n" + PROMETHEUS)
    assert [slo.name for slo in both] == ["payment-availability", "checkout-errors"]


def test_the_document_is_kept_as_json_holds_it() -> None:
    """YAML's dates and non-string keys become text, as a JSON reader gets them back."""
    doc = yaml.safe_load(
        AVAILABILITY.replace(
            "  displayName: Payment availability",
            "  displayName: Payment availability\n"
            "  annotations: {reviewed: 2026-11-30, 7: seven, limit: 18446744073709551615}",
        )
    )
    kept = parse_slo(doc).document
    assert kept["metadata"]["annotations"] == {
        "reviewed": "2026-11-30",
        "7": "seven",
        "limit": 2**64 - 1,
    }
    assert orjson.loads(orjson.dumps(kept)) == kept


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        ("7d", 7 * 86400),
        ("1w", 7 * 86400),
        ("28d", 28 * 86400),
        ("4w", 28 * 86400),
        ("30d", 30 * 86400),
    ],
)
def test_rolling_windows(duration: str, seconds: int) -> None:
    doc = document()
    doc["spec"]["timeWindow"][0]["duration"] = duration
    assert parse_slo(doc).window_seconds == seconds


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set (or, with ``...``, delete) the field at a dotted path with [n] indexes."""
    parts = path.replace("[", ".").replace("]", "").split(".")
    node: Any = doc
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last: Any = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
    if value is ...:
        del node[last]
    else:
        node[last] = value


SOURCE = "spec.indicator.spec.ratioMetric"
BAD = [
    ("apiVersion", "openslo/v2", "apiVersion: must be openslo/v1, got 'openslo/v2'"),
    ("kind", "SLI", "kind: must be SLO, got 'SLI'"),
    ("metadata.name", "Payment_SLO", "metadata.name: 'Payment_SLO' is not a name"),
    ("metadata.name", ..., "metadata.name: required"),
    ("spec.budgetingMethod", "Timeslices", "spec.budgetingMethod: must be Occurrences"),
    ("spec.budgetingMethod", ..., "spec.budgetingMethod: required"),
    ("spec.objectives[0].target", 1.5, "spec.objectives[0].target: must be in (0, 1), got 1.5"),
    ("spec.objectives[0].target", 1, "spec.objectives[0].target: must be in (0, 1), got 1"),
    ("spec.objectives[0].target", 0, "spec.objectives[0].target: must be in (0, 1), got 0"),
    (
        "spec.objectives[0].target",
        "high",
        "spec.objectives[0].target: must be a number, got 'high'",
    ),
    (
        "spec.objectives[1].targetPercent",
        100,
        "spec.objectives[1].targetPercent: must be in (0, 100)",
    ),
    ("spec.objectives[0].target", ..., "spec.objectives[0]: needs exactly one of target and"),
    (
        "spec.objectives[1].displayName",
        "three nines",
        "spec.objectives[1].displayName: 'three nines' names two objectives",
    ),
    ("spec.objectives", [], "spec.objectives: needs at least one objective"),
    ("spec.objectives", "0.99", "spec.objectives: must be a list, got '0.99'"),
    ("spec.timeWindow[0].duration", "14d", "spec.timeWindow[0].duration: must be 7d, 28d or 30d"),
    ("spec.timeWindow[0].duration", "1M", "spec.timeWindow[0].duration: '1M': months, quarters"),
    (
        "spec.timeWindow[0].duration",
        "28 days",
        "spec.timeWindow[0].duration: '28 days' is not a duration",
    ),
    ("spec.timeWindow[0].isRolling", False, "spec.timeWindow[0].isRolling: must be true"),
    ("spec.timeWindow", [], "spec.timeWindow: must hold exactly one window, got 0"),
    ("spec.indicator", ..., "spec.indicator: required"),
    ("spec.indicatorRef", "payment-ok", "spec.indicatorRef: otelite keeps no separate SLI"),
    ("spec.alertPolicies", [{"alertPolicyRef": "x"}], "spec.alertPolicies: otelite alerts"),
    ("spec.colour", "blue", "spec.colour: unknown field"),
    # Kept as sent and served back as JSON, which cannot hold it.
    ("metadata.labels", {"team": 2**64}, "metadata.labels.team: an integer beyond 64 bits"),
    ("spec.objectives[0].target", -(2**63) - 1, "spec.objectives[0].target: must be in (0, 1)"),
    (
        f"{SOURCE}.bad",
        {"metricSource": {"type": "otelite", "spec": {"service": "a"}}},
        f"{SOURCE}: needs exactly one of good and bad",
    ),
    (f"{SOURCE}.good", ..., f"{SOURCE}: needs exactly one of good and bad"),
    (f"{SOURCE}.total", ..., f"{SOURCE}.total: required"),
    (f"{SOURCE}.raw", {}, f"{SOURCE}.raw: precomputed ratios are not supported"),
    (f"{SOURCE}.counter", "yes", f"{SOURCE}.counter: must be true or false, got 'yes'"),
    (
        f"{SOURCE}.good.metricSource.type",
        "Datadog",
        f"{SOURCE}.good.metricSource.type: must be Prometheus or otelite, got 'Datadog'",
    ),
    (
        f"{SOURCE}.good.metricSource.metricSourceRef",
        "prom",
        f"{SOURCE}.good.metricSource.metricSourceRef: otelite keeps no DataSource",
    ),
    (
        f"{SOURCE}.good.metricSource.spec.service",
        "",
        f"{SOURCE}.good.metricSource.spec.service: must be a non-empty string",
    ),
    (
        f"{SOURCE}.good.metricSource.spec.latencyThreshold",
        "fast",
        f"{SOURCE}.good.metricSource.spec.latencyThreshold: not a duration",
    ),
    (
        f"{SOURCE}.total.metricSource.spec.latencyThreshold",
        "1s",
        f"{SOURCE}.total.metricSource.spec.latencyThreshold: total counts every request",
    ),
    (
        f"{SOURCE}.good.metricSource.spec.colour",
        "x",
        f"{SOURCE}.good.metricSource.spec.colour: unknown field",
    ),
    (
        "spec.indicator.spec.thresholdMetric",
        {},
        "spec.indicator.spec.thresholdMetric: otelite computes ratio SLIs only",
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), BAD, ids=[f"{p}={v!r}"[:60] for p, v, _ in BAD]
)
def test_bad_documents_name_the_field_and_the_reason(path: str, value: Any, message: str) -> None:
    doc = copy.deepcopy(document())
    _set(doc, path, value)
    with pytest.raises(InvalidRequest) as caught:
        parse_slo(doc)
    assert str(caught.value).startswith(message), str(caught.value)


PROMQL = f"{SOURCE}.good.metricSource.spec.query"


@pytest.mark.parametrize(
    ("query", "counter", "message"),
    [
        ("sum(rate(x[5m]", True, f"{PROMQL}: not a PromQL query of counts"),
        ("x[5m]", True, f"{PROMQL}: not a PromQL query of counts"),
        ("sum(x)", False, f"{PROMQL}: with counter: false the query must compute"),
    ],
)
def test_bad_promql_is_refused_at_the_query(query: str, counter: bool, message: str) -> None:
    doc = document()
    ratio = doc["spec"]["indicator"]["spec"]["ratioMetric"]
    ratio["counter"] = counter
    ratio["good"] = {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}
    with pytest.raises(InvalidRequest) as caught:
        parse_slo(doc)
    assert str(caught.value).startswith(message), str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no SLO document found"),
        ("spec: [unclosed", "not a YAML or JSON document: "),
        ("- 1\n- 2", "the document: must be a mapping, got a list"),
        (
            AVAILABILITY + "\n---\n" + AVAILABILITY,
            "document 2: metadata.name: 'payment-availability' is defined twice",
        ),
        (AVAILABILITY + "\n---\nkind: SLO", "document 2: apiVersion: required"),
        # A few lines standing for millions of values, and nesting that would exhaust
        # the stack: refused before they are loaded.
        ("a: &a [1, 1]\nb: &b [*a, *a]\nc: [*b, *b]", "aliases (*a) are not taken, at line 2"),
        ("[" * 100_000, "nested more than 32 deep at line 1, column 33"),
        ('{"a":' * 300 + "1" + "}" * 300, "nested more than 32 deep"),
    ],
)
def test_bad_files_are_refused_whole(text: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_documents(text)
    assert str(caught.value).startswith(message), str(caught.value)


VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@settings(max_examples=300, deadline=None)
@given(data=st.data(), value=VALUES)
def test_any_field_replaced_by_anything_parses_or_is_refused_by_name(
    data: st.DataObject, value: Any
) -> None:
    """Whatever a field of a good document becomes, the answer is an SLO or a refusal
    (``InvalidRequest``) whose message starts with a field's path: never another error."""
    doc = document()
    path = data.draw(st.sampled_from(_paths(doc)))
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    try:
        parse_slo(doc)
    except InvalidRequest as error:
        where = str(error).split(":", 1)[0]
        assert where.startswith(("apiVersion", "kind", "metadata", "spec", "the document"))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_parses_or_is_refused_with_a_reason(text: str) -> None:
    try:
        found = parse_documents(text)
    except InvalidRequest as error:
        assert str(error).strip()
    else:
        assert found and all(slo.objectives for slo in found)
