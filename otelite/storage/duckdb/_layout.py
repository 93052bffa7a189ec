"""How the DuckDB store holds attribute maps (a struct of two parallel lists, not a ``MAP``)
and span ends.

Every attribute set is an Arrow ``map<string, string>`` in otelite's schemas (the
ClickHouse exporter's ``Map(String, String)``). DuckDB's own ``MAP`` type checks every
row's keys for duplicates and nulls as it is inserted, which made the attribute columns
about 85% of the cost of inserting a span (~11 of 13 µs per row; the same data as two
lists inserts about three times faster). otelite's maps are valid by construction — keys
are unique and never null (``otelite.storage._attributes``) — so the store keeps each map
as ``STRUCT("keys" VARCHAR[], "values" VARCHAR[])``, which DuckDB looks up as fast as a
``MAP`` (``"values"[list_position("keys", k)]``, see ``DuckDBDialect``).

A span's end is kept as its offset from start + duration (``END_OFFSET``, 0 for nearly
every span), which saves the ~6 B a span the end itself takes on disk.

This module converts at the boundary: :func:`to_stored` before an insert, and
:func:`from_stored` on every result, so that the rest of otelite only ever sees maps and
ends. Maps are zero-copy in the data (only list offsets and validity are rebuilt).
:func:`migrations` upgrades a database file written with ``MAP`` columns or with ends in
place.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from otelite.query.dialects import Dialect, DuckDBDialect
from otelite.storage._traces import END_OFFSET, end_offsets, with_end_timestamps

__all__ = [
    "KEYS",
    "VALUES",
    "batch_from_stored",
    "from_stored",
    "migrations",
    "stored_only",
    "stored_schema",
    "stored_type",
    "to_stored",
]

KEYS = "keys"
VALUES = "values"


def stored_only(schema: pa.Schema) -> dict[str, str]:
    """The columns the store adds to a table of ``schema`` (name → the SQL of its value,
    over the table's other columns): the series identity of a metric table's points."""
    if "MetricName" in schema.names:
        return {DuckDBDialect.SERIES_ID: DuckDBDialect.SERIES_ID_OF}
    return {}


def stored_type(data_type: pa.DataType) -> pa.DataType:
    """``data_type`` with every map replaced by its stored struct of lists."""
    if isinstance(data_type, pa.DictionaryType):
        return pa.dictionary(data_type.index_type, stored_type(data_type.value_type))
    if isinstance(data_type, pa.MapType):
        return pa.struct(
            [
                pa.field(KEYS, pa.list_(stored_type(data_type.key_type))),
                pa.field(VALUES, pa.list_(stored_type(data_type.item_type))),
            ]
        )
    if isinstance(data_type, pa.ListType):
        return pa.list_(data_type.value_field.with_type(stored_type(data_type.value_type)))
    if isinstance(data_type, pa.StructType):
        return pa.struct([field.with_type(stored_type(field.type)) for field in data_type])
    return data_type


def _contains(data_type: pa.DataType, found: Callable[[pa.DataType], bool]) -> bool:
    """Whether ``found`` holds for ``data_type`` or a type nested in it."""
    if found(data_type):
        return True
    if isinstance(data_type, pa.DictionaryType):
        return _contains(data_type.value_type, found)
    if isinstance(data_type, pa.ListType):
        return _contains(data_type.value_type, found)
    if isinstance(data_type, pa.StructType):
        return any(_contains(field.type, found) for field in data_type)
    return False


def _has_map(data_type: pa.DataType) -> bool:
    return _contains(data_type, lambda t: isinstance(t, pa.MapType))


def _has_stored_map(data_type: pa.DataType) -> bool:
    return _contains(data_type, _is_stored_map)


def _is_stored_map(data_type: pa.DataType) -> bool:
    return (
        isinstance(data_type, pa.StructType)
        and data_type.num_fields == 2
        and data_type.field(0).name == KEYS
        and data_type.field(1).name == VALUES
        and isinstance(data_type.field(0).type, pa.ListType)
        and isinstance(data_type.field(1).type, pa.ListType)
    )


def _map_type(data_type: pa.DataType) -> pa.DataType:
    """Inverse of ``stored_type`` (for the type of a column with no chunks)."""
    if _is_stored_map(data_type):
        key = _map_type(data_type.field(0).type.value_type)
        item = _map_type(data_type.field(1).type.value_type)
        return pa.map_(key, item)
    if isinstance(data_type, pa.ListType):
        return pa.list_(data_type.value_field.with_type(_map_type(data_type.value_type)))
    if isinstance(data_type, pa.StructType):
        return pa.struct([field.with_type(_map_type(field.type)) for field in data_type])
    return data_type


def _nulls(array: pa.Array) -> pa.Array | None:
    return array.is_null() if array.null_count else None


def _nested(array: pa.Array, convert: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """A list or struct array rebuilt around its children passed through ``convert``."""
    if isinstance(array, pa.ListArray):
        inner = convert(array.values)
        value_type = pa.list_(array.type.value_field.with_type(inner.type))
        return pa.ListArray.from_arrays(array.offsets, inner, type=value_type, mask=_nulls(array))
    children = [convert(array.field(i)) for i in range(array.type.num_fields)]
    fields = [f.with_type(c.type) for f, c in zip(array.type, children, strict=True)]
    return pa.StructArray.from_arrays(children, fields=fields, mask=_nulls(array))


def _to_stored(array: pa.Array) -> pa.Array:
    if not _has_map(array.type):
        return array
    if isinstance(array, pa.DictionaryArray):
        return pa.DictionaryArray.from_arrays(array.indices, _to_stored(array.dictionary))
    if isinstance(array, pa.MapArray):
        offsets = array.offsets
        keys = pa.ListArray.from_arrays(offsets, _to_stored(array.keys))
        values = pa.ListArray.from_arrays(offsets, _to_stored(array.items))
        return pa.StructArray.from_arrays([keys, values], [KEYS, VALUES], mask=_nulls(array))
    return _nested(array, _to_stored)


def _from_stored(array: pa.Array) -> pa.Array:
    if not _has_stored_map(array.type):
        return array
    if _is_stored_map(array.type):
        keys, values = array.field(0), array.field(1)
        # Both lists of a row have the same length: keys' offsets serve both.
        offsets = keys.offsets
        start = offsets[0].as_py()
        if start:
            offsets = pc.subtract(offsets, pa.scalar(start, offsets.type))
        return pa.MapArray.from_arrays(
            offsets,
            _from_stored(pc.list_flatten(keys)),
            _from_stored(pc.list_flatten(values)),
            mask=_nulls(array),
        )
    return _nested(array, _from_stored)


def _convert_table(
    table: pa.Table,
    convert: Callable[[pa.Array], pa.Array],
    needs: Callable[[pa.DataType], bool],
    new_type: Callable[[pa.DataType], pa.DataType],
) -> pa.Table:
    for index, field in enumerate(table.schema):
        if needs(field.type):
            chunks = [convert(chunk) for chunk in table.column(index).chunks]
            data_type = chunks[0].type if chunks else new_type(field.type)
            table = table.set_column(
                index, field.with_type(data_type), pa.chunked_array(chunks, data_type)
            )
    return table


def stored_schema(schema: pa.Schema) -> pa.Schema:
    """The columns a table of ``schema`` has in the database (maps aside, see the dialect):
    a span's end is kept as ``END_OFFSET``."""
    index = schema.get_field_index("EndTimestamp")
    if index < 0:
        return schema
    return schema.set(index, pa.field(END_OFFSET, pa.int64()))


def to_stored(table: pa.Table) -> pa.Table:
    """``table`` as it is inserted: map columns (also inside lists and structs) as stored
    structs, a span's end as its offset."""
    index = table.schema.get_field_index("EndTimestamp")
    if index >= 0:
        table = table.set_column(index, pa.field(END_OFFSET, pa.int64()), end_offsets(table))
    return _convert_table(table, _to_stored, _has_map, stored_type)


def from_stored(table: pa.Table) -> pa.Table:
    """Inverse of :func:`to_stored`, for any query result."""
    return with_end_timestamps(_convert_table(table, _from_stored, _has_stored_map, _map_type))


def batch_from_stored(batch: pa.RecordBatch) -> pa.RecordBatch:
    """:func:`from_stored` for one record batch of a streamed result."""
    if any(_has_stored_map(field.type) for field in batch.schema):
        arrays = [_from_stored(column) for column in batch.columns]
        batch = pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)
    return with_end_timestamps(batch)


def _converted(expression: str, data_type: pa.DataType, depth: int = 0) -> str:
    """SQL turning ``expression`` of the ``MAP`` layout of ``data_type`` into the stored one."""
    if isinstance(data_type, pa.MapType):
        return f"{{'{KEYS}': map_keys({expression}), '{VALUES}': map_values({expression})}}"
    if isinstance(data_type, pa.ListType):
        item = f"item{depth}"
        inner = _converted(item, data_type.value_type, depth + 1)
        return f"list_transform({expression}, lambda {item}: {inner})"
    if isinstance(data_type, pa.StructType):
        parts = []
        for field in data_type:
            member = f'{expression}."{field.name}"'
            parts.append(f"'{field.name}': {_converted(member, field.type, depth)}")
        return "{" + ", ".join(parts) + "}"
    return expression


def migrations(
    dialect: Dialect, table: str, schema: pa.Schema, stored_types: dict[str, str]
) -> list[str]:
    """``ALTER TABLE`` statements moving an older file's table (or a new one) to the stored
    layout: ``MAP`` columns to structs, a span's end to its offset, the series identity of
    a metric table's points (``DuckDBDialect.SERIES_ID``).

    ``stored_types`` is column name → its type in the database as DuckDB spells it.
    """
    statements: list[str] = []
    for column, value in stored_only(schema).items():
        if column not in stored_types:
            name = dialect.quote(table)
            statements += [
                f"ALTER TABLE {name} ADD COLUMN {dialect.quote(column)} UBIGINT",
                f"UPDATE {name} SET {dialect.quote(column)} = {value}",
            ]
    if "EndTimestamp" in stored_types and END_OFFSET not in stored_types:
        name = dialect.quote(table)
        offset = dialect.quote(END_OFFSET)
        # In 128 bits, then wrapped to 64 as end_offsets computes it: exact for any end.
        difference = 'epoch_ns("EndTimestamp")::HUGEINT - epoch_ns("Timestamp") - "Duration"'
        statements += [
            f"ALTER TABLE {name} ADD COLUMN {offset} BIGINT",
            f"UPDATE {name} SET {offset} = "
            f"((({difference}) % {2**64} + {2**64 + 2**63}) % {2**64} - {2**63})::BIGINT",
            f'ALTER TABLE {name} DROP COLUMN "EndTimestamp"',
        ]
    for field in schema:
        current = stored_types.get(field.name, "")
        if _has_map(field.type) and "MAP(" in current.upper():
            column = dialect.quote(field.name)
            statements.append(
                f"ALTER TABLE {dialect.quote(table)} ALTER COLUMN {column} "
                f"SET DATA TYPE {dialect.column_type(field.type)} "
                f"USING {_converted(column, field.type)}"
            )
    return statements
