"""Tempo's HTTP API as Grafana's Tempo data source calls it, on both backends.

Expected answers are read off the samples (tests/api/samples.py) by hand.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from otelite.types import ExportTraceServiceRequest

from .samples import MS, SHORT_TRACE, T0, TRACE_A, TRACE_B

WINDOW = {"start": str(T0 // 10**9 - 60), "end": str(T0 // 10**9 + 60)}


def search(client: httpx.Client, q: str, **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/search", params={"q": q, **WINDOW, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"traces", "metrics"}
    return body["traces"]  # type: ignore[no-any-return]


def test_echo_and_build_info(client: httpx.Client) -> None:
    echo = client.get("/api/echo")
    assert (echo.status_code, echo.text) == (200, "echo")
    info = client.get("/api/status/buildinfo").json()
    assert set(info) == {"version", "revision", "branch", "buildUser", "buildDate", "goVersion"}


def test_search_answers_tempos_search_response(client: httpx.Client) -> None:
    [trace] = search(client, '{ resource.service.name = "cart" && span:status = error }')
    span = {
        "spanID": "0000000000000002",
        "name": "cart.get",
        "startTimeUnixNano": str(T0 + 10 * MS),
        "durationNanos": str(80 * MS),
        "attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}],
    }
    assert trace == {
        "traceID": TRACE_A.hex(),
        "rootServiceName": "frontend",
        "rootTraceName": "GET /cart",
        "startTimeUnixNano": str(T0),
        "durationMs": 100,
        "spanSet": {"spans": [span], "matched": 1},
        "spanSets": [{"spans": [span], "matched": 1}],
        "serviceStats": {
            "frontend": {"spanCount": 1},
            "cart": {"spanCount": 1, "errorCount": 1},
        },
    }


@pytest.mark.parametrize(
    ("query", "traces", "names"),
    [
        ("{ span.http.status_code >= 500 }", [TRACE_A], [["GET /cart"]]),
        ('{ kind = server } > { name = "cart.get" }', [TRACE_B, TRACE_A], [["cart.get"]] * 2),
        (
            '{ kind = server } &> { name = "cart.get" }',
            [TRACE_B, TRACE_A],
            [["POST /checkout", "cart.get"], ["GET /cart", "cart.get"]],
        ),
        (
            "{ duration > 300ms } || { status = error }",
            [TRACE_B, TRACE_A],
            [["POST /checkout"], ["cart.get"]],
        ),
        (
            '{ .http.route = "/cart" } && { name =~ "cart.*" }',
            [TRACE_A],
            [["GET /cart", "cart.get"]],
        ),
        ("{ span.missing != nil }", [], []),
        # Typed, as in Tempo: a string is not the integer 500.
        ('{ span.http.status_code = "500" }', [], []),
        (
            "{ } | count() > 1",
            [TRACE_B, TRACE_A],
            [["POST /checkout", "cart.get"], ["GET /cart", "cart.get"]],
        ),
        ("{ } | avg(duration) > 100ms", [TRACE_B], [["POST /checkout", "cart.get"]]),
        (
            '{ trace:rootService = "frontend" && name = "cart.get" }',
            [TRACE_B, TRACE_A],
            [["cart.get"], ["cart.get"]],
        ),
        ("{ trace:duration > 300ms }", [TRACE_B], [["POST /checkout", "cart.get"]]),
        ('{ rootName =~ "GET.*" }', [TRACE_A], [["GET /cart", "cart.get"]]),
        (
            "{ resource.host.name = nil && kind != server }",
            [SHORT_TRACE, TRACE_B, TRACE_A],
            [["cart.sweep"], ["cart.get"], ["cart.get"]],
        ),
    ],
)
def test_traceql_searches(
    client: httpx.Client, query: str, traces: list[bytes], names: list[list[str]]
) -> None:
    found = search(client, query)
    assert [t["traceID"] for t in found] == [t.hex().lstrip("0") for t in traces]
    assert [[s["name"] for s in t["spanSets"][0]["spans"]] for t in found] == names


def test_trace_ids_lose_their_leading_zeros_and_limits_apply(client: httpx.Client) -> None:
    newest = search(client, "{}", limit="2", spss="1")
    assert [t["traceID"] for t in newest] == ["abc", TRACE_B.hex()]
    assert SHORT_TRACE.hex().lstrip("0") == "abc"
    assert [len(t["spanSets"][0]["spans"]) for t in newest] == [1, 1]
    assert newest[1]["spanSets"][0]["matched"] == 2
    # Grafana then asks for the trace by that short id.
    assert client.get("/api/traces/abc").status_code == 200


def test_a_query_that_does_not_parse_is_a_400_with_its_position(client: httpx.Client) -> None:
    response = client.get("/api/search", params={"q": '{ span.foo = "bar" ', **WINDOW})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("invalid TraceQL query: parse error at line 1, col ")
    both = client.get("/api/search", params={"q": "{}", "tags": "a=b"})
    assert both.status_code == 400


def test_tag_names(client: httpx.Client) -> None:
    v1 = client.get("/api/search/tags", params=WINDOW).json()
    assert {"http.status_code", "http.route", "host.name", "service.name"} <= set(v1["tagNames"])
    resource = client.get("/api/v2/search/tags", params={"scope": "resource", **WINDOW}).json()
    assert resource == {"scopes": [{"name": "resource", "tags": ["host.name", "service.name"]}]}
    every = client.get("/api/v2/search/tags", params=WINDOW).json()
    scopes = {scope["name"]: scope["tags"] for scope in every["scopes"]}
    assert "http.status_code" in scopes["span"]
    assert {"span:name", "span:status", "trace:rootService", "duration"} <= set(scopes["intrinsic"])
    assert client.get("/api/v2/search/tags", params={"scope": "nope"}).status_code == 400


def test_tag_values(client: httpx.Client) -> None:
    def values(tag: str) -> list[dict[str, str]]:
        response = client.get(f"/api/v2/search/tag/{tag}/values", params=WINDOW)
        assert response.status_code == 200, response.text
        return response.json()["tagValues"]  # type: ignore[no-any-return]

    assert values("resource.service.name") == [
        {"type": "string", "value": "cart"},  # three spans
        {"type": "string", "value": "frontend"},
    ]
    assert values("span.http.status_code") == [
        {"type": "int", "value": "200"},
        {"type": "int", "value": "500"},
    ]
    assert values("span:status") == [
        {"type": "keyword", "value": word} for word in ("error", "ok", "unset")
    ]
    assert values("name")[0] == {"type": "string", "value": "cart.get"}
    v1 = client.get("/api/search/tag/service.name/values", params=WINDOW).json()
    assert v1 == {"tagValues": ["cart", "frontend"]}
    assert client.get("/api/v2/search/tag/span:nope/values").status_code == 400


def test_tag_values_of_the_spans_a_query_selects(client: httpx.Client) -> None:
    def values(tag: str, q: str) -> list[str]:
        response = client.get(f"/api/v2/search/tag/{tag}/values", params={"q": q, **WINDOW})
        assert response.status_code == 200, response.text
        return [v["value"] for v in response.json()["tagValues"]]

    assert values("name", '{ resource.service.name = "frontend" }') == [
        "GET /cart",
        "POST /checkout",
    ]
    assert values("resource.service.name", "{ status = error }") == ["cart"]
    assert values("span.http.status_code", "{ duration > 200ms }") == ["200"]
    # As Tempo reads it, a q that is being typed and does not parse yet filters nothing.
    assert values("resource.service.name", '{ resource.service.name = "fr') == [
        "cart",
        "frontend",
    ]


def test_select_adds_values_to_the_shown_spans(client: httpx.Client) -> None:
    [trace] = search(
        client, "{ span.http.status_code = 500 } | select(span.http.route, duration, .nope)"
    )
    [span] = trace["spanSets"][0]["spans"]
    assert span["attributes"] == [
        {"key": "service.name", "value": {"stringValue": "frontend"}},
        {"key": "http.route", "value": {"stringValue": "/cart"}},
        {"key": "span:duration", "value": {"intValue": str(100 * MS)}},
    ]


def test_trace_by_id_v2_with_q_keeps_the_matching_spans(client: httpx.Client) -> None:
    path = f"/api/v2/traces/{TRACE_A.hex()}"
    body = client.get(path, params={"q": "{ status = error }"}).json()
    assert body["status"] == "PARTIAL"
    spans = [
        s for rs in body["trace"]["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]
    ]
    assert [s["name"] for s in spans] == ["cart.get"]
    assert [rs["resource"]["attributes"][0]["value"] for rs in body["trace"]["resourceSpans"]] == [
        {"stringValue": "cart"}
    ]
    whole = client.get(path).json()
    assert "status" not in whole
    # Grafana asks for protobuf: a TraceByIDResponse whose field 3 (status) is PARTIAL.
    raw = client.get(
        path, params={"q": "{ status = error }"}, headers={"Accept": "application/protobuf"}
    ).content
    assert raw.endswith(b"\x18\x01")
    inner = ExportTraceServiceRequest.FromString(raw[2:-2])  # field 1, a one-byte length
    assert [s.name for rs in inner.resource_spans for ss in rs.scope_spans for s in ss.spans] == [
        "cart.get"
    ]
    structural = client.get(path, params={"q": "{ } > { }"})
    assert structural.status_code == 400
    assert "one span set filter" in structural.json()["error"]


def test_legacy_tags_and_trace_durations(client: httpx.Client) -> None:
    def traces(**params: str) -> list[str]:
        response = client.get("/api/search", params={**WINDOW, **params})
        assert response.status_code == 200, response.text
        return [t["traceID"] for t in response.json()["traces"]]

    assert traces(tags="name=cart.get") == [TRACE_B.hex(), TRACE_A.hex()]
    assert traces(tags='service.name=frontend "http.status_code=500"') == [TRACE_A.hex()]
    # Bounds on whole traces' durations: TRACE_B lasts 400 ms, TRACE_A 100, the short 5.
    assert traces(q="{ }", minDuration="300ms") == [TRACE_B.hex()]
    assert traces(q="{ }", maxDuration="50ms") == ["abc"]
    assert traces(q='{ name = "cart.get" }', minDuration="50ms", maxDuration="200ms") == [
        TRACE_A.hex()
    ]
    bad = client.get("/api/search", params={"minDuration": "2s", "maxDuration": "1s"})
    assert (bad.status_code, bad.text) == (
        400,
        "invalid maxDuration: must be greater than minDuration",
    )
    assert client.get("/api/search", params={"tags": "nokey"}).status_code == 400


def test_by_splits_each_traces_spans_into_span_sets(client: httpx.Client) -> None:
    found = search(client, "{ } | by(resource.service.name)")
    by_trace = {
        t["traceID"]: [
            (
                s["attributes"][0]["value"]["stringValue"],
                s["matched"],
                [span["name"] for span in s["spans"]],
            )
            for s in t["spanSets"]
        ]
        for t in found
    }
    key = "by(resource.service.name)"
    assert all(s["attributes"][0]["key"] == key for t in found for s in t["spanSets"])
    assert {trace: sorted(sets) for trace, sets in by_trace.items()} == {
        "abc": [("cart", 1, ["cart.sweep"])],
        TRACE_B.hex(): [("cart", 1, ["cart.get"]), ("frontend", 1, ["POST /checkout"])],
        TRACE_A.hex(): [("cart", 1, ["cart.get"]), ("frontend", 1, ["GET /cart"])],
    }
    # The deprecated spanSet field is the first span set.
    assert all(t["spanSet"] == t["spanSets"][0] for t in found)


def test_stages_after_by_work_per_group_until_coalesce(client: httpx.Client) -> None:
    def sets(q: str) -> dict[str, list[tuple[Any, int, list[str]]]]:
        return {
            t["traceID"]: sorted(
                (
                    [a["value"]["stringValue"] for a in s.get("attributes", [])],
                    s["matched"],
                    sorted(span["name"] for span in s["spans"]),
                )
                for s in t["spanSets"]
            )
            for t in search(client, q)
        }

    # Each service has one span per trace here: only a count of 1 keeps a group.
    assert sets("{ } | by(resource.service.name) | count() > 1") == {}
    assert sets('{ } | by(resource.service.name) | count() = 1 | { name = "cart.get" }') == {
        TRACE_B.hex(): [(["cart"], 1, ["cart.get"])],
        TRACE_A.hex(): [(["cart"], 1, ["cart.get"])],
    }
    # coalesce() makes each trace's groups one span set again.
    servers = sets("{ kind = server }")
    assert servers and all(len(s) == 1 for s in servers.values())
    assert sets("{ kind = server } | by(resource.service.name) | coalesce()") == servers
    several = sets("{ } | count() > 1")
    assert several and sets("count() > 1") == several
