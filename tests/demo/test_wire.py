"""The hand-stamped wire bytes parse as the protobuf messages they stand for."""

from __future__ import annotations

import pytest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.demo import _wire


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 16383, 16384, 2**35])
def test_varint_matches_protobuf(value: int) -> None:
    if 0 < value < 20000:
        encoded = KeyValue(key="k" * value).SerializeToString()
        assert encoded == b"\x0a" + _wire.varint(value) + b"k" * value
    assert _wire.varint(value) == _reference_varint(value)


def _reference_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


@pytest.mark.parametrize("size", [0, 127, 128, 16383, 16384, 70000])
def test_field_lengths_of_every_size(size: int) -> None:
    assert Span.FromString(_wire.field(0x2A, b"a" * size)).name == "a" * size


def test_a_stamped_span_equals_the_message() -> None:
    template = Span(name="GET /x", kind=Span.SPAN_KIND_SERVER).SerializeToString()
    body = (
        _wire.span_header(b"t" * 16, b"s" * 8, b"p" * 8, 10, 20)
        + template
        + _wire.attribute(_wire.SPAN_ATTRIBUTE, "url.path", "/x/ü")
        + _wire.attribute(_wire.SPAN_ATTRIBUTE, "n", 7)
        + _wire.attribute(_wire.SPAN_ATTRIBUTE, "ok", True)
        + _wire.event(15, _wire.field(0x12, b"exception"))
        + _wire.link(b"T" * 16, b"S" * 8)
    )
    span = Span.FromString(body)
    assert span.trace_id == b"t" * 16 and span.span_id == b"s" * 8
    assert span.parent_span_id == b"p" * 8
    assert (span.start_time_unix_nano, span.end_time_unix_nano) == (10, 20)
    assert span.name == "GET /x" and span.kind == Span.SPAN_KIND_SERVER
    assert [(a.key, a.value.WhichOneof("value")) for a in span.attributes] == [
        ("url.path", "string_value"),
        ("n", "int_value"),
        ("ok", "bool_value"),
    ]
    assert span.attributes[0].value.string_value == "/x/ü"
    assert (span.events[0].time_unix_nano, span.events[0].name) == (15, "exception")
    assert (span.links[0].trace_id, span.links[0].span_id) == (b"T" * 16, b"S" * 8)
    root = Span.FromString(_wire.span_header(b"t" * 16, b"s" * 8, b"", 1, 2))
    assert root.parent_span_id == b""


def test_a_stamped_log_record_equals_the_message() -> None:
    template = LogRecord(severity_number=9, severity_text="INFO").SerializeToString()
    body = (
        _wire.log_header(42, b"t" * 16, b"s" * 8)
        + template
        + _wire.field(_wire.LOG_BODY, _wire.string_value("hello"))
    )
    record = LogRecord.FromString(body)
    assert (record.time_unix_nano, record.observed_time_unix_nano) == (42, 42)
    assert (record.trace_id, record.span_id, record.flags) == (b"t" * 16, b"s" * 8, 1)
    assert (record.severity_text, record.body.string_value) == ("INFO", "hello")
