"""Just enough of the protobuf wire format to stamp out OTLP records from templates.

The generator builds each span and log record once as a real protobuf message, keeps its
serialised bytes, and at run time only prefixes the fields that change (ids, times) and
appends a few pre-encoded values. Protobuf parsers merge repeated fields that arrive in
several pieces, so ``prefix + template + extra attributes`` is one valid message. This is
what makes the generator fast enough to feed a benchmark (see ``otelite.demo``).

Field tags below are ``(field_number << 3) | wire_type`` of the OTLP messages; every one of
them fits in a single byte.
"""

from __future__ import annotations

import struct

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

__all__ = [
    "EVENT",
    "LINK",
    "LOG_ATTRIBUTE",
    "LOG_BODY",
    "SPAN_ATTRIBUTE",
    "SPAN_STATUS",
    "attribute",
    "event",
    "field",
    "key_value",
    "link",
    "log_header",
    "span_header",
    "string_value",
    "varint",
]

# Span (opentelemetry.proto.trace.v1.Span) fields.
SPAN_ATTRIBUTE = 0x4A  # 9 attributes
EVENT = 0x5A  # 11 events
LINK = 0x6A  # 13 links
SPAN_STATUS = 0x7A  # 15 status
# LogRecord fields.
LOG_BODY = 0x2A  # 5 body
LOG_ATTRIBUTE = 0x32  # 6 attributes

# trace_id (1), span_id (2), start (7, fixed64), end (8, fixed64); parent (4) optional.
_SPAN_ROOT = struct.Struct("<2s16s2s8sBQBQ")
_SPAN_CHILD = struct.Struct("<2s16s2s8s2s8sBQBQ")
# time (1, fixed64), flags (8, fixed32), trace_id (9), span_id (10), observed time (11).
_LOG = struct.Struct("<BQBI2s16s2s8sBQ")
_EVENT_TIME = struct.Struct("<BQ")
_LINK_IDS = struct.Struct("<2s16s2s8s")
_TRACE_ID = b"\x0a\x10"
_SPAN_ID = b"\x12\x08"
_PARENT_ID = b"\x22\x08"
_SAMPLED = 1


def varint(value: int) -> bytes:
    """A non-negative integer as a protobuf varint."""
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field: one-byte ``tag``, length, ``payload``."""
    size = len(payload)
    if size < 0x80:
        return bytes((tag, size)) + payload
    if size < 0x4000:  # most spans: a two-byte length, without the general loop
        return bytes((tag, (size & 0x7F) | 0x80, size >> 7)) + payload
    return bytes((tag,)) + varint(size) + payload


def string_value(text: str) -> bytes:
    """An ``AnyValue`` holding ``text``, serialised."""
    return field(0x0A, text.encode())


def attribute(tag: int, key: str, value: str | int | float | bool) -> bytes:
    """One ``KeyValue`` as the repeated field ``tag`` of its parent message."""
    if isinstance(value, str):
        encoded = field(0x0A, key.encode()) + field(0x12, string_value(value))
    else:
        encoded = key_value(key, value).SerializeToString()
    return field(tag, encoded)


def key_value(key: str, value: str | int | float | bool) -> KeyValue:
    """``value`` as an OTLP attribute of its own type."""
    if isinstance(value, str):
        return KeyValue(key=key, value=AnyValue(string_value=value))
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(double_value=value))


def span_header(trace_id: bytes, span_id: bytes, parent: bytes, start: int, end: int) -> bytes:
    """The fields of a span that differ from one span to the next."""
    if parent:
        return _SPAN_CHILD.pack(
            _TRACE_ID, trace_id, _SPAN_ID, span_id, _PARENT_ID, parent, 0x39, start, 0x41, end
        )
    return _SPAN_ROOT.pack(_TRACE_ID, trace_id, _SPAN_ID, span_id, 0x39, start, 0x41, end)


def event(time: int, static: bytes) -> bytes:
    """A span event field: its time, then the pre-encoded name and attributes."""
    return field(EVENT, _EVENT_TIME.pack(0x09, time) + static)


def link(trace_id: bytes, span_id: bytes, static: bytes = b"") -> bytes:
    """A span link field to ``trace_id``/``span_id``, with pre-encoded attributes."""
    return field(LINK, _LINK_IDS.pack(_TRACE_ID, trace_id, _SPAN_ID, span_id) + static)


def log_header(time: int, trace_id: bytes, span_id: bytes) -> bytes:
    """The fields of a log record that differ from one record to the next (sampled flag set)."""
    return _LOG.pack(
        0x09, time, 0x45, _SAMPLED, b"\x4a\x10", trace_id, b"\x52\x08", span_id, 0x59, time
    )
