"""Group comparison on the demo shop's failing payment provider, on both backends.

The shop runs in simulated time (a clock that steps 20 ms a reading): healthy for 15 s,
then the payment provider fails 85% of its calls. What the provider's calls carry is read
from the generated spans themselves (those to the provider's host), independently of the
comparison; its answer must rank those values first.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from otelite.analysis import GroupComparison, group_comparison_plan
from otelite.demo import Batch, Shop
from otelite.query import Plan, TimeRange, compile_plan
from otelite.storage import Storage, WriteBatch
from otelite.types import Signal
from tests.backends import BACKENDS, store
from tests.demo.support import START, FlatSpan, spans_of, stepping_clock

SEC = 10**9
FAULT_AFTER_S = 15
SPANS = 12_000
PROVIDER_HOST = "api.payments.example.com"  # where the shop's payment service charges
RANGE = TimeRange(START - 600 * SEC, START + 3600 * SEC)


def shop_batches() -> list[Batch]:
    shop = Shop(
        seed=7,
        scenario="failing-payment-provider",
        fault_after=FAULT_AFTER_S,
        clock=stepping_clock(20.0),
        signals=[Signal.TRACES],
    )
    return list(itertools.islice(shop.batches(Signal.TRACES), SPANS // shop.batch_size))


BATCHES = shop_batches()


@cache
def provider_values() -> set[tuple[str, object]]:
    """The span name and span attribute values of the calls to the payment provider."""
    found: set[tuple[str, object]] = set()
    for flat in spans_of(BATCHES):
        attributes = flat.attributes
        if attributes.get("server.address") == PROVIDER_HOST:
            found.add(("name", flat.span.name))
            found.update((f"span.{key}", value) for key, value in attributes.items())
    return found


@pytest.fixture(scope="module", params=BACKENDS)
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[batch.request() for batch in BATCHES]))
        yield opened


def compare(storage: Storage, selection: str, window: tuple[int, int] | None) -> GroupComparison:
    plan = group_comparison_plan(selection, None, RANGE, window=window, limit=10)

    def rows(planned: Plan) -> list[dict[str, Any]]:
        statement = compile_plan(planned, storage.dialect)
        return storage.query(statement.sql, statement.params).to_pylist()

    totals = rows(plan.totals)
    return plan.answer(totals, [rows(planned) for planned in plan.counts(totals)])


def test_errors_against_ok_rank_the_providers_values_first(storage: Storage) -> None:
    found = compare(storage, "{ status = error }", None)
    assert found.selection_spans > 0 and found.baseline_spans > 0
    provider = provider_values()
    top = [(v.attribute, v.value) for v in found.values[:3]]
    assert set(top) <= provider, top
    # The provider's failure answer: in errors only.
    failed = next(v for v in found.values if (v.attribute, v.value) == ("span.error.type", "503"))
    assert failed.baseline == 0 and failed.selection_share > 0.5


@cache
def error_origins() -> list[FlatSpan]:
    """The error spans none of whose children failed: where the failures start."""
    spans = spans_of(BATCHES)
    failing_parents = {
        (f.span.trace_id, f.span.parent_span_id)
        for f in spans
        if f.span.status.code == Status.STATUS_CODE_ERROR
    }
    return [
        f
        for f in spans
        if f.span.status.code == Status.STATUS_CODE_ERROR
        and (f.span.trace_id, f.span.span_id) not in failing_parents
    ]


def test_where_errors_start_against_the_rest_ranks_the_guarded_charge_first(
    storage: Storage,
) -> None:
    """A structural selection: the error spans without a failing child. The provider is
    not instrumented; its failures start at the payment service's charge and its calls to
    the provider, most of them refused by the open circuit breaker guarding them."""
    origins = error_origins()
    found = compare(storage, "{ status = error } !< { status = error }", None)
    assert found.selection_spans == len(origins)
    assert found.baseline_spans == len(spans_of(BATCHES)) - len(origins)
    top = {(v.attribute, v.value) for v in found.values[:3]}
    assert ("resource.service.name", "payment") in top, found.values[:3]
    breaker = next(
        v
        for v in found.values
        if (v.attribute, v.value) == ("span.shop.circuit_breaker.state", "open")
    )
    opened = sum(f.attributes.get("shop.circuit_breaker.state") == "open" for f in origins)
    assert breaker.selection == opened and breaker.baseline == 0 and breaker.score > 0.5


def test_after_the_fault_against_before_ranks_the_providers_answer_first(
    storage: Storage,
) -> None:
    window = (START + FAULT_AFTER_S * SEC, RANGE.end or 0)
    found = compare(storage, "{ }", window)
    top = found.values[0]
    assert (top.attribute, top.value) in provider_values()
    assert top.score > 0 and top.attribute in ("span.error.type", "span.http.response.status_code")
