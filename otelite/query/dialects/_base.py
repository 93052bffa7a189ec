"""A SQL dialect: tables of type names and function templates, overridden per backend.

The planner never asks which engine it talks to; it asks the dialect for a column type or
for a function template and fills it in. A backend that spells something differently
overrides the entry in its subclass's table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import pyarrow as pa

__all__ = ["Dialect"]


class Dialect:
    """Shared SQL; subclasses override ``TYPES`` and ``FUNCTIONS`` entries."""

    name: ClassVar[str] = "generic"

    TYPES: ClassVar[Mapping[pa.DataType, str]] = {
        pa.bool_(): "BOOLEAN",
        pa.int8(): "TINYINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.uint32(): "UINTEGER",
        pa.uint64(): "UBIGINT",
        pa.float64(): "DOUBLE",
        pa.string(): "VARCHAR",
        pa.binary(): "BLOB",
        pa.timestamp("ns"): "TIMESTAMP_NS",
    }
    """Arrow type → column type, for the leaves of a schema."""

    FUNCTIONS: ClassVar[Mapping[str, str]] = {
        # Scalars.
        "map_get": "{0}[{1}]",
        "map_contains": "map_contains({0}, {1})",
        "list_len": "len({0})",
        "to_hex": "lower(hex({0}))",
        "from_hex": "unhex({0})",
        "ns_to_timestamp": "make_timestamp_ns({0})",
        "timestamp_to_ns": "epoch_ns({0})",
        "time_bucket_ns": "(epoch_ns({0}) // {1}) * {1}",  # bucket start, Unix ns
        "contains": "contains({0}, {1})",
        "contains_ci": "contains(lower({0}), lower({1}))",
        "regex_full": "regexp_full_match({0}, {1})",
        "to_int": "TRY_CAST({0} AS BIGINT)",
        "to_double": "TRY_CAST({0} AS DOUBLE)",
        "coalesce": "coalesce({0}, {1})",
        "hash2": "hash({0}, {1})",
        # Aggregates.
        "count": "count(*)",
        "count_if": "count(*) FILTER (WHERE {0})",
        "count_distinct": "count(DISTINCT {0})",
        "sum": "sum({0})",
        "min": "min({0})",
        "max": "max({0})",
        "avg": "avg({0})",
        "quantile": "quantile_cont({0}, {1})",
        "bool_or": "bool_or({0})",
        "arg_min": "arg_min({0}, {1})",
        "arg_min_if": "arg_min({0}, {1}) FILTER (WHERE {2})",
        "arg_max": "arg_max({0}, {1})",
        "distinct_list": "list(DISTINCT {0} ORDER BY {0})",
    }
    """Function name → template with ``{0}``, ``{1}``, ... for the arguments.

    An argument may appear twice in a template: parameters are numbered (see
    :meth:`placeholder`), so repeating a fragment repeats its parameters correctly.
    """

    def placeholder(self, index: int) -> str:
        """How the ``index``-th (1-based) bound parameter is written in a statement.

        Numbered rather than positional, so templates may reorder or repeat arguments.
        """
        return f"${index}"

    def quote(self, identifier: str) -> str:
        """A safely quoted identifier."""
        return '"' + identifier.replace('"', '""') + '"'

    def call(self, function: str, *args: str) -> str:
        """Fill in a function template with SQL fragments."""
        return self.FUNCTIONS[function].format(*args)

    def column_type(self, data_type: pa.DataType) -> str:
        """The column type for an Arrow type, nested types included."""
        if pa.types.is_map(data_type):
            key = self.column_type(data_type.key_type)
            item = self.column_type(data_type.item_type)
            return self.map_type(key, item)
        if pa.types.is_list(data_type):
            return self.list_type(self.column_type(data_type.value_type))
        if pa.types.is_struct(data_type):
            fields = [(f.name, self.column_type(f.type)) for f in data_type]
            return self.struct_type(fields)
        try:
            return self.TYPES[data_type]
        except KeyError:
            raise TypeError(f"{self.name}: no column type for {data_type}") from None

    def map_type(self, key: str, item: str) -> str:
        return f"MAP({key}, {item})"

    def list_type(self, item: str) -> str:
        return f"{item}[]"

    def struct_type(self, fields: list[tuple[str, str]]) -> str:
        inner = ", ".join(f"{self.quote(name)} {type_}" for name, type_ in fields)
        return f"STRUCT({inner})"

    def create_table(self, name: str, schema: pa.Schema) -> str:
        """``CREATE TABLE IF NOT EXISTS`` for an Arrow schema."""
        columns = ",\n  ".join(
            f"{self.quote(field.name)} {self.column_type(field.type)}" for field in schema
        )
        return f"CREATE TABLE IF NOT EXISTS {self.quote(name)} (\n  {columns}\n)"
