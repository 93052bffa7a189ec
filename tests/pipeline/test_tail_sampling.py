"""Tail sampling: policies and their combinations on hand-made traces, decision wait,
bounded memory, late spans, what survives a restart, and logs and metrics untouched.

Time is an injected clock moved by the tests; ``tick`` is called by hand (no background
task, no sleeping). Expected decisions are worked out by hand from the traces below.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from prometheus_client import CollectorRegistry, generate_latest

from otelite.api import TailSamplingMetrics
from otelite.errors import Overloaded, Unavailable
from otelite.pipeline import (
    InMemoryConsumer,
    PipelineFileError,
    TailSampler,
    TailSamplingSettings,
    parse_pipeline,
)
from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportTraceServiceRequest,
    Signal,
)

MS = 1_000_000
T0 = 1_700_000_000 * 10**9


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class S:
    """A span to send: its trace (a number), service, timing and what it carries."""

    trace: int
    span: int
    service: str = "shop"
    parent: int = 0
    start_ms: int = 0
    end_ms: int = 10
    error: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)
    resource: dict[str, Any] = field(default_factory=dict)


def trace_id(number: int) -> bytes:
    return number.to_bytes(16, "big")


def _kv(items: dict[str, Any]) -> list[KeyValue]:
    found = []
    for key, value in items.items():
        if isinstance(value, str):
            found.append(KeyValue(key=key, value=AnyValue(string_value=value)))
        elif isinstance(value, int):
            found.append(KeyValue(key=key, value=AnyValue(int_value=value)))
        else:
            found.append(KeyValue(key=key, value=AnyValue(double_value=value)))
    return found


def request(*spans: S) -> ExportTraceServiceRequest:
    """One resource per span (service and resource attributes), in the order given."""
    built = ExportTraceServiceRequest()
    for s in spans:
        resource_spans = built.resource_spans.add()
        resource_spans.resource.attributes.extend(_kv({"service.name": s.service, **s.resource}))
        scope = resource_spans.scope_spans.add()
        scope.scope.name = "test"
        scope.spans.append(
            Span(
                trace_id=trace_id(s.trace),
                span_id=s.span.to_bytes(8, "big"),
                parent_span_id=s.parent.to_bytes(8, "big") if s.parent else b"",
                name=f"op{s.span}",
                start_time_unix_nano=T0 + s.start_ms * MS,
                end_time_unix_nano=T0 + s.end_ms * MS,
                status=Status(code=Status.STATUS_CODE_ERROR if s.error else 0),
                attributes=_kv(s.attributes),
            )
        )
    return built


# Four traces, sent in this order:
#   1: shop, 2 spans, 100 ms, route /cart, status 200, env prod
#   2: pay, 2 spans, 50 ms, one span in error, status 503
#   3: shop, 1 span, 3 s, route /checkout, env staging
#   4: shop, 5 spans, 10 ms, retries 2.5
TRACES = [
    S(1, 11, end_ms=100, attributes={"http.route": "/cart", "http.status_code": 200}),
    S(1, 12, parent=11, resource={"deployment.environment": "prod"}),
    S(2, 21, service="pay", end_ms=50, attributes={"http.status_code": 503}),
    S(2, 22, service="pay", parent=21, error=True),
    S(3, 31, end_ms=3000, attributes={"http.route": "/checkout"}),
    S(3, 31, end_ms=3000, resource={"deployment.environment": "staging"}),
    *(S(4, 40 + n, parent=40 if n else 0, attributes={"retries": 2.5}) for n in range(5)),
]
# Trace 3's second entry shares the span id: two spans (same id, as a retrying SDK may
# send); the policies count it as 2 spans, which the span_count row relies on.


def string_policy(key: str, value: str) -> str:
    return (
        f"{{name: s, type: string_attribute, string_attribute: {{key: {key}, values: [{value}]}}}}"
    )


POLICY_TABLE = [
    ("{name: a, type: always_sample}", {1, 2, 3, 4}),
    ("{name: e, type: status_code, status_code: {status_codes: [ERROR]}}", {2}),
    ("{name: u, type: status_code, status_code: {status_codes: [UNSET]}}", {1, 2, 3, 4}),
    ("{name: l, type: latency, latency: {threshold_ms: 1000}}", {3}),
    ("{name: l, type: latency, latency: {threshold_ms: 1000, upper_threshold_ms: 2000}}", set()),
    ("{name: l, type: latency, latency: {threshold_ms: 50, upper_threshold_ms: 100}}", {1, 2}),
    ("{name: c, type: span_count, span_count: {min_spans: 5}}", {4}),
    ("{name: c, type: span_count, span_count: {min_spans: 2, max_spans: 2}}", {1, 2, 3}),
    (
        string_policy("http.route", "/checkout"),
        {3},
    ),
    (
        "{name: s, type: string_attribute, string_attribute: "
        "{key: http.route, values: ['^/c'], enabled_regex_matching: true}}",
        {1, 3},
    ),
    (
        "{name: s, type: string_attribute, string_attribute: "
        "{key: http.route, values: [/checkout], invert_match: true}}",
        {1, 2, 4},
    ),
    (
        "{name: r, type: string_attribute, string_attribute: "
        "{key: deployment.environment, values: [staging]}}",
        {3},
    ),
    (
        "{name: n, type: numeric_attribute, numeric_attribute: "
        "{key: http.status_code, min_value: 500, max_value: 599}}",
        {2},
    ),
    ("{name: n, type: numeric_attribute, numeric_attribute: {key: retries, min_value: 2}}", {4}),
    ("{name: p, type: probabilistic, probabilistic: {sampling_percentage: 0}}", set()),
    ("{name: p, type: probabilistic, probabilistic: {sampling_percentage: 100}}", {1, 2, 3, 4}),
    # Budgets per root service and second, spent in arrival order: shop's one trace is
    # trace 1; pay's is trace 2.
    ("{name: t, type: rate_limiting, rate_limiting: {traces_per_second: 1}}", {1, 2}),
    # shop: 1 (2 spans) + 3 (2 spans) = 4 fit, then 4 (5 spans) does not; pay: 2 fits.
    ("{name: t, type: rate_limiting, rate_limiting: {spans_per_second: 4}}", {1, 2, 3}),
    # Several policies: any one keeps.
    (
        "{name: e, type: status_code, status_code: {status_codes: [ERROR]}}\n"
        "      - {name: l, type: latency, latency: {threshold_ms: 1000}}",
        {2, 3},
    ),
    (
        "{name: both, type: and, and: {and_sub_policy: ["
        "{name: e, type: status_code, status_code: {status_codes: [ERROR]}}, "
        f"{string_policy('service.name', 'pay')}]}}}}",
        {2},
    ),
    (
        "{name: both, type: and, and: {and_sub_policy: ["
        "{name: l, type: latency, latency: {threshold_ms: 1000}}, "
        f"{string_policy('http.route', '/cart')}]}}}}",
        set(),
    ),
    # A drop wins over any keep.
    (
        "{name: a, type: always_sample}\n"
        "      - {name: d, type: drop, drop: {drop_sub_policy: ["
        f"{string_policy('http.route', '/cart')}]}}}}",
        {2, 3, 4},
    ),
]


def settings(policies: str, **options: Any) -> TailSamplingSettings:
    extra = "".join(f"    {key}: {value}\n" for key, value in options.items())
    text = f"processors:\n  tail_sampling:\n{extra}    policies:\n      - {policies}\n"
    found = parse_pipeline(text, "t.yaml").tail_sampling
    assert isinstance(found, TailSamplingSettings)
    return found


def sampler_for(
    chosen: TailSamplingSettings,
    clock: Clock,
    next_consumer: Any = None,
    log_dir: Path | None = None,
) -> TailSampler:
    return TailSampler(
        next_consumer if next_consumer is not None else InMemoryConsumer(),
        chosen,
        log_dir=log_dir,
        clock=clock,
        interval=None,
    )


def spans_in(found: Any) -> Iterator[tuple[str, Span]]:
    """Each span of a trace request with its service."""
    for resource_spans in found.resource_spans:
        service = resource_spans.resource.attributes[0].value.string_value
        for scope_spans in resource_spans.scope_spans:
            yield from ((service, span) for span in scope_spans.spans)


def stored_spans(consumer: InMemoryConsumer) -> Iterator[tuple[int, int, str]]:
    """(trace number, span number, service) of every span handed on."""
    for found in consumer.requests(Signal.TRACES):
        for service, span in spans_in(found):
            yield int.from_bytes(span.trace_id, "big"), int.from_bytes(span.span_id, "big"), service


def kept_traces(consumer: InMemoryConsumer) -> set[int]:
    return {trace for trace, _, _ in stored_spans(consumer)}


def spans_sent(traces: set[int]) -> list[tuple[int, int, str]]:
    return sorted((s.trace, s.span, s.service) for s in TRACES if s.trace in traces)


@pytest.mark.parametrize(("policies", "kept"), POLICY_TABLE, ids=[p for p, _ in POLICY_TABLE])
def test_policies_keep_whole_traces(policies: str, kept: set[int]) -> None:
    async def run() -> None:
        clock = Clock()
        consumer = InMemoryConsumer()
        sampler = sampler_for(settings(policies, decision_wait="10s"), clock, consumer)
        await sampler.start()
        # Two requests, cutting trace 1 in two: spans join their trace whichever request.
        await sampler.consume(Signal.TRACES, request(*TRACES[:1]))
        await sampler.consume(Signal.TRACES, request(*TRACES[1:]))
        clock.now += 10
        await sampler.tick()
        assert kept_traces(consumer) == kept
        assert sorted(stored_spans(consumer)) == spans_sent(kept)
        assert sampler.stats.kept == len(kept) and sampler.stats.dropped == 4 - len(kept)
        assert sampler.held_traces == 0
        await sampler.shutdown()

    asyncio.run(run())


def test_traces_wait_for_decision_wait_from_their_first_span() -> None:
    async def run() -> None:
        clock = Clock()
        consumer = InMemoryConsumer()
        chosen = settings("{name: a, type: always_sample}", decision_wait="10s")
        sampler = sampler_for(chosen, clock, consumer)
        await sampler.start()
        await sampler.consume(Signal.TRACES, request(S(1, 1)))
        clock.now += 5
        await sampler.consume(Signal.TRACES, request(S(1, 2, parent=1), S(2, 3)))
        clock.now += 4.999
        await sampler.tick()
        assert consumer.received == []
        clock.now += 0.001  # trace 1's first span came 10 s ago; trace 2's 5 s ago
        await sampler.tick()
        assert sampler.stats.kept == 1
        # Span 2 came with trace 2's first span: it is handed on with that request, once
        # trace 2 is decided too.
        assert sorted(stored_spans(consumer)) == [(1, 1, "shop")]
        clock.now += 5
        await sampler.tick()
        assert sampler.stats.kept == 2
        assert sorted(stored_spans(consumer)) == [(1, 1, "shop"), (1, 2, "shop"), (2, 3, "shop")]

    asyncio.run(run())


def test_per_policy_counts_reach_the_metrics() -> None:
    async def run() -> str:
        clock = Clock()
        chosen = settings(
            "{name: errors, type: status_code, status_code: {status_codes: [ERROR]}}\n"
            "      - {name: slow, type: latency, latency: {threshold_ms: 1000}}\n"
            "      - {name: no-cart, type: drop, drop: {drop_sub_policy: [{name: c, "
            "type: string_attribute, string_attribute: {key: http.route, values: [/cart]}}]}}",
            decision_wait="1s",
        )
        sampler = sampler_for(chosen, clock)
        await sampler.start()
        await sampler.consume(Signal.TRACES, request(*TRACES))
        clock.now += 1
        await sampler.tick()
        registry = CollectorRegistry()
        registry.register(TailSamplingMetrics(sampler))
        return generate_latest(registry).decode()

    text = asyncio.run(run())
    # errors matches 2 of 4; slow matches 3; the drop matches 1 (dropping it), so it
    # would keep the other 3. Kept overall: 2 and 3.
    for line in (
        'otelite_sampling_policy_traces_total{decision="kept",policy="errors"} 1.0',
        'otelite_sampling_policy_traces_total{decision="dropped",policy="errors"} 3.0',
        'otelite_sampling_policy_traces_total{decision="kept",policy="slow"} 1.0',
        'otelite_sampling_policy_traces_total{decision="dropped",policy="no-cart"} 1.0',
        'otelite_sampling_policy_traces_total{decision="kept",policy="no-cart"} 3.0',
        'otelite_sampling_traces_total{decision="kept"} 2.0',
        'otelite_sampling_traces_total{decision="dropped"} 2.0',
        "otelite_sampling_traces_decided_early_total 0.0",
        "otelite_sampling_held_traces 0.0",
    ):
        assert line in text.splitlines(), line


def test_beyond_num_traces_the_oldest_is_decided_early() -> None:
    async def run() -> None:
        clock = Clock()
        consumer = InMemoryConsumer()
        chosen = settings(
            "{name: e, type: status_code, status_code: {status_codes: [ERROR]}}",
            decision_wait="10s",
            num_traces=3,
        )
        sampler = sampler_for(chosen, clock, consumer)
        await sampler.start()
        # Traces 1..5 one after another; 1 and 4 fail.
        for number in range(1, 6):
            clock.now += 1
            await sampler.consume(Signal.TRACES, request(S(number, 1, error=number in (1, 4))))
            assert sampler.held_traces == min(number, 3)
        # 1 and 2 went early (1 kept at once); 3, 4, 5 wait.
        assert sampler.stats.decided_early == 2
        assert kept_traces(consumer) == {1}
        assert (sampler.stats.kept, sampler.stats.dropped) == (1, 1)
        # A span of trace 1 after its early decision follows it.
        await sampler.consume(Signal.TRACES, request(S(1, 2, parent=1)))
        assert sorted(stored_spans(consumer)) == [(1, 1, "shop"), (1, 2, "shop")]
        assert sampler.held_traces == 3
        clock.now += 10
        await sampler.tick()
        assert kept_traces(consumer) == {1, 4}
        assert sampler.stats.decided_early == 2

    asyncio.run(run())


def test_late_spans_follow_their_traces_decision_while_it_is_remembered() -> None:
    async def run() -> None:
        clock = Clock()
        consumer = InMemoryConsumer()
        chosen = settings(
            "{name: e, type: status_code, status_code: {status_codes: [ERROR]}}",
            decision_wait="10s",
            decision_cache="{sampled_cache_size: 1, non_sampled_cache_size: 1}",
        )
        sampler = sampler_for(chosen, clock, consumer)
        await sampler.start()
        await sampler.consume(Signal.TRACES, request(S(1, 1, error=True), S(2, 2)))
        clock.now += 10
        await sampler.tick()
        assert kept_traces(consumer) == {1}
        # Late: trace 1's goes on at once, trace 2's is dropped (no error of its own
        # needed either way).
        await sampler.consume(Signal.TRACES, request(S(1, 3, parent=1), S(2, 4, error=True)))
        assert sorted(stored_spans(consumer)) == [(1, 1, "shop"), (1, 3, "shop")]
        assert (sampler.stats.late_kept, sampler.stats.late_dropped) == (1, 1)
        assert sampler.held_traces == 0
        # Trace 5 kept pushes trace 1 out of the one-entry cache: a later span of trace 1
        # is a new trace, held and decided on its own (no error: dropped).
        await sampler.consume(Signal.TRACES, request(S(5, 5, error=True)))
        clock.now += 10
        await sampler.tick()
        await sampler.consume(Signal.TRACES, request(S(1, 6, parent=1)))
        assert sampler.held_traces == 1
        clock.now += 10
        await sampler.tick()
        assert sorted(stored_spans(consumer)) == [
            (1, 1, "shop"),
            (1, 3, "shop"),
            (5, 5, "shop"),
        ]

    asyncio.run(run())


def test_logs_and_metrics_pass_straight_through() -> None:
    async def run() -> None:
        consumer = InMemoryConsumer()
        chosen = settings("{name: p, type: probabilistic, probabilistic: {sampling_percentage: 0}}")
        sampler = sampler_for(chosen, Clock(), consumer)
        await sampler.start()
        logs = ExportLogsServiceRequest()
        logs.resource_logs.add().scope_logs.add().log_records.append(
            LogRecord(body=AnyValue(string_value="x"), trace_id=trace_id(1))
        )
        metrics = ExportMetricsServiceRequest()
        metrics.resource_metrics.add().scope_metrics.add().metrics.append(Metric(name="m"))
        await sampler.consume(Signal.LOGS, logs, tenant="t1")
        await sampler.consume(Signal.METRICS, metrics, tenant="t2")
        # The very requests, at once, tenant kept; nothing held.
        assert consumer.received == [(Signal.LOGS, logs, "t1"), (Signal.METRICS, metrics, "t2")]
        assert sampler.held_traces == 0

    asyncio.run(run())


def test_tenants_are_kept_apart() -> None:
    async def run() -> None:
        clock = Clock()
        consumer = InMemoryConsumer()
        chosen = settings("{name: e, type: status_code, status_code: {status_codes: [ERROR]}}")
        sampler = sampler_for(chosen, clock, consumer)
        await sampler.start()
        # The same trace id in two tenants: only tenant b's has an error.
        await sampler.consume(Signal.TRACES, request(S(1, 1)), tenant="a")
        await sampler.consume(Signal.TRACES, request(S(1, 2, error=True)), tenant="b")
        clock.now += 30
        await sampler.tick()
        assert [(tenant, kept_traces_of(r)) for _, r, tenant in consumer.received] == [
            ("b", {(1, 2)})
        ]

    asyncio.run(run())


def kept_traces_of(found: Any) -> set[tuple[int, int]]:
    return {
        (int.from_bytes(span.trace_id, "big"), int.from_bytes(span.span_id, "big"))
        for _, span in spans_in(found)
    }


class Refusing(InMemoryConsumer):
    """Refuses traces (overloaded) while ``refuse`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse = True

    async def consume(self, signal: Signal, request: Any, **options: Any) -> None:
        if self.refuse:
            raise Overloaded("full")
        await super().consume(signal, request, **options)


def test_kept_traces_refused_downstream_wait_and_are_handed_on_later(tmp_path: Path) -> None:
    async def run() -> None:
        clock = Clock()
        consumer = Refusing()
        chosen = settings("{name: a, type: always_sample}", decision_wait="1s")
        sampler = sampler_for(chosen, clock, consumer, tmp_path)
        await sampler.start()
        await sampler.consume(Signal.TRACES, request(S(1, 1), S(1, 2, parent=1)))
        clock.now += 1
        await sampler.tick()
        assert consumer.received == [] and sampler.held_traces == 1
        consumer.refuse = False
        await sampler.tick()
        assert sorted(stored_spans(consumer)) == [(1, 1, "shop"), (1, 2, "shop")]
        assert sampler.held_traces == 0
        await sampler.shutdown()
        # Handed on and recorded: the log is empty.
        assert list((tmp_path / "held").iterdir()) == []

    asyncio.run(run())


ERRORS = "{name: e, type: status_code, status_code: {status_codes: [ERROR]}}"


def test_held_spans_survive_a_crash_and_are_decided_after_a_fresh_wait(tmp_path: Path) -> None:
    async def run() -> None:
        clock = Clock()
        first = InMemoryConsumer()
        chosen = settings(ERRORS, decision_wait="10s")
        sampler = sampler_for(chosen, clock, first, tmp_path)
        await sampler.start()
        await sampler.consume(Signal.TRACES, request(S(1, 1, error=True), S(2, 2)))
        clock.now += 10
        await sampler.tick()  # 1 kept and handed on, 2 dropped
        await sampler.consume(Signal.TRACES, request(S(3, 3), S(4, 4)))
        await sampler.consume(Signal.TRACES, request(S(3, 5, parent=3, error=True)))
        assert kept_traces(first) == {1}
        # Crash: no shutdown. A new sampler on the same log.
        second = InMemoryConsumer()
        restarted = sampler_for(settings(ERRORS, decision_wait="10s"), clock, second, tmp_path)
        await restarted.start()
        assert restarted.held_traces == 2 and restarted.stats.replayed_traces == 2
        # Decisions still needed by the log are remembered: late spans follow them.
        await restarted.consume(Signal.TRACES, request(S(1, 6, parent=1), S(2, 7, error=True)))
        assert sorted(stored_spans(second)) == [(1, 6, "shop")]
        clock.now += 9.9
        await restarted.tick()
        assert sorted(stored_spans(second)) == [(1, 6, "shop")]  # a fresh wait
        clock.now += 0.1
        await restarted.tick()
        # Trace 3 whole (both of its requests), trace 1 never handed on again.
        assert sorted(stored_spans(second)) == [(1, 6, "shop"), (3, 3, "shop"), (3, 5, "shop")]
        await restarted.shutdown()

    asyncio.run(run())


def test_shutdown_keeps_held_spans_for_the_next_start(tmp_path: Path) -> None:
    async def run() -> None:
        clock = Clock()
        first = InMemoryConsumer()
        sampler = sampler_for(settings(ERRORS), clock, first, tmp_path)
        await sampler.start()
        await sampler.consume(Signal.TRACES, request(S(1, 1, error=True)))
        await sampler.shutdown()
        assert first.received == []
        second = InMemoryConsumer()
        restarted = sampler_for(settings(ERRORS), clock, second, tmp_path)
        await restarted.start()
        clock.now += 30
        await restarted.tick()
        assert sorted(stored_spans(second)) == [(1, 1, "shop")]
        await restarted.shutdown()
        # Everything settled: both logs are emptied, and decisions are forgotten.
        assert list((tmp_path / "held").iterdir()) == []
        assert list((tmp_path / "settled").iterdir()) == []
        third = InMemoryConsumer()
        again = sampler_for(settings(ERRORS), clock, third, tmp_path)
        await again.start()
        assert again.held_traces == 0
        await again.consume(Signal.TRACES, request(S(1, 2, parent=1)))
        assert third.received == [] and again.held_traces == 1

    asyncio.run(run())


def test_without_a_log_shutdown_decides_what_is_held() -> None:
    async def run() -> None:
        consumer = InMemoryConsumer()
        sampler = sampler_for(settings(ERRORS), Clock(), consumer)
        await sampler.start()
        await sampler.consume(Signal.TRACES, request(S(1, 1, error=True), S(2, 2)))
        await sampler.shutdown()
        assert kept_traces(consumer) == {1}
        assert sampler.stats.decided_early == 2

    asyncio.run(run())


BAD = [
    ("tail_sampling: {}\n", "t.yaml:2: processors.tail_sampling: policies: required"),
    (
        "tail_sampling:\n    policies: []\n",
        "t.yaml:3: processors.tail_sampling.policies: give at least one policy",
    ),
    (
        "tail_sampling:\n    decision_wait: soon\n    policies: [{name: a, type: always_sample}]\n",
        "t.yaml:3: processors.tail_sampling.decision_wait: must be a duration above 0",
    ),
    (
        "tail_sampling:\n    num_traces: 0\n    policies: [{name: a, type: always_sample}]\n",
        "t.yaml:3: processors.tail_sampling.num_traces: must be a whole number of at least 1",
    ),
    (
        "tail_sampling:\n    policies:\n      - {name: a, type: sometimes}\n",
        "t.yaml:4: processors.tail_sampling.policies[0].type: must be one of always_sample,",
    ),
    (
        "tail_sampling:\n    policies:\n      - {name: a, type: latency}\n",
        "t.yaml:4: processors.tail_sampling.policies[0]: latency: required for type latency",
    ),
    (
        "tail_sampling:\n    policies:\n      - {name: a, type: always_sample}\n"
        "      - {name: a, type: always_sample}\n",
        "t.yaml:5: processors.tail_sampling.policies[1]: name 'a' given twice",
    ),
    (
        "tail_sampling:\n    policies:\n      - name: p\n        type: probabilistic\n"
        "        probabilistic: {sampling_percentage: 150}\n",
        "t.yaml:6: processors.tail_sampling.policies[0].probabilistic.sampling_percentage: "
        "must be at least 0 and at most 100, got 150",
    ),
    (
        "tail_sampling:\n    policies:\n      - name: s\n        type: status_code\n"
        "        status_code: {status_codes: [FAILED]}\n",
        "t.yaml:6: processors.tail_sampling.policies[0].status_code.status_codes[0]: "
        "must be one of UNSET, OK, ERROR, got 'FAILED'",
    ),
    (
        "tail_sampling:\n    policies:\n      - name: s\n        type: latency\n"
        "        latency: {threshold_ms: 10}\n        status_code: {status_codes: [OK]}\n",
        "t.yaml:7: processors.tail_sampling.policies[0].status_code: does not go with type latency",
    ),
    (
        "tail_sampling:\n    policies:\n      - name: r\n        type: rate_limiting\n"
        "        rate_limiting: {spans_per_second: 5, traces_per_second: 1}\n",
        "t.yaml:6: processors.tail_sampling.policies[0].rate_limiting: give one of "
        "spans_per_second, traces_per_second",
    ),
    (
        "tail_sampling:\n    policies:\n      - name: s\n        type: string_attribute\n"
        "        string_attribute: {key: k, values: ['('], enabled_regex_matching: true}\n",
        "t.yaml:6: processors.tail_sampling.policies[0].string_attribute.values: '(' is not "
        "a regular expression",
    ),
    (
        "tail_sampling:\n    policies:\n      - name: n\n        type: numeric_attribute\n"
        "        numeric_attribute: {key: k, min_value: 5, max_value: 1}\n",
        "t.yaml:6: processors.tail_sampling.policies[0].numeric_attribute.max_value: must "
        "not be below min_value",
    ),
    (
        "tail_sampling:\n    policies:\n      - name: both\n        type: and\n"
        "        and: {and_sub_policy: [{name: x, type: drop}]}\n",
        "t.yaml:6: processors.tail_sampling.policies[0].and.and_sub_policy[0].type: must be one of",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_tail_sampling_names_the_line_and_the_key(text: str, message: str) -> None:
    with pytest.raises(PipelineFileError) as caught:
        parse_pipeline(f"processors:\n  {text}", "t.yaml")
    assert str(caught.value).startswith(message), str(caught.value)


def test_otelite_pipeline_check_says_what_tail_sampling_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from otelite.cli import main

    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    text = (
        "processors:\n  tail_sampling:\n    decision_wait: 10s\n    policies:\n"
        f"      - {ERRORS}\n"
        "      - {name: some, type: probabilistic, probabilistic: {sampling_percentage: 10}}\n"
    )
    good.write_text(text)
    bad.write_text(text.replace("10s", "-1s"))
    assert main(["pipeline", "check", str(good)]) == 0
    assert capsys.readouterr().out == (
        f"{good}: ok\n  tail_sampling: decision_wait 10s, num_traces 50000, policies e, some\n"
    )
    assert main(["pipeline", "check", str(bad)]) == 1
    assert capsys.readouterr().err.startswith(
        f"otelite: error: {bad}:3: processors.tail_sampling.decision_wait: must be a duration"
    )


@pytest.mark.parametrize("durable", [False, True], ids=["memory", "log"])
def test_after_shutdown_spans_are_refused_not_taken(tmp_path: Path, durable: bool) -> None:
    # A request coming in while otelite stops (a Loki push on the query port, say) must
    # be refused: nothing would hold it any more.
    async def run() -> None:
        consumer = InMemoryConsumer()
        sampler = sampler_for(settings(ERRORS), Clock(), consumer, tmp_path if durable else None)
        with pytest.raises(Unavailable):
            await sampler.consume(Signal.TRACES, request(S(1, 1)))
        await sampler.start()
        await sampler.shutdown()
        with pytest.raises(Unavailable, match="not running"):
            await sampler.consume(Signal.TRACES, request(S(1, 1, error=True)))
        await sampler.consume(Signal.LOGS, ExportLogsServiceRequest())  # not held: passes
        assert sampler.held_traces == 0 and len(consumer.received) == 1

    asyncio.run(run())


@pytest.mark.parametrize(
    ("wait", "tick"), [("30s", 1.0), ("10s", 1.0), ("5s", 0.5), ("1s", 0.1), ("100ms", 0.05)]
)
def test_due_traces_are_decided_each_second_or_each_tenth_of_a_shorter_wait(
    wait: str, tick: float
) -> None:
    assert settings(ERRORS, decision_wait=wait).tick_seconds == pytest.approx(tick)
