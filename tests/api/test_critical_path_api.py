"""The critical-path API on both backends, over traces whose paths were worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans

from otelite.api import create_app
from otelite.storage import WriteBatch
from otelite.types import ExportTraceServiceRequest
from tests.backends import BACKENDS, store

from .samples import MS, T0, resource, span
from .served import Served

CHECKOUT_1 = bytes.fromhex("c1" * 16)
CHECKOUT_2 = bytes.fromhex("c2" * 16)
BROWSE_1 = bytes.fromhex("b1" * 16)
BROWSE_2 = bytes.fromhex("b2" * 16)
# Span ids: trace number * 10 + position.
ROOT_1, INSERT_1, CACHE_1, PUBLISH_1 = 11, 12, 13, 14


def _traces() -> ExportTraceServiceRequest:
    frontend = [
        span(CHECKOUT_1, ROOT_1, "checkout", 0, 100),
        span(CHECKOUT_1, CACHE_1, "cache get", 5, 15, parent=ROOT_1),
        # Asynchronous: outlives the root by 50 ms.
        span(CHECKOUT_1, PUBLISH_1, "publish", 80, 70, parent=ROOT_1),
        span(CHECKOUT_2, 21, "checkout", 1000, 200),
        span(BROWSE_1, 31, "browse", 2000, 50),
        span(BROWSE_2, 41, "browse", 3000, 50),
    ]
    backends = [
        span(CHECKOUT_1, INSERT_1, "INSERT orders", 10, 60, parent=ROOT_1),
        span(CHECKOUT_2, 22, "INSERT orders", 1020, 160, parent=21),
    ]
    catalog = [span(BROWSE_1, 32, "SELECT products", 2010, 10, parent=31)]
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(resource=resource(name), scope_spans=[ScopeSpans(spans=spans)])
            for name, spans in (("frontend", frontend), ("order", backends), ("catalog", catalog))
        ]
    )


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[_traces()]))
        served = Served(create_app(opened))
        try:
            with httpx.Client(base_url=served.url, timeout=30) as http:
                yield http
        finally:
            served.close()


WINDOW = {"start": str(T0 - 10**9), "end": str(T0 + 10 * 10**9)}


def _at(ms: int) -> str:
    return str(T0 + ms * MS)


def test_one_trace_path_with_overlap_and_an_async_child(client: httpx.Client) -> None:
    body = client.get(f"/api/traces/{CHECKOUT_1.hex()}/critical-path").json()
    # Back from 100: publish (cut to the root's end at 100), then the root until INSERT
    # ended (70), INSERT back to 10; the cache read (5-20) ends after that: the root.
    assert [
        (s["spanId"], s["startTimeUnixNano"], s["endTimeUnixNano"]) for s in body["sections"]
    ] == [
        (f"{ROOT_1:016x}", _at(0), _at(10)),
        (f"{INSERT_1:016x}", _at(10), _at(70)),
        (f"{ROOT_1:016x}", _at(70), _at(80)),
        (f"{PUBLISH_1:016x}", _at(80), _at(100)),
    ]
    assert body["spans"] == [
        {
            "spanId": f"{INSERT_1:016x}",
            "service": "order",
            "name": "INSERT orders",
            "selfNs": 60 * MS,
            "share": 0.6,
        },
        {"spanId": f"{ROOT_1:016x}", "service": "frontend", "name": "checkout",
         "selfNs": 20 * MS, "share": 0.2},
        {"spanId": f"{PUBLISH_1:016x}", "service": "frontend", "name": "publish",
         "selfNs": 20 * MS, "share": 0.2},
    ]  # fmt: skip
    assert body["traceId"] == CHECKOUT_1.hex()
    assert (body["startTimeUnixNano"], body["endTimeUnixNano"]) == (_at(0), _at(100))
    assert (body["durationNs"], body["traceDurationNs"]) == (100 * MS, 150 * MS)
    assert (body["gapNs"], body["spanCount"]) == (0, 4)


@pytest.mark.parametrize(
    ("trace_id", "status", "words"),
    [("not-hex", 400, "traceId"), ("0", 400, "traceId"), ("ab" * 16, 404, "not found")],
)
def test_one_trace_bad_ids(client: httpx.Client, trace_id: str, status: int, words: str) -> None:
    response = client.get(f"/api/traces/{trace_id}/critical-path")
    assert response.status_code == status
    assert words in response.json()["error"]


def test_totals_against_the_other_traces(client: httpx.Client) -> None:
    body = client.get("/api/critical-path", params={"q": '{ name = "checkout" }', **WINDOW}).json()
    # Selection: paths of 100 ms (INSERT 60, checkout 20, publish 20) and 200 ms
    # (INSERT 160, checkout 40). Baseline, the browse traces: 50 ms (browse 40, SELECT
    # 10) and 50 ms (browse 50).
    selection, baseline = body["selection"], body["baseline"]
    assert (selection["traces"], selection["pathNs"], selection["gapNs"]) == (2, 300 * MS, 0)
    assert (baseline["traces"], baseline["pathNs"], baseline["others"]) == (2, 100 * MS, True)
    assert (selection["meanPathNs"], baseline["meanPathNs"]) == (150 * MS, 50 * MS)
    assert baseline["query"] == "{}"
    assert not body["sampled"] and not body["cut"]
    keys = ("service", "name", "pathNs", "traces", "baselinePathNs", "baselineTraces")
    found = [tuple(o[key] for key in keys) for o in body["operations"]]
    assert found == [
        ("order", "INSERT orders", 220 * MS, 2, 0, 0),
        ("frontend", "checkout", 60 * MS, 2, 0, 0),
        ("frontend", "publish", 20 * MS, 1, 0, 0),
        ("catalog", "SELECT products", 0, 0, 10 * MS, 1),
        ("frontend", "browse", 0, 0, 90 * MS, 2),
    ]
    # Where each spends the most time on the path: the selection's trace, else the baseline's.
    assert [o["exampleTraceId"] for o in body["operations"]] == [
        t.hex() for t in (CHECKOUT_2, CHECKOUT_2, CHECKOUT_1, BROWSE_1, BROWSE_2)
    ]
    first = body["operations"][0]
    assert first["perTraceNs"] == 110 * MS
    assert first["share"] == pytest.approx(220 / 300)
    assert first["difference"] == pytest.approx(220 / 300)
    last = body["operations"][-1]
    assert (last["baselineShare"], last["difference"]) == (pytest.approx(0.9), pytest.approx(-0.9))
    assert body["operationCount"] == 5


def test_totals_before_and_after(client: httpx.Client) -> None:
    # The same query over another range: the checkout trace of the first second.
    body = client.get(
        "/api/critical-path",
        params={
            "q": '{ name = "checkout" }',
            "start": _at(500),
            "end": _at(1500),
            "baselineStart": _at(-500),
            "baselineEnd": _at(500),
        },
    ).json()
    assert body["baseline"]["query"] == '{ name = "checkout" }'
    assert body["baseline"]["others"] is False
    by_name = {o["name"]: o for o in body["operations"]}
    assert by_name["INSERT orders"]["share"] == pytest.approx(160 / 200)
    assert by_name["INSERT orders"]["baselineShare"] == pytest.approx(60 / 100)
    assert by_name["publish"]["pathNs"] == 0
    assert by_name["publish"]["baselinePathNs"] == 20 * MS


def test_totals_read_whole_traces_past_the_range(client: httpx.Client) -> None:
    # The range holds only publish (80-150 ms) of the first checkout: its root, from 0 ms,
    # is read all the same.
    body = client.get(
        "/api/critical-path",
        params={"q": '{ name = "publish" }', "start": _at(50), "end": _at(500)},
    ).json()
    assert (body["selection"]["traces"], body["selection"]["pathNs"]) == (1, 100 * MS)


def test_totals_say_when_traces_were_sampled(client: httpx.Client) -> None:
    body = client.get(
        "/api/critical-path", params={"q": '{ name = "checkout" }', "limit": "1", **WINDOW}
    ).json()
    assert body["selection"]["traces"] == 1 and body["selection"]["sampled"] is True
    assert body["baseline"]["traces"] == 1 and body["baseline"]["sampled"] is True
    assert body["sampled"] is True and body["limits"]["traces"] == 1


def test_totals_of_nothing(client: httpx.Client) -> None:
    body = client.get("/api/critical-path", params={"q": '{ name = "nothing" }', **WINDOW}).json()
    assert body["selection"]["traces"] == 0 and body["selection"]["pathNs"] == 0
    assert body["selection"]["meanPathNs"] is None
    assert all(o["perTraceNs"] is None for o in body["operations"])
    assert body["baseline"]["traces"] == 4
    assert all(o["share"] == 0 for o in body["operations"])


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"q": "{ name = "}, "q: invalid TraceQL query: parse error"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"baselineStart": "now-2h"}, "baselineStart, baselineEnd"),
        ({"baselineStart": "now-1h", "baselineEnd": "now-2h"}, "baselineStart"),
        ({"start": "yesterday"}, "start"),
        ({"q": "{} | rate()"}, "q: invalid TraceQL query: a metrics query"),
        ({"baseline": "{ x"}, "baseline: invalid TraceQL"),
    ],
)
def test_totals_bad_input(client: httpx.Client, params: dict[str, str], words: str) -> None:
    response = client.get("/api/critical-path", params=params)
    assert response.status_code == 400
    assert words in response.json()["error"]
