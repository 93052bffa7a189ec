"""Attribute lists as two map columns: values as strings, and the types that are not strings.

Every attribute set (resource, scope, span, event, link, log, data point, exemplar) is
stored the way the OpenTelemetry Collector's ClickHouse exporter stores it — a
``Map(String, String)`` that any tool reading that schema can filter on — plus a second,
usually empty map from key to a one-letter type code for values that were not strings.
Together they give back every value with its type:

==========  ======================  ==================================================
code        OTLP value              string form (the Collector's, ``otlp._gotext``)
==========  ======================  ==================================================
(none)      ``string_value``        the string itself
``i``       ``int_value``           decimal
``d``       ``double_value``        shortest exact digits as ECMAScript writes numbers
                                    (``1``, ``0.1``, ``1e-7``); NaN and infinities as
                                    ``json: unsupported value: NaN`` (``+Inf``, ``-Inf``)
``b``       ``bool_value``          ``true`` / ``false``
``y``       ``bytes_value``         base64
``j`` +     arrays, key-value       Go's JSON of the plain values (keys sorted; ``""``
OTLP/JSON   lists, empty values     for an empty value): lossy, so the type code
                                    carries the OTLP/JSON of the whole ``AnyValue``
==========  ======================  ==================================================

Files written before the string forms followed the Collector hold ``repr`` doubles and,
for ``j`` (the code alone), the OTLP/JSON as the string form; both still read back.

Keys are unique in a map, so when a list repeats a key the first occurrence wins (the
value a Collector lookup would see); the repeats are dropped. Map order is the order
received.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otelite.otlp._anyvalue import any_value_from_json, any_value_to_json
from otelite.otlp._gotext import UNSUPPORTED_PREFIX, go_float_text, go_json_text

__all__ = [
    "ATTRIBUTE_MAP",
    "BOOL_CODE",
    "BYTES_CODE",
    "COMPOSITE_CODE",
    "DOUBLE_CODE",
    "INT_CODE",
    "AttributeColumns",
    "any_value_from_text",
    "any_value_to_text",
    "key_values_from_maps",
    "stored_attributes",
    "types_column_name",
]

ATTRIBUTE_MAP = pa.map_(pa.string(), pa.string())

INT_CODE = "i"
DOUBLE_CODE = "d"
BOOL_CODE = "b"
BYTES_CODE = "y"
COMPOSITE_CODE = "j"
"""The first letter of an array's, a key-value list's or an empty value's type code."""


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
        return str(value.int_value), INT_CODE
    if kind == "double_value":
        return go_float_text(value.double_value), DOUBLE_CODE
    if kind == "bool_value":
        return ("true" if value.bool_value else "false"), BOOL_CODE
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii"), BYTES_CODE
    return go_json_text(value), COMPOSITE_CODE + orjson.dumps(any_value_to_json(value)).decode()


def any_value_from_text(text: str, code: str | None, out: AnyValue | None = None) -> AnyValue:
    """Inverse of :func:`any_value_to_text`."""
    value = AnyValue() if out is None else out
    if code is None:
        value.string_value = text
    elif code == INT_CODE:
        value.int_value = int(text)
    elif code == DOUBLE_CODE:
        value.double_value = float(text.removeprefix(UNSUPPORTED_PREFIX))
    elif code == BOOL_CODE:
        value.bool_value = text == "true"
    elif code == BYTES_CODE:
        value.bytes_value = base64.b64decode(text)
    elif code.startswith(COMPOSITE_CODE):
        any_value_from_json(orjson.loads(code[1:] or text), out=value)
    else:
        raise ValueError(f"unknown attribute type code {code!r}")
    return value


class _Distinct(dict[bytes, int]):
    """Encoded ``KeyValue`` → its number in the distinct-attribute tables, decoding on a miss.

    A dict subclass so that a hit is a plain lookup in C (``__missing__`` runs only for an
    encoding not seen before).
    """

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.texts: list[str] = []
        self.codes: list[str | None] = []
        self.key_ids: dict[str, int] = {}
        self.key_bits: list[int] = []
        """Per entry: ``1 << (key number % 64)``, see ``AttributeColumns._has_repeated_keys``."""

    def __missing__(self, encoded: bytes) -> int:
        kv = KeyValue.FromString(encoded)
        key = kv.key
        text, code = any_value_to_text(kv.value)
        number = len(self.names)
        self.names.append(key)
        self.texts.append(text)
        self.codes.append(code)
        self.key_bits.append(1 << (self.key_ids.setdefault(key, len(self.key_ids)) % 64))
        self[encoded] = number
        return number


class AttributeColumns:
    """Accumulates attribute lists row by row and emits the two Arrow map columns.

    Rows arrive as encoded ``KeyValue`` messages (see ``_wire``). Each distinct encoding
    is decoded once, into an entry of the distinct-attribute tables; a row is then the
    list of its entries' numbers, so a repeated attribute costs one dict lookup. The
    columns are gathered from the tables with Arrow ``take``.
    """

    __slots__ = ("_distinct", "_entries", "_offsets")

    def __init__(self) -> None:
        self._distinct = _Distinct()
        self._entries: list[int] = []
        self._offsets: list[int] = [0]

    def append(self, attributes: Iterable[bytes]) -> None:
        """Add one row holding ``attributes``, each an encoded ``KeyValue``."""
        entries = self._entries
        entries.extend(map(self._distinct.__getitem__, attributes))
        self._offsets.append(len(entries))

    def arrays(self) -> tuple[pa.Array, pa.Array]:
        """The (values, types) map arrays for all rows appended so far."""
        offsets = pa.array(self._offsets, pa.int32())
        entries = pa.array(self._entries, pa.int32())
        if self._has_repeated_keys(offsets, entries):
            offsets, entries = self._first_occurrences()
        distinct = self._distinct
        keys = pa.array(distinct.names, pa.string()).take(entries)
        values = pa.MapArray.from_arrays(
            offsets, keys, pa.array(distinct.texts, pa.string()).take(entries)
        )
        codes = pa.array(distinct.codes, pa.string()).take(entries)
        typed = pc.is_valid(codes)
        # Row i's typed entries end at the count of typed entries before offsets[i + 1].
        typed_before = pa.concat_arrays(
            [pa.array([0], pa.int64()), pc.cumulative_sum(typed.cast(pa.int64()))]
        )
        types = pa.MapArray.from_arrays(
            typed_before.take(offsets).cast(pa.int32()), keys.filter(typed), codes.filter(typed)
        )
        return values, types

    def _has_repeated_keys(self, offsets: pa.Array, entries: pa.Array) -> bool:
        """Whether some row holds a key twice.

        Each key gets one of 64 bits (its number mod 64); a row's bits summed without
        overflow checks have as many ones as the row has entries exactly when no bit was
        added twice. So equal counts clear every row at once, in C; rows that fail (two
        keys on one bit, or a repeated key) are then checked by key.
        """
        distinct = self._distinct
        bits = pa.array(distinct.key_bits, pa.uint64()).take(entries)
        running = pa.concat_arrays([pa.array([0], pa.uint64()), pc.cumulative_sum(bits)])
        bounds = self._offsets
        sums = pc.subtract(running.take(offsets[1:]), running.take(offsets[:-1])).to_pylist()
        counts = [end - start for start, end in itertools.pairwise(bounds)]
        if list(map(int.bit_count, sums)) == counts:
            return False
        names, rows = distinct.names, self._entries
        return any(
            len({names[entry] for entry in rows[start:end]}) != end - start
            for (start, end), total, count in zip(
                itertools.pairwise(bounds), sums, counts, strict=True
            )
            if total.bit_count() != count
        )

    def _first_occurrences(self) -> tuple[pa.Array, pa.Array]:
        """Offsets and entries with each row's repeated keys dropped (the first one wins)."""
        keys = self._distinct.names
        kept: list[int] = []
        offsets = [0]
        for start, end in itertools.pairwise(self._offsets):
            seen: set[str] = set()
            for entry in self._entries[start:end]:
                key = keys[entry]
                if key not in seen:
                    seen.add(key)
                    kept.append(entry)
            offsets.append(len(kept))
        return pa.array(offsets, pa.int32()), pa.array(kept, pa.int32())


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


def stored_attributes(
    values: Sequence[tuple[str, str]] | None, types: Sequence[tuple[str, str]] | None
) -> list[tuple[str, AnyValue]]:
    """The attributes of the two maps as read back from storage, as (key, value) pairs
    in stored order."""
    if not values:
        return []
    codes = dict(types) if types else {}
    return [(key, any_value_from_text(text, codes.get(key))) for key, text in values]
