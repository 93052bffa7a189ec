"""Loki's push message, ``logproto.PushRequest`` (``pkg/push/push.proto``), as a protobuf
class built at import from a descriptor, so that protobuf's own decoder reads it.

The messages, field names and numbers are Loki's; its gogoproto options change only the
Go code generated from them, not the wire format, so they are left out::

    PushRequest       streams: repeated StreamAdapter = 1; format: string = 2
    StreamAdapter     labels: string = 1 ({a="b", ...}); entries: repeated EntryAdapter = 2;
                      hash: uint64 = 3
    EntryAdapter      timestamp: google.protobuf.Timestamp = 1; line: string = 2;
                      structuredMetadata: repeated LabelPairAdapter = 3;
                      parsed: repeated LabelPairAdapter = 4 (query answers only)
    LabelPairAdapter  name: string = 1; value: string = 2
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2
from google.protobuf.message import Message

__all__ = ["PushRequest"]

_Field = descriptor_pb2.FieldDescriptorProto
_STRING, _UINT64, _MESSAGE = _Field.TYPE_STRING, _Field.TYPE_UINT64, _Field.TYPE_MESSAGE
_ONE, _MANY = _Field.LABEL_OPTIONAL, _Field.LABEL_REPEATED

# (message, [(number, field, type, label, message type)])
_MESSAGES: list[tuple[str, list[tuple[int, str, int, int, str]]]] = [
    (
        "PushRequest",
        [
            (1, "streams", _MESSAGE, _MANY, ".logproto.StreamAdapter"),
            (2, "format", _STRING, _ONE, ""),
        ],
    ),
    (
        "StreamAdapter",
        [
            (1, "labels", _STRING, _ONE, ""),
            (2, "entries", _MESSAGE, _MANY, ".logproto.EntryAdapter"),
            (3, "hash", _UINT64, _ONE, ""),
        ],
    ),
    (
        "EntryAdapter",
        [
            (1, "timestamp", _MESSAGE, _ONE, ".google.protobuf.Timestamp"),
            (2, "line", _STRING, _ONE, ""),
            (3, "structuredMetadata", _MESSAGE, _MANY, ".logproto.LabelPairAdapter"),
            (4, "parsed", _MESSAGE, _MANY, ".logproto.LabelPairAdapter"),
        ],
    ),
    (
        "LabelPairAdapter",
        [(1, "name", _STRING, _ONE, ""), (2, "value", _STRING, _ONE, "")],
    ),
]


def _push_request() -> type[Message]:
    file = descriptor_pb2.FileDescriptorProto(
        name="otelite/loki/push.proto",
        package="logproto",
        syntax="proto3",
        dependency=[timestamp_pb2.DESCRIPTOR.name],
    )
    for name, fields in _MESSAGES:
        message = file.message_type.add(name=name)
        for number, field, kind, label, type_name in fields:
            message.field.add(
                name=field, number=number, type=kind, label=label, type_name=type_name or None
            )
    # A pool of its own: nothing else registers a logproto package by accident.
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("logproto.PushRequest"))


PushRequest = _push_request()
"""``logproto.PushRequest``: ``PushRequest.FromString(data)``, ``PushRequest()``."""
