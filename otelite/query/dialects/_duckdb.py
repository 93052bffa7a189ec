"""DuckDB's SQL, with attribute maps stored as two lists.

Attribute maps are kept as ``STRUCT("keys" K[], "values" V[])`` rather than DuckDB's
``MAP`` (why: ``otelite.storage.duckdb._layout``); looking a key up in the keys list and
taking the value at that position is as fast as a ``MAP`` lookup, and gives NULL for a
missing key as a ``MAP`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import pyarrow as pa

from otelite.query.dialects._base import Dialect

__all__ = ["DuckDBDialect"]

_SERIES_ID = "SeriesId"


# Some item ``e`` of a list column meets the condition ``{{0}}`` (false for no items).
_ANY = 'coalesce(list_bool_or(list_transform("{list}", lambda e: {{0}})), false)'
_ITEM_ATTRIBUTE = 'e."Attributes"."values"[list_position(e."Attributes"."keys", {0})]'
_ITEM_HAS_ATTRIBUTE = 'list_contains(e."Attributes"."keys", {0})'


class DuckDBDialect(Dialect):
    name: ClassVar[str] = "duckdb"

    SERIES_ID: ClassVar[str] = _SERIES_ID
    """A column of each metric table in the DuckDB store (not in otelite's schemas): the
    point's series identity, ``SERIES_ID_OF``, computed as the point is inserted. Reading
    a series then groups and sorts by one integer instead of hashing its maps again, which
    was most of a PromQL selection's time."""
    SERIES_ID_OF: ClassVar[str] = (
        'hash("ResourceAttributes", "ScopeName", "ScopeVersion", "Attributes")'
    )

    TYPES: ClassVar[Mapping[pa.DataType, str]] = {
        **Dialect.TYPES,
        pa.int8(): "TINYINT",
        pa.uint32(): "UINTEGER",
        pa.uint64(): "UBIGINT",
        pa.float64(): "DOUBLE",
        pa.binary(): "BLOB",
        pa.timestamp("ns"): "TIMESTAMP_NS",
    }

    FUNCTIONS: ClassVar[Mapping[str, str]] = {
        **Dialect.FUNCTIONS,
        "map_get": '{0}."values"[list_position({0}."keys", {1})]',
        "map_contains": 'list_contains({0}."keys", {1})',
        "map_keys": '{0}."keys"',
        "column_map_keys": '{0}."keys"',
        "map_values": '{0}."values"',
        "unnest": "unnest({0})",
        "unnest_pair": "SELECT {0}, unnest({2}) AS {3}, unnest({4}) AS {5} FROM {1}",
        "list_len": "len({0})",
        "byte_length": "strlen({0})",  # UTF-8 bytes; length() counts characters
        "to_hex": "lower(hex({0}))",
        "from_hex": "unhex({0})",
        "ns_to_timestamp": "make_timestamp_ns({0})",
        "timestamp_to_ns": "epoch_ns({0})",
        "time_bucket_ns": "(epoch_ns({0}) // {1}) * {1}",  # bucket start, Unix ns
        "contains": "contains({0}, {1})",
        "contains_ci": "contains(lower({0}), lower({1}))",
        "regex_full": "regexp_full_match({0}, {1})",
        "regex_search": "regexp_matches({0}, {1})",
        "ns_bucket": "((epoch_ns({0}) - {1}) // {2})",
        "to_int": "TRY_CAST({0} AS BIGINT)",
        "to_double": "TRY_CAST({0} AS DOUBLE)",
        # One item (``e``) of the span's events or links, and some item meeting a
        # condition on it: both are lists of structs.
        "any_event_name": _ANY.format(list="Events"),
        "any_event_attribute": _ANY.format(list="Events"),
        "any_link_trace_id": _ANY.format(list="Links"),
        "any_link_span_id": _ANY.format(list="Links"),
        "any_link_attribute": _ANY.format(list="Links"),
        "any_event_time_since_start": _ANY.format(list="Events"),
        "event_name": 'e."Name"',
        "event_time_since_start": '(epoch_ns(e."Timestamp") - epoch_ns("Timestamp"))',
        "link_trace_id": 'e."TraceId"',
        "link_span_id": 'e."SpanId"',
        "event_attribute": _ITEM_ATTRIBUTE,
        "link_attribute": _ITEM_ATTRIBUTE,
        "event_has_attribute": _ITEM_HAS_ATTRIBUTE,
        "link_has_attribute": _ITEM_HAS_ATTRIBUTE,
        "pow2_ceiling": "power(2, ceil(log2({0})))",
        "hash2": "hash({0}, {1})",
        "sample_bucket": "(hash({0}) % {1})",
        "series_id": f'"{_SERIES_ID}"',
        "quantile": "quantile_cont({0}, {1})",
        "bool_or": "bool_or({0})",
        "arg_min": "arg_min({0}, {1})",
        "arg_min_if": "arg_min({0}, {1}) FILTER (WHERE {2})",
        "arg_max": "arg_max({0}, {1})",
        "distinct_list": "list(DISTINCT {0} ORDER BY {0})",
        "one_row_per": "SELECT DISTINCT ON ({1}) {0} FROM {2}",
        "link_columns": '"Links"',
        "linked": (
            'SELECT {0}, link."TraceId" AS link_trace, link."SpanId" AS link_span'
            ' FROM (SELECT *, unnest("Links") AS link FROM {1} AS s WHERE {2}) AS s'
        ),
    }

    def map_type(self, key: str, item: str) -> str:
        return f'STRUCT("keys" {self.list_type(key)}, "values" {self.list_type(item)})'

    def list_type(self, item: str) -> str:
        return f"{item}[]"

    def struct_type(self, fields: list[tuple[str, str]]) -> str:
        inner = ", ".join(f"{self.quote(name)} {type_}" for name, type_ in fields)
        return f"STRUCT({inner})"
