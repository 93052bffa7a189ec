"""A SQL dialect: tables of type names, function templates and column codecs, per backend.

The planner never asks which engine it talks to; it asks the dialect for a column type, a
function template, a placeholder or a stored column's logical value and fills it in. The
base class holds only what standard SQL spells one way; every engine-specific function
(maps, regular expressions, quantiles, timestamps, hex) is absent here and defined by each
backend's subclass, so a missing entry fails loudly instead of emitting another engine's SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import pyarrow as pa

__all__ = ["ColumnCodec", "Dialect"]


@dataclass(frozen=True, slots=True)
class ColumnCodec:
    """How a backend stores a column in another form than otelite's schema says.

    ``read`` turns the stored column (``{0}``) into the logical value; ``encode`` turns a
    logical value (``{0}``, a placeholder) into the stored form, so that an equality test
    compares stored values and can use the backend's indexes (None: compare what ``read``
    gives).
    """

    read: str
    encode: str | None = None


class Dialect:
    """Standard SQL; subclasses override ``TYPES``, ``FUNCTIONS`` and ``COLUMNS`` entries."""

    name: ClassVar[str] = "generic"

    TYPES: ClassVar[Mapping[pa.DataType, str]] = {
        pa.bool_(): "BOOLEAN",
        pa.int8(): "SMALLINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE PRECISION",
        pa.string(): "VARCHAR",
    }
    """Arrow type → column type, for the leaves of a schema."""

    FUNCTIONS: ClassVar[Mapping[str, str]] = {
        # Scalars.
        "coalesce": "coalesce({0}, {1})",
        "nullif": "nullif({0}, {1})",
        "if_else": "CASE WHEN {0} THEN {1} ELSE {2} END",
        "to_int": "CAST({0} AS BIGINT)",
        "to_double": "CAST({0} AS DOUBLE PRECISION)",
        "as_double": "CAST({0} AS DOUBLE PRECISION)",  # a number, never text
        "power": "power({0}, {1})",
        "ns_to_seconds": "({0} / 1000000000.0)",
        "to_text": "CAST({0} AS VARCHAR)",
        # Aggregates.
        "count": "count(*)",
        "count_if": "count(*) FILTER (WHERE {0})",
        "count_distinct": "count(DISTINCT {0})",
        "sum": "sum({0})",
        "min": "min({0})",
        "max": "max({0})",
        "avg": "avg({0})",
    }
    """Function name → template with ``{0}``, ``{1}``, ... for the arguments.

    An argument may appear twice in a template: parameters are numbered (see
    :meth:`placeholder`), so repeating a fragment repeats its parameters correctly.
    Backends add: ``map_get`` (NULL for a missing key), ``map_contains``, ``list_len``,
    ``byte_length`` (of a string, in UTF-8),
    ``to_hex``, ``from_hex``, ``ns_to_timestamp``, ``timestamp_to_ns``, ``time_bucket_ns``,
    ``contains``, ``contains_ci``, ``regex_full``, ``regex_search`` (an unanchored RE2
    match), ``ns_bucket`` (a timestamp's Unix ns
    minus ``{1}``, divided by ``{2}`` and rounded down; both positive integers, the
    difference never negative), ``hash2``, ``sample_bucket`` (a value's hash modulo a
    positive integer ``{1}``: equal values share a bucket), ``pow2_ceiling`` (the
    power of two at or above a positive number), ``quantile`` (linear
    interpolation between closest ranks), ``bool_or``, ``arg_min``, ``arg_min_if`` (NULL
    when no row qualifies), ``arg_max``, ``distinct_list`` (sorted), ``map_keys`` (a
    map's keys as a list), ``map_values`` (its values, in the keys' order),
    ``column_map_keys`` (the same of a stored map column, read without its values where
    the engine can), ``unnest`` (one row per item of a list,
    in a select list), ``unnest_pair``, a whole ``SELECT``: the columns ``{0}`` of each
    row of the relation ``{1}``, once per position of the equally long lists ``{2}`` and
    ``{4}``, with their items there as ``{3}`` and ``{5}`` (no row for empty lists),
    ``series_id`` (a metric point's series: a hash of its resource, scope and attributes)
    and ``one_row_per``, a whole ``SELECT``: the columns ``{0}`` of one row per value of
    the keys ``{1}`` among the rows of ``{2}`` (a table and its ``WHERE``), the engine's
    cheapest way (which row of several is not defined); ``link_columns``, the stored
    columns that hold a span's links' ids, and ``linked``, a whole ``SELECT``: the
    columns ``{0}`` of each span (``s``) of the relation ``{1}`` that meets ``{2}``, once
    per link, with the link's ids (stored form) as ``link_trace`` and ``link_span``.
    """

    CTE_SETTINGS: ClassVar[str] = ""
    """What a statement whose CTEs ``cte`` wrote must end with for them to work as asked."""

    COLUMNS: ClassVar[Mapping[str, ColumnCodec]] = {}
    """Column name → how the backend stores it, where that differs from otelite's schema."""

    def cte(self, name: str, body: str) -> str:
        """A common table expression that the statement reads several times."""
        return f"{name} AS ({body})"

    def placeholder(self, index: int, value: object) -> str:
        """How the ``index``-th (1-based) bound parameter, ``value``, is written.

        Numbered rather than positional, so templates may reorder or repeat arguments.
        """
        return f"${index}"

    def bind(self, value: object) -> object:
        """``value`` as the backend's driver takes it for a parameter."""
        return value

    def quote(self, identifier: str) -> str:
        """A safely quoted identifier."""
        return '"' + identifier.replace('"', '""') + '"'

    def call(self, function: str, *args: str) -> str:
        """Fill in a function template with SQL fragments."""
        try:
            template = self.FUNCTIONS[function]
        except KeyError:
            raise NotImplementedError(f"{self.name}: no SQL for {function!r}") from None
        return template.format(*args)

    def read(self, column: str) -> str:
        """The logical value of a stored column."""
        quoted = self.quote(column)
        codec = self.COLUMNS.get(column)
        return quoted if codec is None else codec.read.format(quoted)

    def encode(self, column: str, value: str) -> str | None:
        """``value`` (SQL) in ``column``'s stored form; None when stored as it is."""
        codec = self.COLUMNS.get(column)
        return None if codec is None or codec.encode is None else codec.encode.format(value)

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
        return f"{item} ARRAY"

    def struct_type(self, fields: list[tuple[str, str]]) -> str:
        inner = ", ".join(f"{self.quote(name)} {type_}" for name, type_ in fields)
        return f"ROW({inner})"

    def create_table(self, name: str, schema: pa.Schema) -> str:
        """``CREATE TABLE IF NOT EXISTS`` for an Arrow schema."""
        columns = ",\n  ".join(
            f"{self.quote(field.name)} {self.column_type(field.type)}" for field in schema
        )
        return f"CREATE TABLE IF NOT EXISTS {self.quote(name)} (\n  {columns}\n)"
