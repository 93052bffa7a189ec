"""OTLP/JSON form of ``AnyValue`` and attribute lists, both directions.

Follows the OTLP/JSON rules of the specification: keys are lowerCamelCase, 64-bit
integers are written as decimal strings and read from strings or numbers, bytes are
base64, non-finite doubles are the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
Unknown keys are ignored.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otelite.errors import InvalidRequest

__all__ = [
    "any_value_from_json",
    "any_value_to_json",
    "double_from_json",
    "double_to_json",
    "int64_from_json",
    "key_values_from_json",
    "key_values_to_json",
]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def double_to_json(value: float) -> float | str:
    """A double as OTLP/JSON writes it (non-finite values become strings)."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def double_from_json(value: Any, field: str) -> float:
    """Read a double given as a JSON number or as one of the protobuf JSON strings."""
    if isinstance(value, bool):
        raise InvalidRequest(f"{field}: expected a number, got a boolean")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value in _NON_FINITE:
            return _NON_FINITE[value]
        try:
            return float(value)
        except ValueError:
            pass
    raise InvalidRequest(f"{field}: expected a number, got {value!r:.80}")


def int64_from_json(value: Any, field: str, *, lo: int = _INT64_MIN, hi: int = _INT64_MAX) -> int:
    """Read a 64-bit integer given as a JSON number or a decimal string, checking its range."""
    number: int
    if isinstance(value, bool):
        raise InvalidRequest(f"{field}: expected an integer, got a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value.strip(), 10)
        except ValueError:
            raise InvalidRequest(f"{field}: expected an integer, got {value!r:.80}") from None
    else:
        raise InvalidRequest(f"{field}: expected an integer, got {value!r:.80}")
    if not lo <= number <= hi:
        raise InvalidRequest(f"{field}: {number} is outside [{lo}, {hi}]")
    return number


def any_value_to_json(value: AnyValue) -> dict[str, Any]:
    """``AnyValue`` → OTLP/JSON object (``{}`` for an empty value)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return {}
    if kind == "string_value":
        return {"stringValue": value.string_value}
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


def key_values_to_json(key_values: Iterable[KeyValue]) -> list[dict[str, Any]]:
    """Attribute list → OTLP/JSON list of ``{"key": ..., "value": {...}}``."""
    return [{"key": kv.key, "value": any_value_to_json(kv.value)} for kv in key_values]


def any_value_from_json(obj: Any, field: str = "value", out: AnyValue | None = None) -> AnyValue:
    """OTLP/JSON object → ``AnyValue``; ``field`` names the place for error messages."""
    value = AnyValue() if out is None else out
    if obj is None:
        return value
    if not isinstance(obj, Mapping):
        raise InvalidRequest(f"{field}: expected an AnyValue object, got {obj!r:.80}")
    if "stringValue" in obj:
        text = obj["stringValue"]
        if not isinstance(text, str):
            raise InvalidRequest(f"{field}.stringValue: expected a string")
        value.string_value = text
    elif "intValue" in obj:
        value.int_value = int64_from_json(obj["intValue"], f"{field}.intValue")
    elif "doubleValue" in obj:
        value.double_value = double_from_json(obj["doubleValue"], f"{field}.doubleValue")
    elif "boolValue" in obj:
        flag = obj["boolValue"]
        if not isinstance(flag, bool):
            raise InvalidRequest(f"{field}.boolValue: expected true or false")
        value.bool_value = flag
    elif "bytesValue" in obj:
        value.bytes_value = bytes_from_json(obj["bytesValue"], f"{field}.bytesValue")
    elif "arrayValue" in obj:
        array = value.array_value
        array.SetInParent()
        items = _values_list(obj["arrayValue"], f"{field}.arrayValue")
        for i, item in enumerate(items):
            any_value_from_json(item, f"{field}.arrayValue.values[{i}]", array.values.add())
    elif "kvlistValue" in obj:
        kvlist = value.kvlist_value
        kvlist.SetInParent()
        items = _values_list(obj["kvlistValue"], f"{field}.kvlistValue")
        key_values_from_json(items, f"{field}.kvlistValue.values", kvlist.values)
    elif "stringValueStrindex" in obj:
        value.string_value_strindex = int64_from_json(
            obj["stringValueStrindex"], f"{field}.stringValueStrindex", lo=-(2**31), hi=2**31 - 1
        )
    return value


def key_values_from_json(items: Any, field: str, out: Any) -> None:
    """Append OTLP/JSON key-values in ``items`` to the repeated ``KeyValue`` field ``out``."""
    if items is None:
        return
    if not isinstance(items, list):
        raise InvalidRequest(f"{field}: expected a list of key-values")
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidRequest(f"{field}[{i}]: expected an object with key and value")
        key = item.get("key", "")
        if not isinstance(key, str):
            raise InvalidRequest(f"{field}[{i}].key: expected a string")
        kv = out.add()
        kv.key = key
        any_value_from_json(item.get("value"), f"{field}[{i}].value", kv.value)


def bytes_from_json(text: Any, field: str) -> bytes:
    """Read standard or URL-safe base64, padded or not, as protobuf's JSON mapping allows."""
    if not isinstance(text, str):
        raise InvalidRequest(f"{field}: expected a base64 string")
    cleaned = text.replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except binascii.Error:
        raise InvalidRequest(f"{field}: not valid base64") from None


def _values_list(obj: Any, field: str) -> list[Any]:
    if obj is None:
        return []
    if not isinstance(obj, Mapping):
        raise InvalidRequest(f"{field}: expected an object with a values list")
    values = obj.get("values") or []
    if not isinstance(values, list):
        raise InvalidRequest(f"{field}.values: expected a list")
    return values
