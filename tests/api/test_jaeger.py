"""Jaeger's query APIs (v1 and v3) under /jaeger/api, as Grafana and Jaeger UI call them.

The samples are the API samples plus one trace (TRACE_J) that uses every part of the
Jaeger model; its expected v1 JSON below is written by hand from the OTLP request built
here, following Jaeger's UI model and the Collector's OTLP→Jaeger mapping.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValueList,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otelite.otlp import request_from_json
from otelite.storage import Storage, WriteBatch
from otelite.types import ExportTraceServiceRequest, Signal
from tests.backends import BACKENDS, store

from .samples import MS, SHORT_TRACE, T0, TRACE_A, TRACE_B, kv, resource, traces

TRACE_J = bytes.fromhex("fbff651916cd43dd8448eb211c80319c")
J = TRACE_J.hex()
LINKED = bytes(8) + (0x4D2).to_bytes(8, "big")  # a trace id whose high 64 bits are zero
START_1 = T0 + 3_000 * MS + 999  # ns: 999 ns past a whole µs
END_1 = START_1 + 250 * MS + 1_500
US0 = T0 // 1000


def at(ms: int) -> int:
    return T0 + ms * MS


def sid(n: int) -> bytes:
    return n.to_bytes(8, "big")


def jaeger_trace() -> ExportTraceServiceRequest:
    """checkout → payments, with typed attributes, events, links, status and flags."""
    checkout = resource(
        "checkout", kv("host.name", string_value="h2"), kv("process.pid", int_value=4242)
    )
    scope = InstrumentationScope(name="io.otel.http", version="1.2.3")
    pay = Span(
        trace_id=TRACE_J,
        span_id=sid(1),
        name="POST /pay",
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=START_1,
        end_time_unix_nano=END_1,
        trace_state="vendor=1",
        flags=0x301,  # sampled, and the has-is-remote bits of OTLP
        attributes=[
            kv("http.method", string_value="POST"),
            kv("max_safe", int_value=2**53 - 1),
            kv("big", int_value=2**53),
            kv("negative_big", int_value=-(2**53)),
            kv("ratio", double_value=0.25),
            kv("retry", bool_value=True),
            kv("payload", bytes_value=b"\x00\x01\xfe"),
            kv(
                "path",
                array_value=ArrayValue(values=[AnyValue(string_value="a"), AnyValue(int_value=1)]),
            ),
            kv(
                "map",
                kvlist_value=KeyValueList(
                    values=[kv("z", string_value="1"), kv("a", bool_value=True)]
                ),
            ),
        ],
        events=[
            Span.Event(
                time_unix_nano=at(3_010) + 500,
                name="exception",
                attributes=[kv("exception.type", string_value="ValueError")],
            ),
            Span.Event(
                time_unix_nano=at(3_020),
                name="ignored",
                attributes=[kv("event", string_value="retry"), kv("attempt", int_value=2)],
            ),
            Span.Event(time_unix_nano=at(3_030), attributes=[kv("note", string_value="x")]),
        ],
        status=Status(code=Status.STATUS_CODE_ERROR, message="card declined"),
    )
    charge = Span(
        trace_id=TRACE_J,
        span_id=sid(2),
        parent_span_id=sid(1),
        name="charge",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=at(3_010),
        end_time_unix_nano=at(3_110),
        status=Status(code=Status.STATUS_CODE_OK),
        links=[
            Span.Link(trace_id=LINKED, span_id=sid(0x99)),
            Span.Link(
                trace_id=TRACE_J,
                span_id=sid(5),
                attributes=[kv("opentracing.ref_type", string_value="child_of")],
            ),
        ],
    )
    authorize = Span(
        trace_id=TRACE_J,
        span_id=sid(3),
        parent_span_id=sid(2),
        name="authorize",
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=at(3_020),
        end_time_unix_nano=at(3_070),
        links=[Span.Link(trace_id=TRACE_J, span_id=sid(2))],  # the parent: retypes it
    )
    audit = Span(
        trace_id=TRACE_J,
        span_id=sid(4),
        parent_span_id=sid(1),
        name="audit",
        kind=Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=at(3_040),
        end_time_unix_nano=at(3_045),
    )
    orphan = Span(
        trace_id=TRACE_J,
        span_id=sid(5),
        parent_span_id=sid(0x77),  # not in the trace
        name="orphan",
        start_time_unix_nano=at(3_060),
        end_time_unix_nano=at(3_061),
    )
    # The same resource under another schema URL: stored apart, one Jaeger process.
    checkout_again = ResourceSpans(
        resource=checkout,
        schema_url="https://opentelemetry.io/schemas/1.24.0",
        scope_spans=[ScopeSpans(spans=[audit])],
    )
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=checkout,
                schema_url="https://opentelemetry.io/schemas/1.21.0",
                scope_spans=[ScopeSpans(scope=scope, spans=[pay, charge])],
            ),
            ResourceSpans(
                resource=resource("payments"), scope_spans=[ScopeSpans(spans=[authorize, orphan])]
            ),
            checkout_again,
        ]
    )


def tag(key: str, kind: str, value: Any) -> dict[str, Any]:
    return {"key": key, "type": kind, "value": value}


def hex_id(n: int) -> str:
    return f"{n:016x}"


SCOPE_TAGS = [
    tag("otel.scope.name", "string", "io.otel.http"),
    tag("otel.scope.version", "string", "1.2.3"),
]
EXPECTED_J = {
    "traceID": J,
    "spans": [
        {
            "traceID": J,
            "spanID": hex_id(1),
            "flags": 1,
            "operationName": "POST /pay",
            "references": [],
            "startTime": US0 + 3_000_000,
            "duration": 250_001,
            "tags": [
                *SCOPE_TAGS,
                tag("http.method", "string", "POST"),
                tag("max_safe", "int64", 9007199254740991),
                tag("big", "int64", "9007199254740992"),
                tag("negative_big", "int64", "-9007199254740992"),
                tag("ratio", "float64", 0.25),
                tag("retry", "bool", True),
                tag("payload", "binary", "AAH+"),
                tag("path", "string", '["a",1]'),
                tag("map", "string", '{"a":true,"z":"1"}'),
                tag("span.kind", "string", "server"),
                tag("otel.status_code", "string", "ERROR"),
                tag("error", "bool", True),
                tag("otel.status_description", "string", "card declined"),
                tag("w3c.tracestate", "string", "vendor=1"),
            ],
            "logs": [
                {
                    "timestamp": US0 + 3_010_000,
                    "fields": [
                        tag("event", "string", "exception"),
                        tag("exception.type", "string", "ValueError"),
                    ],
                },
                {
                    "timestamp": US0 + 3_020_000,
                    "fields": [tag("event", "string", "retry"), tag("attempt", "int64", 2)],
                },
                {"timestamp": US0 + 3_030_000, "fields": [tag("note", "string", "x")]},
            ],
            "processID": "p1",
            "warnings": None,
        },
        {
            "traceID": J,
            "spanID": hex_id(2),
            "operationName": "charge",
            "references": [
                {"refType": "CHILD_OF", "traceID": J, "spanID": hex_id(1)},
                {"refType": "FOLLOWS_FROM", "traceID": "00000000000004d2", "spanID": hex_id(0x99)},
                {"refType": "CHILD_OF", "traceID": J, "spanID": hex_id(5)},
            ],
            "startTime": US0 + 3_010_000,
            "duration": 100_000,
            "tags": [
                *SCOPE_TAGS,
                tag("span.kind", "string", "client"),
                tag("otel.status_code", "string", "OK"),
            ],
            "logs": [],
            "processID": "p1",
            "warnings": None,
        },
        {
            "traceID": J,
            "spanID": hex_id(3),
            "operationName": "authorize",
            "references": [{"refType": "FOLLOWS_FROM", "traceID": J, "spanID": hex_id(2)}],
            "startTime": US0 + 3_020_000,
            "duration": 50_000,
            "tags": [tag("span.kind", "string", "server")],
            "logs": [],
            "processID": "p2",
            "warnings": None,
        },
        {
            "traceID": J,
            "spanID": hex_id(5),
            "operationName": "orphan",
            "references": [{"refType": "CHILD_OF", "traceID": J, "spanID": hex_id(0x77)}],
            "startTime": US0 + 3_060_000,
            "duration": 1_000,
            "tags": [],
            "logs": [],
            "processID": "p2",
            "warnings": None,
        },
        {
            "traceID": J,
            "spanID": hex_id(4),
            "operationName": "audit",
            "references": [{"refType": "CHILD_OF", "traceID": J, "spanID": hex_id(1)}],
            "startTime": US0 + 3_040_000,
            "duration": 5_000,
            "tags": [],  # internal: no span.kind
            "logs": [],
            "processID": "p1",
            "warnings": None,
        },
    ],
    "processes": {
        "p1": {
            "serviceName": "checkout",
            "tags": [tag("host.name", "string", "h2"), tag("process.pid", "int64", 4242)],
        },
        "p2": {"serviceName": "payments", "tags": []},
    },
    "warnings": None,
}


@pytest.fixture(scope="module", params=BACKENDS)
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    """The API samples and TRACE_J, in a store of each kind (conftest's ``client`` reads it)."""
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[traces(), jaeger_trace()]))
        yield opened


def get(client: httpx.Client, path: str, status: int, params: dict[str, Any]) -> Any:
    response = client.get(f"/jaeger/api{path}", params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def v1(client: httpx.Client, path: str, **params: Any) -> Any:
    """A v1 answer (200), after checking the envelope."""
    body = get(client, path, 200, params)
    assert set(body) == {"data", "total", "limit", "offset", "errors"}
    assert (body["limit"], body["offset"]) == (0, 0)
    return body


def v1_error(
    client: httpx.Client, path: str, status: int, params: dict[str, Any] | None = None
) -> str:
    """The message of a v1 error, after checking its envelope."""
    body = get(client, path, status, params or {})
    assert body == {
        "data": None,
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": [{"code": status, "msg": body["errors"][0]["msg"]}],
    }
    message: str = body["errors"][0]["msg"]
    return message


def found(client: httpx.Client, **params: Any) -> list[str]:
    """The trace ids a v1 search answers, in order."""
    body = v1(client, "/traces", **params)
    assert body["errors"] is None and body["total"] == 0
    return [trace["traceID"] for trace in body["data"]]


def rfc3339(ns: int) -> str:
    seconds, nanos = divmod(ns, 10**9)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


WINDOW_V3 = {
    "query.startTimeMin": rfc3339(T0 - 3600 * 10**9),
    "query.startTimeMax": rfc3339(T0 + 3600 * 10**9),
}


# --- v1: what Grafana's Jaeger data source calls --------------------------------------


def test_services_are_names_with_their_count(client: httpx.Client) -> None:
    body = v1(client, "/services")
    assert body == {
        "data": ["cart", "checkout", "frontend", "payments"],
        "total": 4,
        "limit": 0,
        "offset": 0,
        "errors": None,
    }


def test_operations_of_a_service_are_names(client: httpx.Client) -> None:
    body = v1(client, "/services/checkout/operations")
    assert body["data"] == ["POST /pay", "audit", "charge"]
    assert body["total"] == 3
    assert v1(client, "/services/nobody/operations")["data"] == []


def test_operations_carry_jaeger_span_kinds(client: httpx.Client) -> None:
    body = v1(client, "/operations", service="payments")
    # An unspecified kind is "" in v1, as Jaeger stores it.
    assert body["data"] == [
        {"name": "authorize", "spanKind": "server"},
        {"name": "orphan", "spanKind": ""},
    ]
    assert body["total"] == 2
    clients = v1(client, "/operations", service="checkout", spanKind="client")["data"]
    assert clients == [{"name": "charge", "spanKind": "client"}]
    assert "service" in v1_error(client, "/operations", 400)


def test_a_trace_is_jaeger_json_written_by_hand(client: httpx.Client) -> None:
    body = v1(client, f"/traces/{J}")
    assert body == {"data": [EXPECTED_J], "total": 0, "limit": 0, "offset": 0, "errors": None}
    assert isinstance(body["data"][0]["spans"][0]["startTime"], int)


@pytest.mark.parametrize(
    "trace_id",
    [
        J.upper(),
        quote(base64.b64encode(TRACE_J).decode(), safe=""),  # "+/...==" sent as %2B%2F...
        base64.urlsafe_b64encode(TRACE_J).decode(),
        base64.urlsafe_b64encode(TRACE_J).decode().rstrip("="),
    ],
)
def test_trace_ids_may_be_hex_or_base64(client: httpx.Client, trace_id: str) -> None:
    assert v1(client, f"/traces/{trace_id}")["data"] == [EXPECTED_J]


def test_trace_ids_with_a_zero_high_half_are_16_hex_digits(client: httpx.Client) -> None:
    [trace] = v1(client, "/traces/abc")["data"]
    assert trace["traceID"] == "0000000000000abc"
    assert trace["spans"][0]["traceID"] == "0000000000000abc"
    eight_bytes = base64.b64encode(SHORT_TRACE[8:]).decode()
    assert v1(client, f"/traces/{quote(eight_bytes, safe='')}")["data"] == [trace]


def test_grafanas_time_hint_does_not_filter_a_trace(client: httpx.Client) -> None:
    # One Grafana version sends milliseconds where Jaeger reads µs: a hint, not a filter.
    assert v1(client, f"/traces/{J}", start="1", end="2")["data"] == [EXPECTED_J]


def test_unknown_and_bad_trace_ids(client: httpx.Client) -> None:
    assert v1_error(client, f"/traces/{'ee' * 16}", 404) == "trace not found"
    assert "traceID" in v1_error(client, "/traces/not-an-id!", 400)
    assert "all-zero" in v1_error(client, f"/traces/{'0' * 32}", 400)


def test_search_answers_whole_traces_newest_first(client: httpx.Client) -> None:
    body = v1(client, "/traces", service="cart")
    assert [t["traceID"] for t in body["data"]] == [
        SHORT_TRACE[8:].hex(),
        TRACE_B.hex(),
        TRACE_A.hex(),
    ]
    assert v1(client, "/traces", service="payments")["data"] == [EXPECTED_J]
    assert found(client, service="cart", limit="1") == [SHORT_TRACE[8:].hex()]


def test_search_start_and_end_are_microseconds(client: httpx.Client) -> None:
    # checkout's spans start at +3000, +3010 and +3040 ms: a window from +3005 ms finds
    # the trace through "charge", one from +3041 ms finds nothing.
    assert found(client, service="checkout", start=str(US0 + 3_005_000)) == [J]
    assert found(client, service="checkout", start=str(US0 + 3_041_000)) == []
    assert found(client, service="checkout", end=str(US0 + 2_999_000)) == []
    # The end is inclusive, to the µs.
    assert found(client, service="checkout", end=str(US0 + 3_000_000), start=str(US0)) == []
    assert found(client, service="checkout", end=str(US0 + 3_000_001), start=str(US0)) == [J]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"service": "checkout", "operation": "charge"}, [J]),
        ({"service": "checkout", "operation": "authorize"}, []),
        ({"service": "checkout", "tags": '{"http.method":"POST"}'}, [J]),
        ({"service": "checkout", "tag": "http.method:GET"}, []),
        ({"service": "checkout", "tag": "host.name:h2"}, [J]),  # a resource attribute
        ({"service": "checkout", "tag": ["retry:true", "big:9007199254740992"]}, [J]),
        ({"service": "cart", "tags": '{"error":"true"}'}, [TRACE_A.hex()]),
        ({"service": "cart", "tag": "error:false"}, [SHORT_TRACE[8:].hex(), TRACE_B.hex()]),
        ({"service": "checkout", "tag": "span.kind:client"}, [J]),
        ({"service": "payments", "tag": "span.kind:client"}, []),
        ({"service": "checkout", "tag": "otel.status_code:OK", "operation": "charge"}, [J]),
        ({"service": "checkout", "tag": "otel.status_description:card declined"}, [J]),
        ({"service": "checkout", "tag": "otel.scope.name:io.otel.http"}, [J]),
        # Log fields are tags too: an event's attributes, and its name as "event".
        ({"service": "checkout", "tag": "exception.type:ValueError"}, [J]),
        ({"service": "checkout", "tag": "attempt:2"}, [J]),
        ({"service": "checkout", "tag": "event:exception"}, [J]),
        ({"service": "checkout", "tag": "event:retry"}, [J]),
        ({"service": "checkout", "tag": "exception.type:KeyError"}, []),
        ({"service": "checkout", "tag": ["note:x", "host.name:h2"]}, [J]),
        ({"service": "checkout", "minDuration": "250ms"}, [J]),
        ({"service": "checkout", "minDuration": "250.002ms"}, []),
        ({"service": "checkout", "maxDuration": "5ms", "operation": "audit"}, [J]),
        ({"service": "checkout", "minDuration": "1.2s"}, []),
    ],
)
def test_search_conditions(
    client: httpx.Client, params: dict[str, Any], expected: list[str]
) -> None:
    assert found(client, **params) == expected


def test_search_by_trace_ids_reports_the_missing_ones(client: httpx.Client) -> None:
    missing = "ee" * 16
    body = v1(client, "/traces", traceID=[J, "abc", missing])
    assert [t["traceID"] for t in body["data"]] == [J, "0000000000000abc"]
    assert body["data"][0] == EXPECTED_J
    assert body["errors"] == [{"msg": "trace not found", "traceID": missing}]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, "service"),
        ({"service": "cart", "minDuration": "soon"}, "minDuration"),
        ({"service": "cart", "maxDuration": "1x"}, "maxDuration"),
        ({"service": "cart", "minDuration": "2s", "maxDuration": "1s"}, "maxDuration"),
        ({"service": "cart", "start": "2024-01-01"}, "start"),
        ({"service": "cart", "end": "1.5"}, "end"),
        ({"service": "cart", "tags": "error=true"}, "tags"),
        ({"service": "cart", "tags": '{"retry":true}'}, "tags"),
        ({"service": "cart", "tag": "error"}, "tag"),
        ({"service": "cart", "limit": "0"}, "limit"),
        ({"traceID": "xyz!"}, "traceID"),
    ],
)
def test_bad_search_parameters_are_named(
    client: httpx.Client, params: dict[str, str], named: str
) -> None:
    assert v1_error(client, "/traces", 400, params).startswith(named)


def test_dependencies_are_the_service_maps_edges(client: httpx.Client) -> None:
    window = {"endTs": str((T0 + 3600 * 10**9) // MS), "lookback": str(2 * 3600 * 1000)}
    body = v1(client, "/dependencies", **window)
    # Calls are client and server spans, as on the service map: the samples' cart spans
    # name no kind and are called by no one; a root server span is called by "user".
    assert body == {
        "data": [
            {"parent": "checkout", "child": "payments", "callCount": 1},
            {"parent": "user", "child": "checkout", "callCount": 1},
            {"parent": "user", "child": "frontend", "callCount": 2},
        ],
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": None,
    }
    the_map = client.get(
        "/api/service-graph",
        params={"start": str(T0 - 3600 * 10**9), "end": str(T0 + 3600 * 10**9)},
    ).json()
    assert body["data"] == [
        {"parent": e["client"], "child": e["server"], "callCount": e["requestCount"]}
        for e in the_map["edges"]
    ]
    only_payments = v1(client, "/dependencies", service="payments", **window)["data"]
    assert only_payments == [{"parent": "checkout", "child": "payments", "callCount": 1}]
    # endTs and lookback are milliseconds; the default lookback is 24 h before now, and
    # a longer one reads the newest 24 h.
    before = {"endTs": str(T0 // MS - 1), "lookback": str(3600 * 1000)}
    assert v1(client, "/dependencies", **before)["data"] == []
    assert len(v1(client, "/dependencies")["data"]) == 3
    assert len(v1(client, "/dependencies", lookback=str(7 * 86_400_000))["data"]) == 3
    assert v1(client, "/dependencies", lookback="0")["data"] == []
    assert v1_error(client, "/dependencies", 400, {"endTs": "yesterday"}).startswith("endTs")
    assert v1_error(client, "/dependencies", 400, {"lookback": "-5"}).startswith("lookback")


# --- v3: what Jaeger UI (and Grafana with jaegerEnableGrpcEndpoint) calls -------------


def v3(client: httpx.Client, path: str, **params: Any) -> Any:
    return get(client, f"/v3{path}", 200, params)


def v3_error(
    client: httpx.Client, path: str, status: int, params: dict[str, Any] | None = None
) -> str:
    """The message of a v3 error, after checking its shape."""
    body = get(client, f"/v3{path}", status, params or {})
    assert body == {"error": {"httpCode": status, "message": body["error"]["message"]}}
    message: str = body["error"]["message"]
    return message


def test_v3_services(client: httpx.Client) -> None:
    assert v3(client, "/services") == {"services": ["cart", "checkout", "frontend", "payments"]}


def test_v3_operations_name_unspecified_kinds_internal(client: httpx.Client) -> None:
    assert v3(client, "/operations", service="payments") == {
        "operations": [
            {"name": "authorize", "spanKind": "server"},
            {"name": "orphan", "spanKind": "internal"},
        ]
    }
    servers = {"operations": [{"name": "authorize", "spanKind": "server"}]}
    assert v3(client, "/operations", service="payments", spanKind="server") == servers
    assert v3(client, "/operations", service="payments", span_kind="server") == servers
    assert v3(client, "/operations") == {"operations": []}


def decoded(body: Any) -> ExportTraceServiceRequest:
    assert set(body) == {"result"} and set(body["result"]) == {"resourceSpans"}
    request = request_from_json(Signal.TRACES, body["result"])
    assert isinstance(request, ExportTraceServiceRequest)
    return request


def test_v3_trace_is_otlp_json(client: httpx.Client, storage: Storage) -> None:
    body = v3(client, f"/traces/{J}")
    assert decoded(body) == storage.get_trace(TRACE_J)
    span = body["result"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["traceId"] == J and span["spanId"] == hex_id(1)
    assert span["startTimeUnixNano"] == str(START_1)  # ns, as a string
    url_id = base64.urlsafe_b64encode(TRACE_J).decode()
    assert decoded(v3(client, f"/traces/{url_id}")) == storage.get_trace(TRACE_J)


def test_v3_unknown_and_bad_trace_ids(client: httpx.Client) -> None:
    assert v3_error(client, f"/traces/{'ee' * 16}", 404) == "No traces found"
    assert v3_error(client, "/traces/xyz!", 400).startswith("trace_id")


def test_v3_search_is_otlp_json_of_whole_traces(client: httpx.Client, storage: Storage) -> None:
    body = v3(client, "/traces", **{"query.serviceName": "payments", **WINDOW_V3})
    assert decoded(body) == storage.get_trace(TRACE_J)
    snake = {
        "query.service_name": "payments",
        "query.start_time_min": WINDOW_V3["query.startTimeMin"],
        "query.start_time_max": WINDOW_V3["query.startTimeMax"],
    }
    assert v3(client, "/traces", **snake) == body
    both = v3(client, "/traces", **{"query.serviceName": "cart", **WINDOW_V3})
    ids = {
        span["traceId"]
        for resource in both["result"]["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    }
    assert ids == {TRACE_A.hex(), TRACE_B.hex(), SHORT_TRACE.hex()}


def test_v3_search_times_are_rfc3339_to_the_nanosecond(client: httpx.Client) -> None:
    pay = {"query.serviceName": "checkout", "query.operationName": "POST /pay"}
    hit = {"query.startTimeMin": rfc3339(START_1), "query.startTimeMax": rfc3339(START_1 + MS)}
    assert "result" in v3(client, "/traces", **pay, **hit)
    miss = {**hit, "query.startTimeMin": rfc3339(START_1 + 1)}
    assert v3_error(client, "/traces", 404, {**pay, **miss}) == "No traces found"


@pytest.mark.parametrize(
    ("params", "traces_found"),
    [
        ({"query.attributes": '{"http.method":"POST"}'}, 1),
        ({"query.attributes": '{"http.method":"GET"}'}, 0),
        ({"query.durationMin": "250ms", "query.durationMax": "251ms"}, 1),
        ({"query.duration_min": "300ms"}, 0),
        ({"query.serviceName": "cart", "query.searchDepth": "2"}, 2),
        ({"query.serviceName": "cart", "query.num_traces": "1"}, 1),
    ],
)
def test_v3_search_conditions(
    client: httpx.Client, params: dict[str, str], traces_found: int
) -> None:
    body = v3(
        client, "/trace-summaries", **{"query.serviceName": "checkout", **WINDOW_V3, **params}
    )
    assert len(body["summaries"]) == traces_found


@pytest.mark.parametrize(
    ("params", "named"),
    [
        (
            {"query.startTimeMin": "2024-01-01T00:00:00Z"},
            "query.startTimeMin and query.startTimeMax",
        ),
        ({**WINDOW_V3, "query.startTimeMin": "yesterday"}, "query.startTimeMin"),
        ({**WINDOW_V3, "query.durationMin": "soon"}, "query.durationMin"),
        ({**WINDOW_V3, "query.duration_max": "1x"}, "query.duration_max"),
        ({**WINDOW_V3, "query.attributes": "[1]"}, "query.attributes"),
        ({**WINDOW_V3, "query.filter": "{}"}, "query.filter"),
        (
            {
                "query.startTimeMin": WINDOW_V3["query.startTimeMax"],
                "query.startTimeMax": WINDOW_V3["query.startTimeMin"],
            },
            "query.startTimeMin",
        ),
    ],
)
def test_v3_bad_search_parameters_are_named(
    client: httpx.Client, params: dict[str, str], named: str
) -> None:
    for path in ("/traces", "/trace-summaries"):
        assert v3_error(client, path, 400, params).startswith(named)


def test_v3_trace_summaries(client: httpx.Client) -> None:
    body = v3(client, "/trace-summaries", **{"query.serviceName": "payments", **WINDOW_V3})
    assert body == {
        "summaries": [
            {
                "traceId": J,
                "rootServiceName": "checkout",
                "rootOperationName": "POST /pay",
                "minStartTimeUnixNano": str(START_1),
                "maxEndTimeUnixNano": str(END_1),
                "spanCount": 5,
                "errorSpanCount": 1,
                "orphanSpanCount": 1,
                "services": [
                    {"name": "checkout", "spanCount": 3, "errorSpanCount": 1},
                    {"name": "payments", "spanCount": 2, "errorSpanCount": 0},
                ],
            }
        ]
    }
    cart = v3(client, "/trace-summaries", **{"query.serviceName": "cart", **WINDOW_V3})
    assert [s["traceId"] for s in cart["summaries"]] == [
        SHORT_TRACE.hex(),
        TRACE_B.hex(),
        TRACE_A.hex(),
    ]
    # Nothing found is an empty list here (only /traces answers 404).
    nobody = v3(client, "/trace-summaries", **{"query.serviceName": "nobody", **WINDOW_V3})
    assert nobody == {"summaries": []}
