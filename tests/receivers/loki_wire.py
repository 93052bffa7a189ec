"""Loki push bodies as Loki's clients send them, written here from ``pkg/push/push.proto``
by hand (field numbers and wire types), independently of otelite's descriptor, so that
otelite reading them shows that its descriptor is Loki's."""

from __future__ import annotations

import cramjam

from otelite.demo._wire import field, varint

Entry = tuple[int, str | bytes, dict[str, str]]
"""(Unix nanoseconds, line, structured metadata); a line in bytes is sent as they are."""


def push_protobuf(streams: list[tuple[str, list[Entry]]]) -> bytes:
    """A ``logproto.PushRequest`` of ``(labels text, entries)`` streams, snappy-compressed
    in the block format as Promtail sends it."""
    return snappy(push_request(streams))


def snappy(data: bytes) -> bytes:
    """``data`` compressed in snappy's block format."""
    return bytes(cramjam.snappy.compress_raw(data))


def push_request(streams: list[tuple[str, list[Entry]]]) -> bytes:
    """The same, uncompressed."""
    out = b""
    for labels, entries in streams:
        stream = _field(1, labels.encode())  # StreamAdapter.labels
        for time_ns, line, metadata in entries:
            seconds, nanos = divmod(time_ns, 1_000_000_000)
            stamp = _varint_field(1, seconds) + _varint_field(2, nanos)  # Timestamp
            raw = line if isinstance(line, bytes) else line.encode()
            entry = _field(1, stamp) + _field(2, raw)  # EntryAdapter
            for name, value in metadata.items():  # structuredMetadata: LabelPairAdapter
                entry += _field(3, _field(1, name.encode()) + _field(2, value.encode()))
            stream += _field(2, entry)  # StreamAdapter.entries
        out += _field(1, stream)  # PushRequest.streams
    return out


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return field(number << 3 | 2, payload)


def _varint_field(number: int, value: int) -> bytes:
    """A varint field (wire type 0); negative values in two's complement, as int64 is."""
    return varint(number << 3) + varint(value & (1 << 64) - 1) if value else b""
