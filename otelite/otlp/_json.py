"""OTLP/JSON for export requests and responses, and ``google.rpc.Status`` error bodies.

Implements the "JSON Protobuf Encoding" of the OTLP specification, which differs from
protobuf's canonical JSON mapping: ``traceId``, ``spanId`` and ``parentSpanId`` (and the
ids of links, exemplars and log records) are hex, not base64, and unknown keys are
ignored. On top of that mapping otelite reads enums as integers or value names, 64-bit
integers as strings or numbers (range-checked), doubles as numbers or
``"NaN"``/``"Infinity"``/``"-Infinity"``, and treats ``null`` as absent. It writes enums as
integers, 64-bit integers as decimal strings, and omits fields holding their default
value, except that set oneof members and fields with presence are always written.

The codec walks the message descriptors once, building for every message type a table
from JSON key to a small setter; decoding is then a dictionary lookup and a setter call
per key, straight into the protobuf message.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]

from otelite.errors import InvalidRequest
from otelite.otlp._anyvalue import (
    INT32,
    INT64,
    UINT32,
    UINT64,
    FieldError,
    any_value_to_json,
    decode_any_value,
    decode_key_values,
    describe,
    double_to_json,
    int_converter,
    key_values_to_json,
    read_bool,
    read_double,
    read_string,
    refused,
)
from otelite.types import ExportRequest, ExportResponse, Signal

__all__ = [
    "decode_request_json",
    "decode_response_json",
    "encode_request_json",
    "encode_response_json",
    "encode_status_json",
    "request_from_json",
    "request_to_json",
    "status_proto",
]

_Setter = Callable[[Any, Any], None]
# (attribute name, converter for a plain scalar, or else a setter taking the JSON value)
_Entry = tuple[str, Callable[[Any], Any] | None, _Setter | None]
_Plan = dict[str, _Entry]
_Encoder = Callable[[Any], Any]

_ANY_VALUE = "opentelemetry.proto.common.v1.AnyValue"
_KEY_VALUE = "opentelemetry.proto.common.v1.KeyValue"
_T = FieldDescriptor
_INT_RANGES: dict[int, tuple[int, int, str]] = {
    _T.TYPE_INT32: (*INT32, "int32"),
    _T.TYPE_SINT32: (*INT32, "int32"),
    _T.TYPE_SFIXED32: (*INT32, "int32"),
    _T.TYPE_UINT32: (*UINT32, "uint32"),
    _T.TYPE_FIXED32: (*UINT32, "uint32"),
    _T.TYPE_INT64: (*INT64, "int64"),
    _T.TYPE_SINT64: (*INT64, "int64"),
    _T.TYPE_SFIXED64: (*INT64, "int64"),
    _T.TYPE_UINT64: (*UINT64, "uint64"),
    _T.TYPE_FIXED64: (*UINT64, "uint64"),
}
_64_BIT = {_T.TYPE_INT64, _T.TYPE_SINT64, _T.TYPE_SFIXED64, _T.TYPE_UINT64, _T.TYPE_FIXED64}


def decode_request_json(signal: Signal, body: bytes | str) -> ExportRequest:
    """Decode an OTLP/JSON ``Export*ServiceRequest`` body for ``signal``.

    Raises :class:`~otelite.errors.InvalidRequest` naming the field path for anything
    that is not valid OTLP/JSON (including invalid UTF-8 and bodies that are not objects).
    """
    return request_from_json(signal, _loads(body))


def request_from_json(signal: Signal, obj: Any) -> ExportRequest:
    """Build the ``Export*ServiceRequest`` for ``signal`` from parsed OTLP/JSON."""
    request = signal.request_type()
    _decode_root(obj, request)
    return request


def encode_request_json(request: ExportRequest) -> bytes:
    """OTLP/JSON of ``request`` on one line, no trailing newline (one JSON-lines record)."""
    return orjson.dumps(_encode_message(request))


def request_to_json(request: ExportRequest) -> dict[str, Any]:
    """OTLP/JSON object of ``request``, ready for any JSON serialiser."""
    return _encode_message(request)


def encode_response_json(response: ExportResponse) -> bytes:
    """OTLP/JSON of an export response: ``{}`` unless ``partial_success`` is set.

    A set ``partial_success`` is written whole, its rejected count as an int64 string,
    so that a warning (zero rejected, with a message) reads unambiguously.
    """
    if not response.HasField("partial_success"):
        return b"{}"
    partial = response.partial_success
    count_field, message_field = partial.DESCRIPTOR.fields
    body = {
        count_field.json_name: str(getattr(partial, count_field.name)),
        message_field.json_name: getattr(partial, message_field.name),
    }
    return orjson.dumps({"partialSuccess": body})


def decode_response_json(signal: Signal, body: bytes | str) -> ExportResponse:
    """Decode an OTLP/JSON ``Export*ServiceResponse`` body for ``signal``."""
    response = signal.response_type()
    _decode_root(_loads(body), response)
    return response


def encode_status_json(code: int, message: str) -> bytes:
    """A ``google.rpc.Status`` JSON body, as OTLP/HTTP returns with a 4xx or 5xx."""
    return orjson.dumps({"code": code, "message": message, "details": []})


def status_proto(code: int, message: str) -> bytes:
    """A serialised ``google.rpc.Status``, the protobuf body of an OTLP/HTTP error."""
    data: bytes = Status(code=code, message=message).SerializeToString()
    return data


def _loads(body: bytes | str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        if isinstance(body, bytes):
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as bad:
                raise InvalidRequest(f"body is not valid UTF-8 (byte {bad.start})") from None
        raise InvalidRequest(f"body is not valid JSON: {error}") from None


def _decode_root(obj: Any, message: Any) -> None:
    if type(obj) is not dict:
        raise InvalidRequest(f"body: expected a JSON object, got {describe(obj)}")
    try:
        _decode(_plan(message.DESCRIPTOR, 1), obj, message)
    except FieldError as error:
        raise error.invalid() from None


def _decode(plan: _Plan, obj: Any, message: Any) -> None:
    if type(obj) is not dict:
        raise FieldError(f"expected an object, got {describe(obj)}")
    for key, value in obj.items():
        entry = plan.get(key)
        if entry is None or value is None:
            continue
        try:
            name, convert, setter = entry
            if convert is not None:
                setattr(message, name, convert(value))
            elif setter is not None:
                setter(message, value)
        except FieldError as error:
            error.path.append(key)
            raise
        except (ValueError, TypeError) as error:
            failure = refused(error)
            failure.path.append(key)
            raise failure from None


_PLANS: dict[tuple[str, int], _Plan] = {}


def _plan(descriptor: Descriptor, depth: int) -> _Plan:
    """The setters of the message type ``descriptor`` when it sits at nesting ``depth``."""
    key = (descriptor.full_name, depth)
    plan = _PLANS.get(key)
    if plan is None:
        plan = {field.json_name: _entry(field, depth) for field in descriptor.fields}
        _PLANS[key] = plan
    return plan


def _entry(field: FieldDescriptor, depth: int) -> _Entry:
    name = field.name
    setter: _Setter
    oneof = field.containing_oneof
    # A proto3 `optional` field is alone in its oneof: it excludes nothing.
    exclusive = oneof is not None and len(oneof.fields) > 1
    if field.message_type is None and not field.is_repeated and not exclusive:
        # The common case: _decode sets the converted value itself, saving a call.
        return name, _converter(field), None
    if field.message_type is not None:
        setter = _message_setter(field, field.message_type, depth)
    elif field.is_repeated:
        convert = _converter(field)

        def setter(message: Any, value: Any) -> None:
            if type(value) is not list:
                raise FieldError(f"expected a list, got {describe(value)}")
            items = []
            for i, item in enumerate(value):
                try:
                    items.append(convert(item))
                except FieldError as error:
                    error.path.append(i)
                    raise
            getattr(message, name).extend(items)

    else:
        convert = _converter(field)

        def setter(message: Any, value: Any) -> None:
            setattr(message, name, convert(value))

    if oneof is not None and exclusive:
        setter = _exclusive(setter, oneof.name, field.json_name, oneof.fields)
    return name, None, setter


def _exclusive(
    setter: _Setter, oneof: str, json_name: str, members: Sequence[FieldDescriptor]
) -> _Setter:
    json_names = {member.name: member.json_name for member in members}

    def exclusive(message: Any, value: Any) -> None:
        chosen = message.WhichOneof(oneof)
        if chosen is not None:
            raise FieldError(f"only one of {json_names[chosen]} and {json_name} may be set")
        setter(message, value)

    return exclusive


def _message_setter(field: FieldDescriptor, child: Descriptor, depth: int) -> _Setter:
    name = field.name
    full_name = child.full_name
    if full_name == _KEY_VALUE and field.is_repeated:

        def key_values(message: Any, value: Any) -> None:
            decode_key_values(value, getattr(message, name), depth + 1)

        return key_values
    if full_name == _ANY_VALUE and not field.is_repeated:

        def any_value(message: Any, value: Any) -> None:
            decode_any_value(value, getattr(message, name), depth + 1)

        return any_value
    plan = _plan(child, depth + 1)
    if field.is_repeated:

        def repeated(message: Any, value: Any) -> None:
            if type(value) is not list:
                raise FieldError(f"expected a list, got {describe(value)}")
            add = getattr(message, name).add
            for i, item in enumerate(value):
                try:
                    _decode(plan, item, add())
                except FieldError as error:
                    error.path.append(i)
                    raise

        return repeated

    def single(message: Any, value: Any) -> None:
        child = getattr(message, name)
        child.SetInParent()
        _decode(plan, value, child)

    return single


def _converter(field: FieldDescriptor) -> Callable[[Any], Any]:
    kind = field.type
    if kind == _T.TYPE_STRING:
        return read_string
    if kind == _T.TYPE_BYTES:
        return _read_hex
    if kind == _T.TYPE_BOOL:
        return read_bool
    if kind in (_T.TYPE_DOUBLE, _T.TYPE_FLOAT):
        return read_double
    if kind == _T.TYPE_ENUM:
        assert field.enum_type is not None
        return _enum_converter(field.enum_type)
    lo, hi, label = _INT_RANGES[kind]
    return int_converter(lo, hi, label)


def _read_hex(value: Any) -> bytes:
    # Every bytes field of the OTLP messages outside AnyValue is an id, written as hex.
    if type(value) is str:
        try:
            return binascii.unhexlify(value)
        except (binascii.Error, ValueError):
            pass
    raise FieldError("not a hex string")


def _enum_converter(enum: EnumDescriptor) -> Callable[[Any], int]:
    numbers = {value.name: value.number for value in enum.values}
    as_int = int_converter(*INT32, "an enum")

    def convert(value: Any) -> int:
        if type(value) is str:
            number = numbers.get(value)
            if number is not None:
                return number
            if not value.removeprefix("-").isdigit():
                raise FieldError(f"unknown {enum.name} name {value!r:.60}")
        return as_int(value)

    return convert


def _encode_message(message: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        entry = _ENCODERS.get(field)
        if entry is None:
            entry = _ENCODERS[field] = (field.json_name, _encoder(field))
        out[entry[0]] = entry[1](value)
    return out


_ENCODERS: dict[FieldDescriptor, tuple[str, _Encoder]] = {}


def _encoder(field: FieldDescriptor) -> _Encoder:
    single: _Encoder
    if field.message_type is not None:
        full_name = field.message_type.full_name
        if full_name == _KEY_VALUE and field.is_repeated:
            return key_values_to_json
        single = any_value_to_json if full_name == _ANY_VALUE else _encode_message
    elif field.type == _T.TYPE_BYTES:
        single = bytes.hex
    elif field.type in _64_BIT:
        single = str
    elif field.type in (_T.TYPE_DOUBLE, _T.TYPE_FLOAT):
        single = double_to_json
    else:
        # Strings, bools, enums (as integers) and 32-bit integers are written as they are.
        return list if field.is_repeated else _same
    if field.is_repeated:
        return lambda values: [single(v) for v in values]
    return single


def _same(value: Any) -> Any:
    return value
