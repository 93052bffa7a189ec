"""OTLP/JSON scalars, ``AnyValue`` and attribute lists, both directions.

Follows the OTLP/JSON rules of the specification: keys are lowerCamelCase, 64-bit
integers are written as decimal strings and read from strings or numbers, bytes are
base64, non-finite doubles are the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
Unknown keys and ``null`` values are ignored.

Decoders raise :class:`FieldError`, which collects the path to the bad field while it
unwinds, so that the happy path never formats a path string; the public functions turn it
into :class:`~otelite.errors.InvalidRequest` with the full path.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otelite.errors import InvalidRequest

__all__ = [
    "MAX_DEPTH",
    "FieldError",
    "any_value_from_json",
    "any_value_plain",
    "any_value_to_json",
    "bytes_from_json",
    "decode_any_value",
    "decode_key_values",
    "describe",
    "double_from_json",
    "double_to_json",
    "int64_from_json",
    "int_converter",
    "key_values_from_json",
    "key_values_to_json",
    "read_base64",
    "read_bool",
    "read_double",
    "read_string",
    "refused",
]

MAX_DEPTH = 100
"""Deepest message nesting accepted (the request is depth 1).

It is the protobuf runtime's own decoding limit: anything decoded from JSON can then be
written as protobuf and read back (WAL, gRPC export) without hitting it.
"""

INT32 = (-(2**31), 2**31 - 1)
UINT32 = (0, 2**32 - 1)
INT64 = (-(2**63), 2**63 - 1)
UINT64 = (0, 2**64 - 1)
_MAX_DIGITS = 40  # more than any 64-bit integer needs, even with a few leading zeros
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)


class FieldError(Exception):
    """A bad value; ``path`` gathers the keys and indices leading to it, innermost first."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str | int] = []

    def invalid(self, prefix: str = "") -> InvalidRequest:
        """The :class:`InvalidRequest` to raise, its path starting at ``prefix``."""
        where = prefix
        for step in reversed(self.path):
            if isinstance(step, int):
                where += f"[{step}]"
            else:
                where += f".{step}" if where else step
        return InvalidRequest(f"{where}: {self.message}" if where else self.message)


def refused(error: ValueError | TypeError) -> FieldError:
    """The :class:`FieldError` for a value the protobuf runtime refused past our checks.

    Only Python objects can carry such values (text with lone surrogates, say): JSON
    parsed from bytes never does.
    """
    if isinstance(error, UnicodeError):
        return FieldError("not valid Unicode text (lone surrogate)")
    return FieldError(str(error))


def describe(value: Any) -> str:
    """A short description of a JSON value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return f"{value!r:.60}"
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else type(value).__name__


def int_converter(lo: int, hi: int, kind: str) -> Callable[[Any], int]:
    """A reader of integers in ``[lo, hi]`` given as JSON numbers or decimal strings."""

    def convert(value: Any) -> int:
        kind_of = type(value)
        if kind_of is int:
            number: int = value
        elif kind_of is str and value.isascii() and value.removeprefix("-").isdigit():
            # isdigit() alone would also take "٣" and "²"; int() would take " 1" and "1_0".
            if len(value) > _MAX_DIGITS:  # also keeps int() far from its digit limit
                raise FieldError(f"{value:.30}… is out of range for {kind} [{lo}, {hi}]")
            number = int(value)
        elif kind_of is float and value.is_integer():
            number = int(value)
        else:
            raise FieldError(f"expected an integer, got {describe(value)}")
        if lo <= number <= hi:
            return number
        raise FieldError(f"{number} is out of range for {kind} [{lo}, {hi}]")

    return convert


_int64 = int_converter(*INT64, "int64")
_int32 = int_converter(*INT32, "int32")


def double_to_json(value: float) -> float | str:
    """A double as OTLP/JSON writes it (non-finite values become strings)."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def read_double(value: Any) -> float:
    """A double given as a JSON number, a numeric string or NaN/Infinity/-Infinity."""
    kind_of = type(value)
    if kind_of is float:
        return float(value)
    if kind_of is int:
        try:
            return float(value)
        except OverflowError:
            raise FieldError(f"{describe(value)} is out of range for a double") from None
    if kind_of is str:
        special = _NON_FINITE.get(value)
        if special is not None:
            return special
        if _NUMBER.fullmatch(value):
            number = float(value)
            if math.isfinite(number):
                return number
            raise FieldError(f"{value:.60} is out of range for a double")
    raise FieldError(f"expected a number, got {describe(value)}")


def read_string(value: Any) -> str:
    """A JSON string, unchanged."""
    if isinstance(value, str):
        return value
    raise FieldError(f"expected a string, got {describe(value)}")


def read_bool(value: Any) -> bool:
    """JSON ``true`` or ``false``."""
    if value is True or value is False:
        return value
    raise FieldError(f"expected true or false, got {describe(value)}")


def read_base64(value: Any) -> bytes:
    """Standard or URL-safe base64, padded or not, as protobuf's JSON mapping allows."""
    if not isinstance(value, str):
        raise FieldError(f"expected a base64 string, got {describe(value)}")
    cleaned = value.replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise FieldError("not valid base64") from None


def double_from_json(value: Any, field: str) -> float:
    """Read a double given as a JSON number or as one of the protobuf JSON strings."""
    try:
        return read_double(value)
    except FieldError as error:
        raise error.invalid(field) from None


def int64_from_json(value: Any, field: str, *, lo: int = INT64[0], hi: int = INT64[1]) -> int:
    """Read a 64-bit integer given as a JSON number or a decimal string, checking its range."""
    convert = _int64 if (lo, hi) == INT64 else int_converter(lo, hi, "this field")
    try:
        return convert(value)
    except FieldError as error:
        raise error.invalid(field) from None


def bytes_from_json(text: Any, field: str) -> bytes:
    """Read base64 (standard or URL-safe, padded or not)."""
    try:
        return read_base64(text)
    except FieldError as error:
        raise error.invalid(field) from None


def any_value_to_json(value: AnyValue) -> dict[str, Any]:
    """``AnyValue`` → OTLP/JSON object (``{}`` for an empty value)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return {"stringValue": value.string_value}
    if kind is None:
        return {}
    if kind == "int_value":
        return {"intValue": str(value.int_value)}
    if kind == "double_value":
        return {"doubleValue": double_to_json(value.double_value)}
    if kind == "bool_value":
        return {"boolValue": value.bool_value}
    if kind == "bytes_value":
        return {"bytesValue": base64.b64encode(value.bytes_value).decode("ascii")}
    if kind == "array_value":
        return {"arrayValue": {"values": [any_value_to_json(v) for v in value.array_value.values]}}
    if kind == "kvlist_value":
        return {"kvlistValue": {"values": key_values_to_json(value.kvlist_value.values)}}
    if kind == "string_value_strindex":
        return {"stringValueStrindex": value.string_value_strindex}
    raise AssertionError(f"unhandled AnyValue kind {kind}")


def any_value_plain(value: AnyValue) -> Any:
    """``AnyValue`` → the plain JSON value a reader expects: strings, numbers (non-finite
    doubles as ``"NaN"``, ``"Infinity"``), booleans, lists, objects, bytes in base64 and
    None for an empty value. Types that JSON merges (an int and a double) are not kept
    apart: for reading, not for a round trip."""
    kind = value.WhichOneof("value")
    if kind == "double_value":
        return double_to_json(value.double_value)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    if kind == "array_value":
        return [any_value_plain(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value_plain(kv.value) for kv in value.kvlist_value.values}
    return None if kind is None else getattr(value, kind)


def key_values_to_json(key_values: Iterable[KeyValue]) -> list[dict[str, Any]]:
    """Attribute list → OTLP/JSON list of ``{"key": ..., "value": {...}}``."""
    out: list[dict[str, Any]] = []
    for kv in key_values:
        item: dict[str, Any] = {"key": kv.key}
        if kv.HasField("value"):
            item["value"] = any_value_to_json(kv.value)
        if kv.key_strindex:
            item["keyStrindex"] = kv.key_strindex
        out.append(item)
    return out


def any_value_from_json(obj: Any, field: str = "value", out: AnyValue | None = None) -> AnyValue:
    """OTLP/JSON object → ``AnyValue``; ``field`` names the place for error messages.

    ``None`` gives an empty value. Nesting is limited to :data:`MAX_DEPTH` levels.
    """
    value = AnyValue() if out is None else out
    if obj is None:
        return value
    try:
        decode_any_value(obj, value, 1)
    except FieldError as error:
        raise error.invalid(field) from None
    except (ValueError, TypeError) as error:
        raise refused(error).invalid(field) from None
    return value


def key_values_from_json(items: Any, field: str, out: Any) -> None:
    """Append OTLP/JSON key-values in ``items`` to the repeated ``KeyValue`` field ``out``."""
    if items is None:
        return
    try:
        decode_key_values(items, out, 1)
    except FieldError as error:
        raise error.invalid(field) from None
    except (ValueError, TypeError) as error:
        raise refused(error).invalid(field) from None


# The members of AnyValue's oneof, by JSON name.
_STRING, _INT, _DOUBLE, _BOOL, _BYTES, _ARRAY, _KVLIST, _STRINDEX = range(8)
_ANY_KINDS = {
    "stringValue": _STRING,
    "intValue": _INT,
    "doubleValue": _DOUBLE,
    "boolValue": _BOOL,
    "bytesValue": _BYTES,
    "arrayValue": _ARRAY,
    "kvlistValue": _KVLIST,
    "stringValueStrindex": _STRINDEX,
}


def decode_any_value(obj: Any, out: AnyValue, depth: int) -> None:
    """Fill ``out`` (a message at nesting ``depth``) from its OTLP/JSON object."""
    if type(obj) is not dict:
        raise FieldError(f"expected an AnyValue object, got {describe(obj)}")
    if depth > MAX_DEPTH:
        raise FieldError(f"nested deeper than {MAX_DEPTH} messages")
    chosen: str | None = None
    for key, item in obj.items():
        kind = _ANY_KINDS.get(key)
        if kind is None or item is None:
            continue
        if chosen is not None:
            raise FieldError(f"only one of {chosen} and {key} may be set")
        chosen = key
        try:
            if kind == _STRING:
                out.string_value = read_string(item)
            elif kind == _INT:
                out.int_value = _int64(item)
            elif kind == _DOUBLE:
                out.double_value = read_double(item)
            elif kind == _BOOL:
                out.bool_value = read_bool(item)
            elif kind == _BYTES:
                out.bytes_value = read_base64(item)
            elif kind == _ARRAY:
                array = out.array_value
                array.SetInParent()
                values = _values_list(item, depth + 1)
                add = array.values.add
                for i, element in enumerate(values):
                    try:
                        decode_any_value(element, add(), depth + 2)
                    except FieldError as error:
                        error.path += (i, "values")
                        raise
            elif kind == _KVLIST:
                kvlist = out.kvlist_value
                kvlist.SetInParent()
                values = _values_list(item, depth + 1)
                try:
                    decode_key_values(values, kvlist.values, depth + 2)
                except FieldError as error:
                    error.path.append("values")
                    raise
            else:
                out.string_value_strindex = _int32(item)
        except FieldError as error:
            error.path.append(key)
            raise
    if chosen is None:
        # An empty AnyValue is still a value: mark it present in its parent.
        out.SetInParent()


def decode_key_values(items: Any, out: Any, depth: int) -> None:
    """Append the OTLP/JSON list ``items`` to ``out``, a repeated ``KeyValue`` at ``depth``."""
    if type(items) is not list:
        raise FieldError(f"expected a list of key-values, got {describe(items)}")
    if depth > MAX_DEPTH:
        raise FieldError(f"nested deeper than {MAX_DEPTH} messages")
    add = out.add
    for i, item in enumerate(items):
        # Most attributes are {"key": "...", "value": {"stringValue": "..."}}: take them
        # with as few steps as possible, everything else the general way.
        if type(item) is dict and len(item) == 2:
            key = item.get("key")
            value = item.get("value")
            if type(key) is str and type(value) is dict and len(value) == 1:
                text = value.get("stringValue")
                if type(text) is str:
                    kv = add()
                    kv.key = key
                    kv.value.string_value = text
                    continue
        _decode_key_value(item, add(), depth, i)


def _decode_key_value(item: Any, kv: KeyValue, depth: int, index: int) -> None:
    name = ""
    try:
        if type(item) is not dict:
            raise FieldError(f"expected an object with key and value, got {describe(item)}")
        for name, value in item.items():
            if value is None:
                continue
            if name == "key":
                kv.key = read_string(value)
            elif name == "value":
                decode_any_value(value, kv.value, depth + 1)
            elif name == "keyStrindex":
                kv.key_strindex = _int32(value)
    except FieldError as error:
        if name:
            error.path.append(name)
        error.path.append(index)
        raise


def _values_list(obj: Any, depth: int) -> list[Any]:
    if type(obj) is not dict:
        raise FieldError(f"expected an object with a values list, got {describe(obj)}")
    if depth > MAX_DEPTH:
        raise FieldError(f"nested deeper than {MAX_DEPTH} messages")
    values = obj.get("values")
    if values is None:
        return []
    if type(values) is not list:
        error = FieldError(f"expected a list, got {describe(values)}")
        error.path.append("values")
        raise error
    return values
