"""Every kind of bad input the hardening issue lists, sent to a whole server: exact outcomes.

Each case names what is sent and what must come back — status, message, and what storage
then holds — so that a change in behaviour is a test failure, not a surprise.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import os
import time
import zlib
from typing import Any

import grpc
import orjson
import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.types import ExportTraceServiceRequest, ExportTraceServiceResponse

from .conftest import Running

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}
LIMIT = 1 << 20  # the ``running`` server's max_request_bytes
TOO_LARGE = "request body is over the limit of 1 MiB (after decompression); send smaller batches"
CORRUPT = (
    "could not decode the body as protobuf: Error parsing message with type "
    "'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest': Wire format was corrupt"
)
_ids = itertools.count(1)


def new_trace_id() -> bytes:
    return next(_ids).to_bytes(8, "big") + os.urandom(8)


def span(trace_id: bytes, n: int = 1, /, **fields: Any) -> Span:
    now = time.time_ns()
    values: dict[str, Any] = {
        "trace_id": trace_id,
        "span_id": n.to_bytes(8, "big"),
        "name": f"op-{n}",
        "start_time_unix_nano": now,
        "end_time_unix_nano": now + 1000,
    }
    values.update(fields)
    return Span(**values)


def traces(*spans: Span) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.add(key="service.name", value=AnyValue(string_value="bad"))
    resource.scope_spans.add().spans.extend(spans)
    return request


def post(running: Running, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """Status code and the message of the reply (error status or partial success)."""
    response = running.otlp.post("/v1/traces", content=body, headers=headers)
    json = response.headers["content-type"] == "application/json"
    if response.status_code != 200:
        message = (
            orjson.loads(response.content)["message"]
            if json
            else (Status.FromString(response.content).message)
        )
        return response.status_code, message
    if json:
        partial = orjson.loads(response.content).get("partialSuccess", {})
        return 200, partial.get("errorMessage", "")
    reply = ExportTraceServiceResponse.FromString(response.content)
    return 200, reply.partial_success.error_message


def stored_spans(running: Running, trace_id: bytes) -> list[dict[str, Any]]:
    running.flush()
    response = running.api.get(f"/api/traces/{trace_id.hex()}")
    if response.status_code == 404:
        return []
    response.raise_for_status()
    return [
        s
        for batch in response.json()["batches"]
        for scope in batch["scopeSpans"]
        for s in scope["spans"]
    ]


VALID = traces(span(bytes(range(1, 17)))).SerializeToString()


# --- bodies that cannot be read ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        pytest.param(VALID[:-3], PROTOBUF, 400, CORRUPT, id="truncated protobuf"),
        pytest.param(b"\xff" * 64, PROTOBUF, 400, CORRUPT, id="random bytes"),
        pytest.param(
            gzip.compress(VALID)[:-10],
            {**PROTOBUF, "Content-Encoding": "gzip"},
            400,
            "body is not valid gzip: the stream ends early",
            id="truncated gzip",
        ),
        pytest.param(
            b"{not json",
            JSON,
            400,
            "body is not valid JSON: unexpected character, expected a string key: line 1 column 2 "
            "(char 1)",
            id="not JSON",
        ),
        pytest.param(
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "\xff"}]}]}]}',
            JSON,
            400,
            "body is not valid UTF-8 (byte 56)",  # the offset of the \xff
            id="invalid UTF-8 in JSON",
        ),
        pytest.param(
            traces(span(bytes(range(1, 17)), name="ab"))
            .SerializeToString()
            .replace(b"ab", b"a\xff"),
            PROTOBUF,
            400,
            "could not decode the body as protobuf: Error parsing message with type "
            "'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest': "
            "String field had bad UTF-8",
            id="invalid UTF-8 in protobuf",
        ),
        pytest.param(
            VALID,
            {**PROTOBUF, "Content-Encoding": "br"},
            415,
            "Content-Encoding 'br' is not supported; use one of: gzip, identity",
            id="unsupported Content-Encoding",
        ),
        pytest.param(
            VALID,
            {"Content-Type": "text/plain"},
            415,
            "Content-Type 'text/plain' is not supported; "
            "use application/x-protobuf or application/json",
            id="wrong Content-Type",
        ),
        pytest.param(
            gzip.compress(bytes(LIMIT + 1)),
            {**PROTOBUF, "Content-Encoding": "gzip"},
            413,
            TOO_LARGE,
            id="gzip past the limit",
        ),
        pytest.param(
            gzip.compress(bytes(LIMIT // 2)) * 3,
            {**PROTOBUF, "Content-Encoding": "gzip"},
            413,
            TOO_LARGE,
            id="gzip members that together pass the limit",
        ),
        pytest.param(
            bytes(LIMIT + 1),
            PROTOBUF,
            413,
            TOO_LARGE.replace("after decompression", f"Content-Length {LIMIT + 1}"),
            id="identity past the limit",
        ),
    ],
)
def test_unreadable_bodies(
    running: Running, body: bytes, headers: dict[str, str], status: int, message: str
) -> None:
    assert post(running, body, headers) == (status, message)


def test_gzip_bomb_is_refused_before_it_inflates(running: Running) -> None:
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    bomb = b"".join(deflate.compress(zeros) for _ in range(64)) + deflate.flush()
    assert len(bomb) < LIMIT // 10  # 64 MiB of zeros, 64 times the limit, in ~64 KiB
    assert post(running, bomb, {**PROTOBUF, "Content-Encoding": "gzip"}) == (413, TOO_LARGE)


def test_grpc_rejects_garbage_and_oversize(running: Running) -> None:
    with grpc.insecure_channel(running.grpc_target) as channel:
        method = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        with pytest.raises(grpc.RpcError) as garbage:
            method(b"\xff" * 64)
        with pytest.raises(grpc.RpcError) as oversize:
            method(bytes(LIMIT + 1))
    assert garbage.value.code() is grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert garbage.value.details() == CORRUPT  # type: ignore[attr-defined]
    assert oversize.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]


# --- ids -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"trace_id": bytes(range(15))}, "trace_id must be 16 bytes, got 15"),
        ({"trace_id": bytes(16)}, "trace_id must not be all zeros"),
        ({"span_id": bytes(range(1, 10))}, "span_id must be 8 bytes, got 9"),
        ({"span_id": bytes(8)}, "span_id must not be all zeros"),
        ({"parent_span_id": b"\x01"}, "parent_span_id must be empty or 8 bytes, got 1"),
    ],
)
def test_bad_ids_reject_only_their_span(
    running: Running, fields: dict[str, Any], reason: str
) -> None:
    trace_id = new_trace_id()
    request = traces(span(trace_id, 1), span(trace_id, 2, **fields))
    status, message = post(running, request.SerializeToString(), PROTOBUF)
    assert (status, message) == (
        200,
        f"rejected 1 span: resourceSpans[0].scopeSpans[0].spans[1]: {reason}",
    )
    assert [s["name"] for s in stored_spans(running, trace_id)] == ["op-1"]


# --- OTLP/JSON spellings -------------------------------------------------------------


def json_span(trace_id: bytes, **fields: Any) -> dict[str, Any]:
    now = time.time_ns()
    span = {
        "traceId": trace_id.hex(),
        "spanId": "0000000000000001",
        "name": "json",
        "kind": 2,
        "startTimeUnixNano": str(now),
        "endTimeUnixNano": str(now + 5),
    }
    span.update(fields)
    return span


def json_body(*spans: dict[str, Any]) -> bytes:
    return orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]})


def test_json_base64_ids_are_refused(running: Running) -> None:
    trace_id = new_trace_id()
    body = json_body(json_span(trace_id, traceId=base64.b64encode(trace_id).decode()))
    assert post(running, body, JSON) == (
        400,
        "resourceSpans[0].scopeSpans[0].spans[0].traceId: not a hex string",
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"kind": "SPAN_KIND_SERVER"}, {"kind": 2}),  # enum names are read too
        ({"startTimeUnixNano": 1_700_000_000_000_000_001}, {}),  # int64 as a number
        ({"startTimeUnixNano": "1700000000000000001"}, {}),  # int64 as a string
        ({"unknownField": {"nested": [1, 2]}, "flags": 1}, {"flags": 1}),  # unknown: ignored
        ({"parent_span_id": "zz", "trace_state": "x"}, {}),  # snake_case: unknown, ignored
    ],
)
def test_json_spellings_are_read_as_the_spec_says(
    running: Running, fields: dict[str, Any], expected: dict[str, Any]
) -> None:
    trace_id = new_trace_id()
    sent = json_span(trace_id, **fields)
    assert post(running, json_body(sent), JSON) == (200, "")
    [stored] = stored_spans(running, trace_id)
    assert stored["kind"] == expected.get("kind", 2)
    assert stored.get("flags", 0) == expected.get("flags", 0)
    assert "parentSpanId" not in stored and "traceState" not in stored
    if "startTimeUnixNano" in fields:
        assert stored["startTimeUnixNano"] == "1700000000000000001"


def test_nesting_deeper_than_the_decoders_allow_is_400(running: Running) -> None:
    value: dict[str, Any] = {"stringValue": "leaf"}
    for _ in range(60):
        value = {"arrayValue": {"values": [value]}}
    trace_id = new_trace_id()
    body = json_body(json_span(trace_id, attributes=[{"key": "deep", "value": value}]))
    assert post(running, body, JSON) == (
        400,
        "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value"
        + ".arrayValue.values[0]" * 47
        + ".arrayValue: nested deeper than 100 messages",
    )
    # Written by hand: the protobuf library itself refuses to build a message this deep.
    deep = field(1, b"leaf")  # AnyValue.string_value
    for _ in range(60):
        deep = field(5, field(1, deep))  # AnyValue.array_value, ArrayValue.values
    attribute = field(1, b"deep") + field(2, deep)  # KeyValue
    span_bytes = span(trace_id).SerializeToString() + field(9, attribute)  # Span.attributes
    body = field(1, field(2, field(2, span_bytes)))
    too_deep = CORRUPT.replace("Wire format was corrupt", "Exceeded upb_DecodeOptions_MaxDepth")
    assert post(running, body, PROTOBUF) == (400, too_deep)


def field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field."""
    size, length = len(payload), bytearray()
    while size >= 0x80:
        length.append(size & 0x7F | 0x80)
        size >>= 7
    length.append(size)
    return bytes([number << 3 | 2]) + bytes(length) + payload


def test_nesting_within_the_limit_is_stored_as_sent(running: Running) -> None:
    deep = AnyValue(string_value="leaf")
    for _ in range(40):
        outer = AnyValue()
        outer.array_value.values.append(deep)
        deep = outer
    trace_id = new_trace_id()
    request = traces(span(trace_id, attributes=[KeyValue(key="deep", value=deep)]))
    assert post(running, request.SerializeToString(), PROTOBUF) == (200, "")
    [stored] = stored_spans(running, trace_id)
    value = stored["attributes"][0]["value"]
    for _ in range(40):
        value = value["arrayValue"]["values"][0]
    assert value == {"stringValue": "leaf"}


# --- limits that cut -----------------------------------------------------------------


def test_huge_attribute_values_are_truncated_and_reported(running: Running) -> None:
    trace_id = new_trace_id()
    attributes = [
        KeyValue(key="big", value=AnyValue(string_value="x" * 100_000)),
        KeyValue(key="blob", value=AnyValue(bytes_value=b"\x01" * 70_000)),
    ]
    stats = running.server._pipeline.stats  # type: ignore[union-attr]
    before = stats.truncated_values
    request = traces(span(trace_id, attributes=attributes))
    assert post(running, request.SerializeToString(), PROTOBUF) == (
        200,
        "accepted with limits applied: resourceSpans[0].scopeSpans[0].spans[0].attributes[0] "
        "'big': string of 100000 characters truncated to 65536 (limit "
        "max_attribute_value_length=65536); resourceSpans[0].scopeSpans[0].spans[0]."
        "attributes[1] 'blob': bytes value of 70000 bytes truncated to 65536 (limit "
        "max_attribute_value_length=65536)",
    )
    [stored] = stored_spans(running, trace_id)
    values = {a["key"]: a["value"] for a in stored["attributes"]}
    assert values["big"] == {"stringValue": "x" * 65536}
    assert base64.b64decode(values["blob"]["bytesValue"]) == b"\x01" * 65536
    assert stats.truncated_values == before + 2


def test_attributes_past_the_limit_are_dropped_and_counted(running: Running) -> None:
    trace_id = new_trace_id()
    attributes = [KeyValue(key=f"k{i}", value=AnyValue(int_value=i)) for i in range(130)]
    request = traces(span(trace_id, attributes=attributes))
    assert post(running, request.SerializeToString(), PROTOBUF) == (
        200,
        "accepted with limits applied: resourceSpans[0].scopeSpans[0].spans[0]: 2 of 130 "
        "attributes dropped (limit max_attributes=128)",
    )
    [stored] = stored_spans(running, trace_id)
    assert len(stored["attributes"]) == 128
    assert stored["droppedAttributesCount"] == 2


# --- data that is odd but stored -----------------------------------------------------


def test_duplicate_attribute_keys_keep_the_first(running: Running) -> None:
    trace_id = new_trace_id()
    attributes = [
        KeyValue(key="k", value=AnyValue(string_value="first")),
        KeyValue(key="k", value=AnyValue(int_value=2)),
    ]
    request = traces(span(trace_id, attributes=attributes))
    assert post(running, request.SerializeToString(), PROTOBUF) == (200, "")
    [stored] = stored_spans(running, trace_id)
    assert stored["attributes"] == [{"key": "k", "value": {"stringValue": "first"}}]


def test_resent_batches_are_stored_once_and_distinct_duplicates_kept(running: Running) -> None:
    trace_id = new_trace_id()
    request = traces(span(trace_id, 1), span(trace_id, 2))
    for _ in range(3):  # a client re-sending after timeouts
        assert post(running, request.SerializeToString(), PROTOBUF) == (200, "")
    assert sorted(s["name"] for s in stored_spans(running, trace_id)) == ["op-1", "op-2"]
    # Same span id, different content: both are what a client sent, so both are kept.
    clash = traces(span(trace_id, 1, name="op-1-again"))
    assert post(running, clash.SerializeToString(), PROTOBUF) == (200, "")
    names = sorted(s["name"] for s in stored_spans(running, trace_id))
    assert names == ["op-1", "op-1-again", "op-2"]


def test_end_before_start_and_zero_timestamps_are_kept_and_never_wrap(running: Running) -> None:
    now = time.time_ns()
    cases = {  # one trace each, so that each trace's duration is its span's
        "end before start": (now, now - 10**9),
        "zero start and end": (0, 0),
        "zero end": (now, 0),
    }
    trace_ids = {name: new_trace_id() for name in cases}
    request = traces(
        *(
            span(trace_ids[name], 1, name=name, start_time_unix_nano=start, end_time_unix_nano=end)
            for name, (start, end) in cases.items()
        )
    )
    assert post(running, request.SerializeToString(), PROTOBUF) == (200, "")
    for name, (start, end) in cases.items():
        [stored] = stored_spans(running, trace_ids[name])
        assert int(stored.get("startTimeUnixNano", 0)) == start  # raw values kept
        assert int(stored.get("endTimeUnixNano", 0)) == end
    search = running.api.get(
        "/api/search/traces", params={"service": "bad", "start": "0", "limit": "1000"}
    )
    search.raise_for_status()
    durations = {t["traceId"]: t["durationMs"] for t in search.json()["traces"]}
    for trace_id in trace_ids.values():
        assert durations[trace_id.hex()] == 0  # clamped, never wrapped to ~585 years


@pytest.mark.parametrize(
    "body",
    [
        b"",
        ExportTraceServiceRequest(resource_spans=[{}]).SerializeToString(),
        ExportTraceServiceRequest(resource_spans=[{"scope_spans": [{}]}]).SerializeToString(),
    ],
    ids=["empty request", "empty resource", "empty scope"],
)
def test_empty_requests_and_envelopes_are_200(running: Running, body: bytes) -> None:
    assert post(running, body, PROTOBUF) == (200, "")
    assert post(running, b"{}", JSON) == (200, "")


def test_a_trace_of_20000_spans_is_stored_and_viewable(running: Running) -> None:
    trace_id = new_trace_id()
    spans = [span(trace_id, n, parent_span_id=(1).to_bytes(8, "big")) for n in range(2, 20_002)]
    for chunk in range(0, len(spans), 5_000):  # four requests, each under the 1 MiB limit
        body = traces(*spans[chunk : chunk + 5_000]).SerializeToString()
        assert post(running, body, PROTOBUF) == (200, "")
    stored = stored_spans(running, trace_id)
    assert len(stored) == 20_000
    assert {int(s["spanId"], 16) for s in stored} == set(range(2, 20_002))
