"""otelite's tables (``otelite.storage._schema``) to the exporter's columns and back.

Writing converts in Python, column by column and without a loop over rows where it can:
ids to lowercase hex (with NumPy, ~10 ns a span), enum numbers to the exporter's names,
lists of events, links, exemplars and quantiles to the exporter's ``Nested`` columns (one
array column per field), and absent metric values to 0 plus an entry in ``NullColumns``.
Reading converts in SQL: :func:`read_columns` gives, for every column of otelite's
schema, the expression that computes it from the stored ones (``unhex``, the dialect's
codecs, ``arrayZip`` back into lists of tuples), so a result needs only a cast to otelite's
Arrow types (:func:`conform`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from otelite.query.dialects import ClickHouseDialect
from otelite.storage._schema import LOGS, METRIC_TABLES, TRACES, table_name
from otelite.storage._traces import END_OFFSET, end_offsets

__all__ = [
    "conform",
    "from_hex",
    "logical_schema",
    "read_columns",
    "select_list",
    "to_hex",
    "to_stored",
]

_DIALECT = ClickHouseDialect()
_DIGITS = np.frombuffer(b"0123456789abcdef", np.uint8)
_NIBBLES = np.full(256, 255, np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _NIBBLES[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _NIBBLES[_c] = 10 + _i

_ID_COLUMNS = ("TraceId", "SpanId", "ParentSpanId")
_NULLABLE = ("Value", "Sum", "Min", "Max", "PositiveOffset", "NegativeOffset")
_METRIC_NAMES = frozenset(table_name(schema) for schema in METRIC_TABLES.values())
_SCHEMAS: dict[str, pa.Schema] = {
    table_name(schema): schema for schema in (TRACES, LOGS, *METRIC_TABLES.values())
}


# --- ids ------------------------------------------------------------------------------


def _offsets(array: pa.Array) -> np.ndarray:
    return np.frombuffer(array.buffers()[1], np.int32, len(array) + 1, array.offset * 4)


def to_hex(array: pa.Array) -> pa.Array:
    """Binary ids as lowercase hex strings (empty stays empty)."""
    if array.null_count:
        array = pc.fill_null(array, b"")
    offsets = _offsets(array)
    data = array.buffers()[2]
    raw = np.frombuffer(data, np.uint8)[offsets[0] : offsets[-1]] if data else np.empty(0, np.uint8)
    out = np.empty(raw.size * 2, np.uint8)
    out[0::2] = _DIGITS[raw >> 4]
    out[1::2] = _DIGITS[raw & 0x0F]
    new_offsets = ((offsets - offsets[0]) * 2).astype(np.int32)
    return pa.StringArray.from_buffers(len(array), pa.py_buffer(new_offsets), pa.py_buffer(out))


def from_hex(array: pa.Array) -> pa.Array:
    """Hex strings as binary ids; a value that is not hex comes back empty."""
    if array.null_count:
        array = pc.fill_null(array, "")
    offsets = _offsets(array)
    data = array.buffers()[2]
    raw = np.frombuffer(data, np.uint8)[offsets[0] : offsets[-1]] if data else np.empty(0, np.uint8)
    nibbles = _NIBBLES[raw]
    if (np.diff(offsets) % 2).any() or (nibbles == 255).any():
        return pa.array([_unhex(text) for text in array.to_pylist()], pa.binary())
    out = (nibbles[0::2] << 4) | nibbles[1::2]
    new_offsets = ((offsets - offsets[0]) // 2).astype(np.int32)
    return pa.BinaryArray.from_buffers(len(array), pa.py_buffer(new_offsets), pa.py_buffer(out))


def _unhex(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""


# --- writing --------------------------------------------------------------------------


def _plain(column: pa.ChunkedArray) -> pa.Array:
    """One array without dictionary encoding (flattening encodes envelope columns)."""
    chunks = [
        chunk.dictionary.take(chunk.indices) if pa.types.is_dictionary(chunk.type) else chunk
        for chunk in column.chunks
    ]
    if not chunks:
        value_type = column.type
        if pa.types.is_dictionary(value_type):
            value_type = value_type.value_type
        return pa.array([], value_type)
    return chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks)


def _names(numbers: pa.Array, names: tuple[str, ...]) -> pa.Array:
    """Enum numbers as the exporter's names; a number without a name as its decimal."""
    known = pc.and_(pc.greater_equal(numbers, 0), pc.less(numbers, len(names)))
    named = pc.take(pa.array(names), pc.if_else(known, numbers, 0))
    return pc.if_else(known, named, pc.cast(numbers, pa.string()))


def _list_offsets(array: pa.ListArray) -> pa.Array:
    offsets = array.offsets
    return pc.subtract(offsets, offsets[0]) if len(offsets) and offsets[0].as_py() else offsets


def _split(
    array: pa.ListArray,
    names: Mapping[str, str],
    convert: Mapping[str, Callable[[pa.Array], pa.Array]] | None = None,
) -> dict[str, pa.Array]:
    """A list of structs as one list column per field (``names``: field → stored column)."""
    offsets = _list_offsets(array)
    items: pa.StructArray = array.flatten()
    children = dict(zip([f.name for f in items.type], items.flatten(), strict=True))
    out = {}
    for field, column in names.items():
        child = children[field]
        if convert and field in convert:
            child = convert[field](child)
        out[column] = pa.ListArray.from_arrays(offsets, child)
    return out


def _nested(prefix: str, fields: tuple[str, ...], extras: Mapping[str, str]) -> dict[str, str]:
    return {**{f: f"{prefix}.{f}" for f in fields}, **extras}


_EVENT_COLUMNS = _nested(
    "Events",
    ("Timestamp", "Name", "Attributes"),
    {
        "AttributeTypes": "EventsAttributeTypes",
        "DroppedAttributesCount": "EventsDroppedAttributesCount",
    },
)
_LINK_COLUMNS = _nested(
    "Links",
    ("TraceId", "SpanId", "TraceState", "Attributes"),
    {
        "AttributeTypes": "LinksAttributeTypes",
        "DroppedAttributesCount": "LinksDroppedAttributesCount",
        "Flags": "LinksFlags",
    },
)
_EXEMPLAR_COLUMNS = _nested(
    "Exemplars",
    ("FilteredAttributes", "TimeUnix", "Value", "SpanId", "TraceId"),
    {
        "FilteredAttributeTypes": "ExemplarsFilteredAttributeTypes",
        "ValueInt": "ExemplarsValueInt",
    },
)
_QUANTILE_COLUMNS = _nested("ValueAtQuantiles", ("Quantile", "Value"), {})
_IDS = {"TraceId": to_hex, "SpanId": to_hex}


def to_stored(name: str, table: pa.Table) -> pa.Table:
    """Rows of otelite's ``name`` table as the exporter's columns plus otelite's."""
    columns: dict[str, pa.Array] = {}
    nulls: list[tuple[str, pa.Array]] = []
    for field in table.schema:
        array = _plain(table.column(field.name))
        column = field.name
        if column in _ID_COLUMNS:
            columns[column] = to_hex(array)
        elif column == "SpanKind":
            columns[column] = _names(array, _DIALECT.SPAN_KINDS)
        elif column == "StatusCode":
            columns[column] = _names(array, _DIALECT.STATUS_CODES)
        elif column == "Duration":
            columns[column] = array.cast(pa.uint64())
        elif column == "EndTimestamp":
            columns[END_OFFSET] = end_offsets(table)
        elif column == "Events":
            columns.update(_split(array, _EVENT_COLUMNS))
        elif column == "Links":
            columns.update(_split(array, _LINK_COLUMNS, _IDS))
        elif column == "Exemplars":
            if name != table_name(METRIC_TABLES["summary"]):
                columns.update(_exemplars(array, nulls))
        elif column == "ValueAtQuantiles":
            columns.update(_split(array, _QUANTILE_COLUMNS))
        elif column == "TraceFlags":
            columns["TraceFlags"] = pc.bit_wise_and(array, 0xFF).cast(pa.uint8())
            columns["Flags"] = array
        elif column == "SeverityNumber":
            fits = pc.and_(pc.greater_equal(array, 0), pc.less_equal(array, 255))
            columns[column] = pc.if_else(fits, array, 0).cast(pa.uint8())
            columns["SeverityNumberValue"] = array
        elif column == "ScopeDroppedAttributesCount" and name in _METRIC_NAMES:
            columns["ScopeDroppedAttrCount"] = array
        elif column in _NULLABLE and name in _METRIC_NAMES:
            if array.null_count:
                nulls.append((column, array.is_null()))
                array = pc.fill_null(array, 0)
            columns[column] = array
        else:
            columns[column] = array
    if name in _METRIC_NAMES:
        columns["NullColumns"] = _null_columns(table.num_rows, nulls)
    return pa.table(columns)


def _exemplars(array: pa.ListArray, nulls: list[tuple[str, pa.Array]]) -> dict[str, pa.Array]:
    columns = _split(array, _EXEMPLAR_COLUMNS, _IDS)
    values = columns["Exemplars.Value"]
    if values.flatten().null_count:
        # Exemplar N of a row without a value: "Exemplars.N" in that row's NullColumns.
        marks = [
            [f"Exemplars.{i}" for i, value in enumerate(row) if value is None]
            for row in values.to_pylist()
        ]
        nulls.append(("", pa.array(marks, pa.list_(pa.string()))))
        columns["Exemplars.Value"] = pa.ListArray.from_arrays(
            _list_offsets(values), pc.fill_null(values.flatten(), 0.0)
        )
    return columns


def _null_columns(rows: int, nulls: list[tuple[str, pa.Array]]) -> pa.Array:
    if not nulls:
        return pa.ListArray.from_arrays(
            pa.array(np.zeros(rows + 1, np.int32)), pa.array([], pa.string())
        )
    lists: list[list[str]] = [[] for _ in range(rows)]
    for column, marks in nulls:
        for row, mark in enumerate(marks.to_pylist()):
            if column and mark:
                lists[row].append(column)
            elif not column and mark:
                lists[row].extend(mark)
    return pa.array(lists, pa.list_(pa.string()))


# --- reading --------------------------------------------------------------------------


def _pad(column: str, sibling: str, value: str) -> str:
    """``column``, or one ``value`` per element of ``sibling`` if its length differs."""
    return _DIALECT.call("padded", f"`{column}`", f"`{sibling}`", value)


def _zip(logical: pa.DataType, parts: list[str]) -> str:
    """The arrays ``parts`` as one list of structs."""
    fields = [(f.name, _DIALECT.column_type(f.type)) for f in logical.value_type]
    cast = _DIALECT.list_type(_DIALECT.struct_type(fields))
    return f"CAST(arrayZip({', '.join(parts)}), '{cast}')"


_MAP = "map()"


def read_columns(name: str) -> dict[str, str]:
    """Every column of otelite's ``name`` table as SQL over the stored columns."""
    schema = _SCHEMAS[name]
    exprs: dict[str, str] = {}
    for field in schema:
        column = field.name
        if column in _ID_COLUMNS:
            exprs[column] = f"unhex(`{column}`)"
        elif column in ("SpanKind", "StatusCode"):
            exprs[column] = _DIALECT.read(column)
        elif column == "Events":
            exprs[column] = _zip(
                field.type,
                [
                    "`Events.Timestamp`",
                    "`Events.Name`",
                    "`Events.Attributes`",
                    _pad("EventsAttributeTypes", "Events.Name", _MAP),
                    _pad("EventsDroppedAttributesCount", "Events.Name", "toUInt32(0)"),
                ],
            )
        elif column == "Links":
            exprs[column] = _zip(
                field.type,
                [
                    "arrayMap(x -> unhex(x), `Links.TraceId`)",
                    "arrayMap(x -> unhex(x), `Links.SpanId`)",
                    "`Links.TraceState`",
                    "`Links.Attributes`",
                    _pad("LinksAttributeTypes", "Links.SpanId", _MAP),
                    _pad("LinksDroppedAttributesCount", "Links.SpanId", "toUInt32(0)"),
                    _pad("LinksFlags", "Links.SpanId", "toUInt32(0)"),
                ],
            )
        elif column == "Exemplars":
            if name == table_name(METRIC_TABLES["summary"]):
                exprs[column] = f"CAST([], '{_DIALECT.column_type(field.type)}')"
            else:
                exprs[column] = _DIALECT.read(column)
        elif column == "ValueAtQuantiles":
            exprs[column] = _zip(
                field.type, ["`ValueAtQuantiles.Quantile`", "`ValueAtQuantiles.Value`"]
            )
        elif column == "TraceFlags":
            exprs[column] = "`Flags`"
        elif column == "SeverityNumber":
            exprs[column] = _DIALECT.read(column)
        elif column == "EndTimestamp":
            exprs[column] = f"addNanoseconds(`Timestamp`, toInt64(`Duration`) + `{END_OFFSET}`)"
        elif column == "ScopeDroppedAttributesCount" and name in _METRIC_NAMES:
            exprs[column] = "`ScopeDroppedAttrCount`"
        elif column in _NULLABLE and name in _METRIC_NAMES:
            exprs[column] = _DIALECT.read(column)
        else:
            exprs[column] = f"`{column}`"
    return exprs


def select_list(name: str) -> str:
    """``expr AS column, ...`` for every column of otelite's ``name`` table."""
    return ", ".join(f"{expr} AS `{column}`" for column, expr in read_columns(name).items())


def conform(table: pa.Table, types: Mapping[str, pa.DataType]) -> pa.Table:
    """Columns of a result cast to the Arrow types otelite's schema gives them.

    ClickHouse returns ids (``unhex``) as strings, times with a time zone, and narrower or
    unsigned integers; the cast only relabels or widens, it never changes a value.
    """
    fields = []
    changed = False
    for field in table.schema:
        wanted = types.get(field.name)
        if wanted is None:
            wanted = _without_zone(field.type)
        if wanted != field.type:
            changed = True
        fields.append(pa.field(field.name, wanted))
    if not changed:
        return table
    return table.cast(pa.schema(fields), safe=False)


def _without_zone(data_type: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(data_type) and data_type.tz is not None:
        return pa.timestamp(data_type.unit)
    return data_type


def logical_schema(name: str) -> pa.Schema:
    """otelite's schema of table ``name``."""
    return _SCHEMAS[name]
