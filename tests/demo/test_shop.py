"""The shop: deterministic, shaped like the topology, valid OTLP, faithful to its scenarios."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict

import pytest

from otelite.demo import SERVICES, Shop, generate_batches
from otelite.otlp._validate import validate
from otelite.types import (
    ExportMetricsServiceRequest,
    ExportTraceServiceRequest,
    Signal,
)
from tests.demo.support import START, FlatSpan, attrs, logs_of, spans_of, stepping_clock, take

SERVER, CLIENT, PRODUCER, CONSUMER = 2, 3, 4, 5


def _shop(**options: object) -> Shop:
    return Shop(clock=stepping_clock(), **options)  # type: ignore[arg-type]


def _traces(shop: Shop, n: int = 6) -> list[FlatSpan]:
    return spans_of(take(shop.batches(Signal.TRACES), n))


def test_same_seed_and_clock_give_identical_requests() -> None:
    for signal in Signal:
        first = [b.body for b in take(_shop(seed=5).batches(signal), 3)]
        again = [b.body for b in take(_shop(seed=5).batches(signal), 3)]
        other = [b.body for b in take(_shop(seed=6).batches(signal), 3)]
        assert first == again
        assert first != other


def test_traces_and_logs_come_in_requests_of_exactly_batch_size() -> None:
    shop = _shop(batch_size=123)
    for signal in (Signal.TRACES, Signal.LOGS):
        for batch in take(shop.batches(signal), 4):
            assert batch.items == 123
            request = batch.request()
            items = sum(
                len(getattr(scope, "spans" if signal is Signal.TRACES else "log_records"))
                for resource in getattr(
                    request, f"resource_{'spans' if signal is Signal.TRACES else 'logs'}"
                )
                for scope in getattr(
                    resource, f"scope_{'spans' if signal is Signal.TRACES else 'logs'}"
                )
            )
            assert items == 123


@pytest.mark.parametrize("signal", list(Signal))
@pytest.mark.parametrize(
    "scenario", [None, "slow-database", "failing-payment-provider", "bad-deploy"]
)
def test_every_request_passes_validation(signal: Signal, scenario: str | None) -> None:
    for request in take(generate_batches(signal, seed=3, batch_size=400, scenario=scenario), 8):
        assert validate(signal, request).message == ""


def test_generate_batches_has_timestamps_near_now() -> None:
    import time

    request = next(generate_batches(Signal.TRACES))
    assert isinstance(request, ExportTraceServiceRequest)
    now = time.time_ns()
    for resource in request.resource_spans:
        for span in resource.scope_spans[0].spans:
            assert now - 60 * 10**9 < span.start_time_unix_nano <= span.end_time_unix_nano
            assert span.end_time_unix_nano < now + 10 * 10**9


def test_every_service_reports_and_calls_follow_the_topology() -> None:
    spans = _traces(_shop(seed=2), 10)
    assert {s.service for s in spans} == {s.name for s in SERVICES}
    by_id = {s.span.span_id: s for s in spans}
    edges = set()
    for s in spans:
        parent = by_id.get(s.span.parent_span_id)
        if parent is not None and parent.service != s.service:
            edges.add((parent.service, s.service))
    # Each cross-service edge goes from a client span to the callee's server span.
    assert edges == {
        ("web-frontend", "api-gateway"),
        ("mobile-app", "api-gateway"),
        ("api-gateway", "bff"),
        ("bff", "catalog"),
        ("bff", "inventory"),
        ("bff", "order"),
        ("order", "inventory"),
        ("order", "payment"),
        ("order", "shipping"),
    }
    for s in spans:
        parent = by_id.get(s.span.parent_span_id)
        if parent is not None:
            assert parent.span.trace_id == s.span.trace_id
            assert parent.span.start_time_unix_nano <= s.span.start_time_unix_nano
            assert s.span.end_time_unix_nano <= parent.span.end_time_unix_nano
            if parent.service != s.service:
                assert (parent.span.kind, s.span.kind) == (CLIENT, SERVER)
    roots = [s for s in spans if not s.span.parent_span_id]
    assert {s.service for s in roots} == {"web-frontend", "mobile-app", "shipping"}


def test_consumer_spans_are_linked_to_their_producer_across_the_broker() -> None:
    spans = _traces(_shop(seed=2), 10)
    producers = {s.span.span_id: s for s in spans if s.span.kind == PRODUCER}
    consumers = [s for s in spans if s.span.kind == CONSUMER]
    assert producers and consumers
    linked = 0
    for consumer in consumers:
        assert not consumer.span.parent_span_id  # a trace of its own
        (link,) = consumer.span.links
        producer = producers.get(link.span_id)
        if producer is None:
            continue  # its producer went out in an earlier request
        linked += 1
        assert link.trace_id == producer.span.trace_id != consumer.span.trace_id
        assert producer.span.end_time_unix_nano <= consumer.span.start_time_unix_nano
        assert (
            consumer.attributes["messaging.destination.partition.id"]
            == (producer.attributes["messaging.destination.partition.id"])
        )
    assert linked >= len(consumers) - 1


def test_a_failed_payment_compensates_the_reserved_stock() -> None:
    spans = _traces(_shop(seed=4, scenario="failing-payment-provider"), 10)
    by_trace: dict[bytes, list[FlatSpan]] = defaultdict(list)
    for s in spans:
        by_trace[s.span.trace_id].append(s)
    failed_charges = 0
    for trace in by_trace.values():
        charge = [
            s
            for s in trace
            if s.span.name.endswith("PaymentService/Charge") and s.span.kind == SERVER
        ]
        if not charge or charge[0].span.status.code != 2:
            continue
        failed_charges += 1
        names = [s.span.name for s in trace]
        (compensate,) = [s for s in trace if s.span.name == "compensate PlaceOrder"]
        assert compensate.attributes["shop.saga.failed_step"] == "Charge"
        children = [s for s in trace if s.span.parent_span_id == compensate.span.span_id]
        assert [c.span.name for c in children] == [
            "shop.inventory.v1.InventoryService/Release",
            "UPDATE orders",
        ]
        assert "send orders" not in names  # no order event for a failed order
        assert "shop.shipping.v1.ShippingService/Schedule" not in names
    assert failed_charges >= 5


def test_circuit_breaker_goes_closed_open_half_open_in_order() -> None:
    # One span per request, payment only: spans arrive in the order they were simulated.
    # 20 ms per request: the breaker's 5 s cooldown passes every 250 requests.
    shop = Shop(
        seed=1,
        scenario="failing-payment-provider",
        services=["payment"],
        batch_size=1,
        clock=stepping_clock(step_ms=20),
    )
    transitions = []
    states_on_calls = set()
    for s in spans_of(take(shop.batches(Signal.TRACES), 1500)):
        if s.span.name == "POST /v1/charges":
            states_on_calls.add(s.attributes["shop.circuit_breaker.state"])
        for event in s.span.events:
            if event.name == "circuit_breaker.state_change":
                a = attrs(event.attributes)
                transitions.append(
                    (a["shop.circuit_breaker.previous_state"], a["shop.circuit_breaker.state"])
                )
    assert transitions[0] == ("closed", "open")
    for (_, after), (before, _) in itertools.pairwise(transitions):
        assert after == before
    assert set(transitions) == {
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
        ("half_open", "closed"),
    }
    assert states_on_calls == {"closed", "half_open"}  # an open breaker makes no calls


def test_retries_back_off_and_count_resends() -> None:
    spans = _traces(_shop(seed=4, scenario="failing-payment-provider"), 10)
    calls: dict[bytes, list[FlatSpan]] = defaultdict(list)
    for s in spans:
        if s.span.name == "POST /v1/charges":
            calls[s.span.parent_span_id].append(s)
    retried = [c for c in calls.values() if len(c) == 3]
    assert retried
    for attempts in retried:
        assert [a.attributes.get("http.request.resend_count") for a in attempts] == [None, 1, 2]
        for before, after in itertools.pairwise(attempts):
            gap = after.span.start_time_unix_nano - before.span.end_time_unix_nano
            assert 0 < gap < 1_000_000_000


def _complete(shop: Shop, requests: int) -> list[FlatSpan]:
    """The spans of ``requests`` whole user actions."""
    for _ in range(requests):
        shop.simulate()
    return spans_of(b for b in shop.flush() if b.signal is Signal.TRACES)


def test_cache_aside_reads_hit_and_miss() -> None:
    spans = _complete(_shop(seed=2), 400)
    children: dict[bytes, list[FlatSpan]] = defaultdict(list)
    for s in spans:
        children[s.span.parent_span_id].append(s)
    outcomes = set()
    for catalog in (s for s in spans if s.service == "catalog" and s.span.kind == SERVER):
        calls = children[catalog.span.span_id]
        assert calls[0].span.name == "GET"
        hit = calls[0].attributes["shop.cache.hit"]
        outcomes.add(hit)
        names = [c.span.name for c in calls]
        if hit:
            assert names == ["GET"]
        elif calls[1].span.status.code != 2:  # a database error leaves the cache alone
            assert names == ["GET", "SELECT products", "SET"]
    assert outcomes == {True, False}


def test_the_bulkhead_rejects_during_a_load_spike() -> None:
    # The load spikes from 60 s to 70 s into every two minutes.
    shop = Shop(seed=1, clock=stepping_clock(step_ms=40), services=["api-gateway"])
    codes_by_phase: dict[bool, list[object]] = defaultdict(list)
    for s in _traces(shop, 8):
        if s.span.kind == SERVER:
            t = (s.span.end_time_unix_nano - START) / 1e9 % 120
            if min(abs(t - 60), abs(t - 70)) > 0.1:  # the span ends just before its request
                codes_by_phase[60 <= t < 70].append(s.attributes["http.response.status_code"])
    assert 429 not in codes_by_phase[False]
    assert codes_by_phase[True].count(429) > len(codes_by_phase[True]) / 5


def test_spans_use_the_stable_semantic_convention_names() -> None:
    spans = _traces(_shop(seed=2), 6)
    keys = {k for s in spans for k in s.attributes}
    assert {
        "http.request.method",
        "http.response.status_code",
        "http.route",
        "url.path",
        "url.full",
        "server.address",
        "server.port",
        "db.system.name",
        "db.query.text",
        "db.operation.name",
        "db.collection.name",
        "messaging.system",
        "messaging.operation.type",
        "messaging.destination.name",
        "rpc.system",
        "rpc.service",
        "rpc.method",
        "rpc.grpc.status_code",
    } <= keys
    deprecated = {"http.method", "http.status_code", "http.url", "db.system", "db.statement"}
    assert not keys & deprecated
    for s in spans:
        if s.attributes.get("rpc.system"):
            assert s.span.name == f"{s.attributes['rpc.service']}/{s.attributes['rpc.method']}"
        if s.attributes.get("db.system.name") == "postgresql":
            assert s.span.kind == CLIENT
    attributes_per_span = statistics.mean(len(s.span.attributes) for s in spans)
    bytes_per_span = statistics.mean(s.span.ByteSize() for s in spans)
    assert 8 <= attributes_per_span <= 12
    assert 350 <= bytes_per_span <= 600
    errors = [s for s in spans if s.span.status.code == 2]
    exceptions = [e for s in spans for e in s.span.events if e.name == "exception"]
    assert errors and exceptions
    for event in exceptions:
        assert {"exception.type", "exception.message", "exception.stacktrace"} <= set(
            attrs(event.attributes)
        )


def test_resources_describe_each_service_instance() -> None:
    batch = next(_shop(seed=2).batches(Signal.TRACES))
    request = batch.request()
    assert isinstance(request, ExportTraceServiceRequest)
    for resource in request.resource_spans:
        a = attrs(resource.resource.attributes)
        assert a["deployment.environment.name"] == "production"
        assert {"service.name", "service.version"} <= set(a)
        if a["service.name"] not in ("web-frontend", "mobile-app"):
            assert {"host.name", "k8s.pod.name", "service.instance.id"} <= set(a)


def test_logs_are_correlated_with_spans_at_several_severities() -> None:
    shop = _shop(seed=2, batch_size=2000, signals=(Signal.TRACES, Signal.LOGS))
    for _ in range(300):
        shop.simulate()
    batches = shop.flush()
    spans = {s.span.span_id: s for s in spans_of(b for b in batches if b.signal is Signal.TRACES)}
    logs = logs_of(b for b in batches if b.signal is Signal.LOGS)
    assert len(logs) > 300
    for service, record in logs:
        span = spans[record.span_id]
        assert span.span.trace_id == record.trace_id
        assert span.service == service
        assert span.span.start_time_unix_nano <= record.time_unix_nano
    severities = {record.severity_text for _, record in logs}
    assert severities == {"DEBUG", "INFO", "WARN", "ERROR"}
    stack = [r for _, r in logs if "exception.stacktrace" in attrs(r.attributes)]
    assert stack


def test_metrics_hold_histograms_counters_gauges_and_an_exponential_histogram() -> None:
    shop = _shop(seed=2)
    request = next(shop.batches(Signal.METRICS)).request()
    assert isinstance(request, ExportMetricsServiceRequest)
    kinds: dict[str, set[str]] = defaultdict(set)
    for resource in request.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                kinds[str(metric.WhichOneof("data"))].add(metric.name)
    assert "http.server.request.duration" in kinds["histogram"]
    assert "db.client.operation.duration" in kinds["histogram"]
    assert "http.client.request.duration" in kinds["exponential_histogram"]
    assert {"shop.bulkhead.in_flight", "shop.circuit_breaker.state"} <= kinds["gauge"]
    assert {"shop.orders", "process.memory.usage"} <= kinds["sum"]


def test_cumulative_histograms_only_grow() -> None:
    shop = _shop(seed=2)
    first, second = (b.request() for b in (shop.metrics(), shop.metrics()))
    assert isinstance(first, ExportMetricsServiceRequest)
    assert isinstance(second, ExportMetricsServiceRequest)

    def counts(request: ExportMetricsServiceRequest) -> dict[tuple[str, str, str], int]:
        found = {}
        for resource in request.resource_metrics:
            pod = str(attrs(resource.resource.attributes)["k8s.pod.name"])
            for metric in resource.scope_metrics[0].metrics:
                if metric.WhichOneof("data") == "histogram":
                    for point in metric.histogram.data_points:
                        assert point.count == sum(point.bucket_counts)
                        found[pod, metric.name, str(attrs(point.attributes))] = point.count
        return found

    before, after = counts(first), counts(second)
    assert before.keys() == after.keys()
    assert all(after[k] >= before[k] for k in before)


def _median_db_ms(spans: list[FlatSpan]) -> float:
    return statistics.median(
        s.duration / 1e6 for s in spans if s.attributes.get("db.system.name") == "postgresql"
    )


def test_slow_database_slows_database_spans() -> None:
    normal = _median_db_ms(_traces(_shop(seed=9), 6))
    slow = _median_db_ms(_traces(_shop(seed=9, scenario="slow-database"), 6))
    assert slow > 4 * normal


def test_bad_deploy_changes_the_catalog_version_mid_run_and_slows_it() -> None:
    shop = _shop(seed=9, scenario="bad-deploy", fault_after=0.5)  # 500 requests in
    spans = _traces(shop, 40)
    catalog = [s for s in spans if s.service == "catalog" and s.span.kind == SERVER]
    versions = [s.version for s in catalog]
    switch = versions.index("1.9.0")
    assert set(versions[:switch]) == {"1.8.3"} and set(versions[switch:]) == {"1.9.0"}
    before = statistics.median(s.duration for s in catalog[:switch])
    after = statistics.median(s.duration for s in catalog[switch:])
    assert after > 2 * before
    others = {s.version for s in spans if s.service == "order"}
    assert others == {"4.11.2"}


def test_services_limit_who_reports() -> None:
    spans = _traces(_shop(seed=2, services=["order", "payment"]), 3)
    assert {s.service for s in spans} == {"order", "payment"}
    request = next(_shop(services=["catalog"]).batches(Signal.METRICS)).request()
    assert isinstance(request, ExportMetricsServiceRequest)
    services = {attrs(r.resource.attributes)["service.name"] for r in request.resource_metrics}
    assert services == {"catalog"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"services": ["nope"]}, "unknown services"),
        ({"scenario": "meteor"}, "unknown scenario"),
        ({"error_rate": 2.0}, "error_rate"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_options_say_what_is_wrong(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Shop(**options)  # type: ignore[arg-type]
