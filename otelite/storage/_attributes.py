"""Attribute lists as two map columns: values as strings, and the types that are not strings.

Every attribute set (resource, scope, span, event, link, log, data point, exemplar) is
stored the way the OpenTelemetry Collector's ClickHouse exporter stores it — a
``Map(String, String)`` that any tool reading that schema can filter on — plus a second,
usually empty map from key to a one-letter type code for values that were not strings.
Together they give back every value with its type:

=====  ===========================  ==========================================
code   OTLP value                   string form
=====  ===========================  ==========================================
(none) ``string_value``             the string itself
``i``  ``int_value``                decimal
``d``  ``double_value``             ``repr`` (exact), ``NaN``, ``Infinity``, ``-Infinity``
``b``  ``bool_value``               ``true`` / ``false``
``y``  ``bytes_value``              base64
``j``  arrays, key-value lists,     the OTLP/JSON of the whole ``AnyValue``
       empty values
=====  ===========================  ==========================================

Keys are unique in a map, so when a list repeats a key the first occurrence wins (the
value a Collector lookup would see); the repeats are dropped. Map order is the order
received.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import pyarrow as pa
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otelite.otlp._anyvalue import any_value_from_json, any_value_to_json

__all__ = [
    "ATTRIBUTE_MAP",
    "AttributeColumns",
    "any_value_from_text",
    "any_value_to_text",
    "key_values_from_maps",
    "types_column_name",
]

ATTRIBUTE_MAP = pa.map_(pa.string(), pa.string())


def types_column_name(values_column: str) -> str:
    """``SpanAttributes`` → ``SpanAttributeTypes``; ``Attributes`` → ``AttributeTypes``."""
    stem = values_column.removesuffix("Attributes")
    return f"{stem}AttributeTypes"


def any_value_to_text(value: AnyValue) -> tuple[str, str | None]:
    """An ``AnyValue`` as (string form, type code or ``None`` for a string)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value, None
    if kind == "int_value":
        return str(value.int_value), "i"
    if kind == "double_value":
        return _double_text(value.double_value), "d"
    if kind == "bool_value":
        return ("true" if value.bool_value else "false"), "b"
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii"), "y"
    return orjson.dumps(any_value_to_json(value)).decode(), "j"


def any_value_from_text(text: str, code: str | None, out: AnyValue | None = None) -> AnyValue:
    """Inverse of :func:`any_value_to_text`."""
    value = AnyValue() if out is None else out
    if code is None:
        value.string_value = text
    elif code == "i":
        value.int_value = int(text)
    elif code == "d":
        value.double_value = float(text)
    elif code == "b":
        value.bool_value = text == "true"
    elif code == "y":
        value.bytes_value = base64.b64decode(text)
    elif code == "j":
        any_value_from_json(orjson.loads(text), out=value)
    else:
        raise ValueError(f"unknown attribute type code {code!r}")
    return value


def _double_text(value: float) -> str:
    if math.isfinite(value):
        return repr(value)
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


class AttributeColumns:
    """Accumulates attribute lists row by row and emits the two Arrow map columns."""

    __slots__ = ("_keys", "_offsets", "_type_keys", "_type_offsets", "_types", "_values")

    def __init__(self) -> None:
        self._keys: list[str] = []
        self._values: list[str] = []
        self._offsets: list[int] = [0]
        self._type_keys: list[str] = []
        self._types: list[str] = []
        self._type_offsets: list[int] = [0]

    def append(self, attributes: Iterable[KeyValue]) -> None:
        """Add one row holding ``attributes``."""
        keys, values = self._keys, self._values
        seen: set[str] = set()
        for kv in attributes:
            key = kv.key
            if key in seen:
                continue
            seen.add(key)
            value = kv.value
            # Strings are by far the most common value: test for them before the general path.
            if value.WhichOneof("value") == "string_value":
                keys.append(key)
                values.append(value.string_value)
                continue
            text, code = any_value_to_text(value)
            keys.append(key)
            values.append(text)
            if code is not None:
                self._type_keys.append(key)
                self._types.append(code)
        self._offsets.append(len(keys))
        self._type_offsets.append(len(self._type_keys))

    def arrays(self) -> tuple[pa.Array, pa.Array]:
        """The (values, types) map arrays for all rows appended so far."""
        values = pa.MapArray.from_arrays(
            pa.array(self._offsets, pa.int32()),
            pa.array(self._keys, pa.string()),
            pa.array(self._values, pa.string()),
        )
        types = pa.MapArray.from_arrays(
            pa.array(self._type_offsets, pa.int32()),
            pa.array(self._type_keys, pa.string()),
            pa.array(self._types, pa.string()),
        )
        return values, types


def key_values_from_maps(
    values: Sequence[tuple[str, str]] | None,
    types: Sequence[tuple[str, str]] | None,
    out: Any,
) -> None:
    """Rebuild a repeated ``KeyValue`` field from the two maps as read back from storage.

    ``values`` and ``types`` are lists of ``(key, value)`` pairs (how pyarrow and the
    database drivers return maps); ``out`` is the repeated field to append to.
    """
    if not values:
        return
    codes = dict(types) if types else {}
    for key, text in values:
        kv = out.add()
        kv.key = key
        any_value_from_text(text, codes.get(key), kv.value)
