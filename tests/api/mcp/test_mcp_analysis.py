"""The MCP server's analysis tools (service map, critical paths, comparisons, SLOs, alerts,
deploys), called with the MCP SDK's client over Streamable HTTP on both backends.

Two stores per backend: the demo shop with a failing payment provider (with an SLO
evaluator, for the SLO and alert tools), and a few minutes of the shop's ``bad-deploy``
scenario (catalog 1.9.0 replaces 1.8.3). Expected answers are computed from the spans the
shop generated.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import httpx
import pytest
from mcp import Client
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.analysis import SloCatalog, SloEvaluator
from otelite.demo import Batch, Shop
from otelite.storage import WriteBatch
from otelite.types import Signal
from tests.analysis.test_slo_api import SLO
from tests.backends import BACKENDS, store
from tests.demo.support import FlatSpan, spans_of

from .support import (
    SEC,
    Shopped,
    answer,
    call,
    error,
    every_item,
    fill,
    over_http,
    served,
    shop_telemetry,
    text,
)

TOOLS = {
    "service_map",
    "critical_path",
    "compare_traces",
    "compare_groups",
    "slo_status",
    "firing_alerts",
    "recent_deployments",
}
FAILING_PAYMENT = '{ resource.service.name = "payment" && status = error }'
DEPLOY_AFTER_S = 90
DEPLOY_RUN_S = 180


@cache
def shopped() -> Shopped:
    return shop_telemetry()


@cache
def spans() -> list[FlatSpan]:
    return spans_of(b for b in shopped().batches if b.signal is Signal.TRACES)


@cache
def deploy_batches() -> list[Batch]:
    """Three simulated minutes of ``bad-deploy`` that ended about half an hour ago, the
    new catalog version deployed half way."""
    start = time.time_ns() - 33 * 60 * SEC
    ticks = itertools.count(start, SEC // 10)  # ten user actions a second
    now = start

    def clock() -> int:
        nonlocal now
        now = next(ticks)
        return now

    shop = Shop(
        seed=7,
        scenario="bad-deploy",
        fault_after=DEPLOY_AFTER_S,
        clock=clock,
        signals=(Signal.TRACES,),
    )
    while now < start + DEPLOY_RUN_S * SEC:
        shop.simulate()
    return shop.flush()


@dataclass(frozen=True)
class Shopping:
    url: str
    evaluator: SloEvaluator


@pytest.fixture(scope="module", params=BACKENDS)
def shop(request: pytest.FixtureRequest) -> Iterator[Shopping]:
    with store(request.param) as opened:
        fill(opened, shopped())
        evaluator = SloEvaluator(SloCatalog(None), lambda tenant: opened)
        with served(opened, slo_evaluator=evaluator) as server:
            yield Shopping(server.url, evaluator)


@pytest.fixture(scope="module", params=BACKENDS)
def deployed(request: pytest.FixtureRequest) -> Iterator[str]:
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[b.request() for b in deploy_batches()]))  # type: ignore[misc]
        with served(opened) as server:
            yield server.url


def is_error(span: Span) -> bool:
    return span.status.code == Status.STATUS_CODE_ERROR


def is_request(span: Span) -> bool:
    """A request to a service: a server or consumer span, or a root span."""
    return span.kind in (Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CONSUMER) or not span.parent_span_id


def by_trace(found: list[FlatSpan]) -> dict[str, list[FlatSpan]]:
    traces: dict[str, list[FlatSpan]] = defaultdict(list)
    for f in found:
        traces[f.span.trace_id.hex()].append(f)
    return traces


def ns_of(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 10**9)


def test_the_analysis_tools_are_listed_and_take_queries_as_text(shop: Shopping) -> None:
    async def work(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in over_http(shop.url, work)}
    assert set(tools) >= TOOLS
    for name in TOOLS:
        tool = tools[name]
        assert tool.description and len(tool.description) > 80, name
        assert tool.annotations is not None and tool.annotations.read_only_hint
        assert {"max_chars", "cursor"} <= set(tool.input_schema["properties"]), name
    groups = tools["compare_groups"].input_schema["properties"]
    # Plain strings: the SDK leaves them as text, whatever they look like.
    assert groups["selection"]["type"] == groups["baseline"]["type"] == "string"
    assert "{ status = error } !< { status = error }" in groups["selection"]["description"]
    assert "!<" in (tools["compare_groups"].description or "")
    assert tools["critical_path"].input_schema["properties"]["query"]["type"] == "string"


def service_calls() -> Counter[tuple[str, str]]:
    """Requests from one service to another: a server or consumer span whose parent
    span is in another service, by (caller, callee)."""
    service_of = {f.span.span_id: f.service for f in spans()}
    return Counter(
        (service_of[f.span.parent_span_id], f.service)
        for f in spans()
        if f.span.kind in (Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CONSUMER)
        and f.span.parent_span_id in service_of
        and service_of[f.span.parent_span_id] != f.service
    )


def test_the_service_map_has_the_calls_between_services_worst_first(shop: Shopping) -> None:
    found = answer(call(shop.url, "service_map", {"max_chars": 100_000}))
    services = {f.service for f in spans()}
    edges = found["edges"]
    assert found["total"] == len(edges) and "more" not in found
    between = {(e["client"], e["server"]) for e in edges if e["server"] in services}
    assert between == set(service_calls())
    # Every other edge goes from a service to something that sent no spans (a database,
    # the payment provider).
    assert all(e["client"] in services for e in edges)
    nodes = {n["name"]: n for n in found["nodes"]}
    assert set(nodes) == services | {e["server"] for e in edges}
    assert {n for n, node in nodes.items() if node["kind"] == "service"} == services
    # Worst first: by error rate, then by p99.
    keys = [(e["errorRate"], e["p99Ms"] or 0) for e in edges]
    assert keys == sorted(keys, reverse=True)
    # The calls from order to payment fail most: the provider fails 85% of attempts.
    service_of = {f.span.span_id: f.service for f in spans()}
    failed = Counter(
        (service_of[f.span.parent_span_id], f.service)
        for f in spans()
        if is_error(f.span) and f.span.parent_span_id in service_of
    )
    calls = service_calls()
    worst = max(calls, key=lambda pair: failed[pair] / calls[pair])
    assert worst == ("order", "payment")
    assert (edges[0]["client"], edges[0]["server"]) == worst


def test_the_service_map_of_one_service_and_a_misspelt_one(shop: Shopping) -> None:
    found = answer(call(shop.url, "service_map", {"service": "payment"}))
    touching = {pair for pair in service_calls() if "payment" in pair}
    edges = found["edges"]
    assert edges and all("payment" in (e["client"], e["server"]) for e in edges)
    assert touching <= {(e["client"], e["server"]) for e in edges}
    refused = error(call(shop.url, "service_map", {"service": "paymnet"}))
    assert "did you mean 'payment'" in refused


def test_a_cut_service_map_continues_with_its_cursor(shop: Shopping) -> None:
    whole = answer(call(shop.url, "service_map", {"max_chars": 100_000}))["edges"]
    seen: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"max_chars": 1000}
    pages = 0
    while True:
        result = call(shop.url, "service_map", arguments)
        found = answer(result)
        assert len(text(result)) <= 1000 or len(found["edges"]) == 1
        assert ("nodes" in found) == (pages == 0)  # the nodes come once
        seen += found["edges"]
        pages += 1
        if "more" not in found:
            break
        assert found["more"]["left"] == len(whole) - len(seen)
        arguments = {"cursor": found["more"]["cursor"]}
    assert pages > 2 and seen == whole


def test_the_critical_path_of_failing_payments_against_the_rest(shop: Shopping) -> None:
    failing = {
        f.span.trace_id.hex() for f in spans() if f.service == "payment" and is_error(f.span)
    }
    assert len(failing) > 5
    found = answer(
        call(
            shop.url, "critical_path", {"query": FAILING_PAYMENT, "limit": 5, "max_chars": 100_000}
        )
    )
    assert found["selection"]["traces"] == 5 and found["selection"]["query"] == FAILING_PAYMENT
    assert found["baseline"]["others"] is True
    assert any(n.startswith("selection: more traces matched than `limit`") for n in found["cut"])
    operations = found["operations"]
    assert found["total"] == len(operations) == found["operationCount"]
    known = {(f.service, f.span.name) for f in spans()}
    assert {(o["service"], o["name"]) for o in operations} <= known
    # Each example of the selection's operations is a trace with a failing payment span.
    for operation in operations:
        if operation["traces"]:
            assert operation["exampleTraceId"] in failing
        assert operation["difference"] == pytest.approx(
            operation["share"] - operation["baselineShare"], abs=2e-4
        )
    assert sum(o["share"] for o in operations) == pytest.approx(1, abs=1e-3)
    # Ranked by share of the selection's critical-path time.
    shares = [o["share"] for o in operations]
    assert shares == sorted(shares, reverse=True)
    # The traces where payment failed wait on payment: it is on their critical path.
    assert any(o["service"] == "payment" and o["share"] > 0 for o in operations)


def test_the_critical_path_against_an_earlier_period(shop: Shopping) -> None:
    arguments = {
        "query": FAILING_PAYMENT,
        "baseline_start": "now-3h",
        "baseline_end": "now-2h",
        "max_chars": 1000,
    }
    found = answer(call(shop.url, "critical_path", arguments))
    # The same query in a period with no spans: no baseline traces, every share new.
    baseline = found["baseline"]
    assert baseline["query"] == FAILING_PAYMENT and baseline["traces"] == 0
    assert ns_of(baseline["end"]) - ns_of(baseline["start"]) == pytest.approx(3600e9, abs=1e6)
    assert "start" not in found["selection"]
    # The continuation keeps the baseline period as pinned.
    rest = answer(call(shop.url, "critical_path", {"cursor": found["more"]["cursor"]}))
    assert rest["baseline"] == baseline and rest["offset"] == len(found["operations"])
    assert all(o["baselineShare"] == 0 for o in found["operations"] + rest["operations"])


def test_a_bad_query_is_a_tool_error_naming_the_argument_and_where(shop: Shopping) -> None:
    refused = error(call(shop.url, "critical_path", {"query": "{ status = }"}))
    assert "query: invalid TraceQL query: parse error at line 1, col 12" in refused, refused
    refused = error(call(shop.url, "critical_path", {"baseline": "{ status = }"}))
    assert "baseline: invalid TraceQL query: parse error at line 1, col 12" in refused
    refused = error(call(shop.url, "compare_groups", {"selection": "{ status = }"}))
    assert "selection: parse error at line 1, col 12" in refused, refused
    assert "{ status = }" in refused
    refused = error(call(shop.url, "critical_path", {"baseline_start": "2h"}))
    assert "baseline_start, baseline_end: give both or neither" in refused
    assert "selection: required" in error(call(shop.url, "compare_groups", {}))


def test_where_errors_start_sets_payment_apart(shop: Shopping) -> None:
    selection = "{ status = error } !< { status = error }"
    found = answer(call(shop.url, "compare_groups", {"selection": selection}))
    # Where errors start: failing spans none of whose children failed.
    failing_parents = {f.span.parent_span_id for f in spans() if is_error(f.span)}
    origins = [f for f in spans() if is_error(f.span) and f.span.span_id not in failing_parents]
    assert found["selection"] == {"query": selection, "spans": len(origins)}
    assert found["baseline"]["spans"] == len(spans()) - len(origins)
    top = [(v["attribute"], v["value"]) for v in found["values"][:3]]
    assert ("resource.service.name", "payment") in top
    payment = next(v for v in found["values"] if v["value"] == "payment")
    from_payment = sum(f.service == "payment" for f in origins)
    assert payment["selectionCount"] == from_payment
    assert payment["selectionShare"] == pytest.approx(from_payment / len(origins), abs=1e-4)
    rest = sum(f.service == "payment" for f in spans()) - from_payment
    assert payment["baselineCount"] == rest


def test_a_group_query_that_looks_like_json_stays_traceql(shop: Shopping) -> None:
    found = answer(
        call(shop.url, "compare_groups", {"selection": "{ status = error }", "baseline": "{ }"})
    )
    errors = sum(is_error(f.span) for f in spans())
    # A span that meets both queries is in the selection.
    assert found["selection"]["spans"] == errors
    assert found["baseline"] == {"query": "{ }", "spans": len(spans()) - errors}


def paths(trace: list[FlatSpan]) -> Counter[tuple[str, ...]]:
    """Each span's path: the service and name of every span from the root down to it."""
    by_id = {f.span.span_id: f for f in trace}

    def path(f: FlatSpan) -> tuple[str, ...]:
        above = by_id.get(f.span.parent_span_id)
        return (*(path(above) if above else ()), f"{f.service}: {f.span.name}")

    return Counter(path(f) for f in trace)


def test_two_traces_compare_by_what_changed(shop: Shopping) -> None:
    traces = by_trace(spans())
    roots = {t: next(f for f in s if not f.span.parent_span_id) for t, s in traces.items()}

    def failed(t: str) -> bool:
        return any(f.service == "payment" and is_error(f.span) for f in traces[t])

    # A checkout that went through and one whose payment failed, of the same root.
    kinds = Counter((roots[t].service, roots[t].span.name) for t in traces if failed(t))
    kind = kinds.most_common(1)[0][0]
    same_kind = sorted(t for t in traces if (roots[t].service, roots[t].span.name) == kind)
    a = max(
        (t for t in same_kind if not any(is_error(f.span) for f in traces[t])),
        key=lambda t: len(traces[t]),
    )
    b = max((t for t in same_kind if failed(t)), key=lambda t: len(traces[t]))
    found = answer(call(shop.url, "compare_traces", {"a": a, "b": b, "max_chars": 100_000}))
    assert (found["a"]["spans"], found["b"]["spans"]) == (len(traces[a]), len(traces[b]))
    in_a, in_b = paths(traces[a]), paths(traces[b])
    changed = {(*n["under"], f"{n['service']}: {n['operation']}"): n for n in found["changed"]}
    # Every path whose count differs is listed; those only in b are added, only in a missing.
    differing = {p for p in in_a.keys() | in_b.keys() if in_a[p] != in_b[p]}
    assert differing and differing <= set(changed)
    for p in in_b.keys() - in_a.keys():
        assert changed[p]["change"] == "added" and changed[p]["a"] is None
    for p in in_a.keys() - in_b.keys():
        assert changed[p]["change"] == "missing" and changed[p]["b"] is None
    assert found["unchanged"] + len(changed) == len(in_a.keys() | in_b.keys())
    for p, node in changed.items():
        assert (node["a"] or {}).get("count", 0) == in_a[p]
        assert (node["b"] or {}).get("count", 0) == in_b[p]
    assert any(n["b"] and n["b"]["errors"] for n in changed.values())
    moved = [abs(n["changeMs"]) for n in found["changed"]]
    assert moved == sorted(moved, reverse=True)


def payment_requests() -> tuple[int, int]:
    """Requests to payment, and how many failed."""
    found = [f.span for f in spans() if f.service == "payment" and is_request(f.span)]
    return len(found), sum(map(is_error, found))


def put(url: str, name: str, document: str) -> None:
    answered = httpx.put(
        f"{url}/api/slos/{name}", content=document, headers={"content-type": "application/yaml"}
    )
    assert answered.status_code in (200, 201), answered.text


def test_an_slo_burning_fast_fires_its_alerts(shop: Shopping) -> None:
    assert answer(call(shop.url, "firing_alerts"))["alerts"] == []
    put(shop.url, "payment-availability", SLO)
    try:
        # Evaluated just after the shop's last request: all of it in the shortest window.
        last = max(f.span.start_time_unix_nano for f in spans())
        at = last + SEC
        asyncio.run(shop.evaluator.evaluate(at))
        total, bad = payment_requests()
        burn = (bad / total) / 0.01
        assert burn > 14.4  # the fast burn's factor: every alert fires
        found = answer(call(shop.url, "slo_status"))
        assert found["slos"] == 1
        [status] = found["status"]
        assert (status["name"], status["service"], status["window"]) == (
            "payment-availability",
            "payment",
            "7d",
        )
        [objective] = status["objectives"]
        assert (objective["good"], objective["total"]) == (total - bad, total)
        assert objective["sli"] == pytest.approx((total - bad) / total, abs=1e-4)
        assert objective["budgetRemaining"] == pytest.approx(1 - burn, abs=1e-3)
        # Now, about 17 minutes after the last request: the last 5 minutes saw none.
        assert objective["burnRates"]["5m"] is None
        assert objective["burnRates"]["1h"] == pytest.approx(burn, abs=1e-3)
        firing = {a["alert"]: a for a in objective["firing"]}
        assert set(firing) == {"SLOFastBurn", "SLOSlowBurn", "SLOBudgetBurn"}
        assert all(abs(ns_of(a["since"]) - at) < 10**6 for a in firing.values())
        alerts = answer(call(shop.url, "firing_alerts"))["alerts"]
        assert alerts[0]["name"] == "SLOFastBurn"  # the page first
        assert {a["name"] for a in alerts} == set(firing)
        for alert in alerts:
            assert alert["state"] == "firing"
            assert alert["labels"]["slo"] == "payment-availability"
            assert alert["labels"]["service"] == "payment"
            assert abs(ns_of(alert["since"].replace("Z", "+00:00")) - at) < 10**6
            assert float(alert["value"]) == pytest.approx(burn, rel=1e-6)
            assert alert["annotations"]
        one = answer(call(shop.url, "slo_status", {"name": "payment-availability"}))
        assert [s["name"] for s in one["status"]] == ["payment-availability"]
        misspelt = error(call(shop.url, "slo_status", {"name": "payment-availabilty"}))
        assert "no SLO named 'payment-availabilty'" in misspelt
        assert "did you mean 'payment-availability'" in misspelt
        unknown = error(call(shop.url, "slo_status", {"name": "zzz"}))
        assert "the SLOs are: 'payment-availability'" in unknown
    finally:
        httpx.delete(f"{shop.url}/api/slos/payment-availability")
    assert answer(call(shop.url, "firing_alerts"))["alerts"] == []


def catalog_requests(low: int, high: int) -> tuple[int, int]:
    """Requests to catalog starting in ``[low, high)``, and how many failed."""
    found = [
        f.span
        for f in spans_of(deploy_batches())
        if f.service == "catalog"
        and is_request(f.span)
        and low <= f.span.start_time_unix_nano < high
    ]
    return len(found), sum(map(is_error, found))


def test_the_bad_deploy_is_found_with_red_before_and_after(deployed: str) -> None:
    catalog = [f for f in spans_of(deploy_batches()) if f.service == "catalog"]
    first_new = min(f.span.start_time_unix_nano for f in catalog if f.version == "1.9.0")
    for arguments in ({}, {"service": "catalog"}):
        found = answer(call(deployed, "recent_deployments", arguments))
        [deploy] = found["deployments"]
        assert (deploy["service"], deploy["version"], deploy["previous"]) == (
            "catalog",
            "1.9.0",
            ["1.8.3"],
        )
        assert abs(ns_of(deploy["time"]) - first_new) < 2 * 10**6
        assert deploy["rollback"] is False
        window = 15 * 60 * SEC
        before, after = deploy["before"], deploy["after"]
        assert (before["requestCount"], before["errorCount"]) == catalog_requests(
            first_new - window, first_new
        )
        assert (after["requestCount"], after["errorCount"]) == catalog_requests(
            first_new, first_new + window
        )
        assert after["errorRate"] > before["errorRate"]
        assert after["p50Ms"] > before["p50Ms"]
    versions = answer(call(deployed, "recent_deployments", {"service": "catalog"}))["versions"]
    assert [v["version"] for v in versions] == ["1.8.3", "1.9.0"]
    assert answer(call(deployed, "recent_deployments", {"service": "order"}))["deployments"] == []
    refused = error(call(deployed, "recent_deployments", {"service": "catalgo"}))
    assert "did you mean 'catalog'" in refused


def test_the_cursor_of_one_tool_is_not_taken_by_another(shop: Shopping) -> None:
    found = answer(call(shop.url, "service_map", {"max_chars": 1000}))
    refused = error(call(shop.url, "critical_path", {"cursor": found["more"]["cursor"]}))
    assert "cursor: it continues service_map, not critical_path" in refused
    edges = every_item(shop.url, "service_map", {"max_chars": 1000}, "edges")
    assert len(edges) == found["total"]
