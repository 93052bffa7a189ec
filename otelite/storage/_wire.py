"""Export requests re-read with every attribute left encoded: the view flattening works on.

Reading an attribute through the protobuf API costs a Python object for the ``KeyValue``,
another for its ``AnyValue`` and a call to find which value is set — about a microsecond
each, ten or more times per span, which made attributes most of the ingest cost. A view
message class has the same fields and numbers as the OTLP message it mirrors, except that
each ``repeated KeyValue`` field is ``repeated bytes``: parsing a request as its view
hands every attribute over as the bytes of its ``KeyValue``. Equal attributes are equal
bytes, so ``AttributeColumns`` decodes each distinct one once per batch and looks the
rest up in a dict.

Views are built at import from the real descriptors, so they follow the installed
``opentelemetry-proto``; enums read as their integers, oneofs and optional fields keep
their presence rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportTraceServiceRequest,
)

__all__ = ["encoded_view", "encoded_views"]

_PACKAGE = "otelite.storage.wire"
_KEY_VALUE = KeyValue.DESCRIPTOR.full_name
_ANY_VALUE = AnyValue.DESCRIPTOR.full_name


def _reachable(root: Descriptor) -> list[Descriptor]:
    """Message types reachable from ``root``, stopping at ``KeyValue`` and ``AnyValue``."""
    found: dict[str, Descriptor] = {}
    todo = [root]
    while todo:
        descriptor = todo.pop()
        if descriptor.full_name in found:
            continue
        found[descriptor.full_name] = descriptor
        for field in descriptor.fields:
            message = field.message_type
            if message is not None and message.full_name not in (_KEY_VALUE, _ANY_VALUE):
                todo.append(message)
    return list(found.values())


def _view_name(descriptor: Descriptor) -> str:
    return descriptor.full_name.replace(".", "_")


def _build(roots: list[Descriptor]) -> dict[str, type[Message]]:
    file = descriptor_pb2.FileDescriptorProto(
        name="otelite/storage/wire.proto", package=_PACKAGE, syntax="proto3"
    )
    file.dependency.append(AnyValue.DESCRIPTOR.file.name)  # log bodies stay real AnyValues
    names: set[str] = set()
    for root in roots:
        for descriptor in _reachable(root):
            name = _view_name(descriptor)
            if name in names:
                continue
            names.add(name)
            message = file.message_type.add()
            descriptor.CopyToProto(message)
            message.name = name
            del message.nested_type[:]  # nested messages become top-level views
            del message.enum_type[:]
            for field, proto in zip(descriptor.fields, message.field, strict=True):
                if field.enum_type is not None:
                    proto.type = descriptor_pb2.FieldDescriptorProto.TYPE_INT32
                    proto.ClearField("type_name")
                elif field.message_type is None or field.message_type.full_name == _ANY_VALUE:
                    continue
                elif field.message_type.full_name == _KEY_VALUE:
                    proto.type = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES
                    proto.ClearField("type_name")
                else:
                    proto.type_name = f".{_PACKAGE}.{_view_name(field.message_type)}"
    pool = descriptor_pool.Default()
    pool.Add(file)
    return {
        root.full_name: message_factory.GetMessageClass(
            pool.FindMessageTypeByName(f"{_PACKAGE}.{_view_name(root)}")
        )
        for root in roots
    }


_VIEWS = _build(
    [
        ExportTraceServiceRequest.DESCRIPTOR,
        ExportLogsServiceRequest.DESCRIPTOR,
        ExportMetricsServiceRequest.DESCRIPTOR,
    ]
)


def encoded_view(request: Message) -> Any:
    """``request`` parsed as its view: the same fields, attributes as ``KeyValue`` bytes."""
    view = _VIEWS[request.DESCRIPTOR.full_name]
    return view.FromString(request.SerializeToString())


def encoded_views(message_type: type[Message], requests: Iterable[Message | bytes]) -> list[Any]:
    """Each request as its view; a request given serialized is parsed straight into it.

    ``message_type`` is the type of every request (``ExportTraceServiceRequest``, ...).
    Serialized requests (as the write-ahead log holds them) skip building the message.
    """
    view = _VIEWS[message_type.DESCRIPTOR.full_name]
    return [
        view.FromString(request if isinstance(request, bytes) else request.SerializeToString())
        for request in requests
    ]
