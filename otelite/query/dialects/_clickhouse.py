"""ClickHouse's SQL, over the OpenTelemetry Collector exporter's tables.

ClickHouse parameters are named and typed (``{p1:String}``), aggregates take constant
parameters in a second pair of brackets (``quantileExactInclusive(0.95)(x)``), and a map
lookup of a missing key gives the type's default rather than NULL, so ``map_get`` asks
``mapContains`` first to keep SQL's missing-means-NULL rule the plans rely on.

The exporter stores some columns in another form than otelite's schema: ids as lowercase
hex, span kinds and status codes as names (``Server``, ``Error``), and metric values that
OTLP may leave out as plain numbers, with otelite's ``NullColumns`` naming the ones that
were absent, and exemplars as a ``Nested`` column (one array per field). ``COLUMNS`` reads
each back as otelite's schema has it, so a plan gets the same values on both backends
(binary ids, a list of exemplar structs), and encodes literals the stored way so that
equality tests hit the exporter's indexes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import pyarrow as pa

from otelite.query.dialects._base import ColumnCodec, Dialect

__all__ = ["ClickHouseDialect"]

SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
"""The exporter's names of OTLP span kinds, by their number."""
STATUS_CODES = ("Unset", "Ok", "Error")
"""The exporter's names of OTLP status codes, by their number."""

_INT64_MAX = 2**63 - 1


def _enum_codec(names: tuple[str, ...]) -> ColumnCodec:
    quoted = "[" + ", ".join(f"'{name}'" for name in names) + "]"
    numbers = "[" + ", ".join(str(n) for n in range(len(names))) + "]::Array(Int32)"
    # A number the exporter has no name for is stored as its decimal, so it comes back.
    return ColumnCodec(
        read=f"transform({{0}}, {quoted}, {numbers}, toInt32OrZero({{0}}))",
        encode=f"transform(toInt32({{0}}), {numbers}, {quoted}, toString({{0}}))",
    )


def _nullable(name: str) -> ColumnCodec:
    return ColumnCodec(read=f"if(has(\"NullColumns\", '{name}'), NULL, {{0}})")


_HEX = ColumnCodec(read="unhex({0})", encode="lower(hex({0}))")

# An array column otelite adds beside the exporter's ``Nested`` ones, or one value per item
# of the nested column where their lengths differ (rows the exporter itself wrote).
_PADDED = "if(length({0}) = length({1}), {0}, arrayMap(x -> {2}, {1}))"

# otelite's exemplar struct (``Exemplars`` in ``otelite.storage``'s metric schemas); a value
# is NULL when the exemplar had none of that kind (a double or an int, never both).
_EXEMPLAR = (
    "Tuple(FilteredAttributes Map(String, String), FilteredAttributeTypes Map(String, String),"
    " TimeUnix DateTime64(9), Value Nullable(Float64), ValueInt Nullable(Int64),"
    " SpanId String, TraceId String)"
)


def _exemplars() -> ColumnCodec:
    """The exporter's ``Exemplars.*`` arrays, ids unhexed and an absent value (0 in the
    array, ``Exemplars.N`` in ``NullColumns``) NULL, as one list of exemplar structs."""
    times = '"Exemplars.TimeUnix"'
    parts = (
        '"Exemplars.FilteredAttributes"',
        _PADDED.format('"ExemplarsFilteredAttributeTypes"', times, "map()"),
        times,
        "arrayMap((v, i) -> if(has(\"NullColumns\", concat('Exemplars.', toString(i - 1))),"
        ' NULL, v), "Exemplars.Value", arrayEnumerate("Exemplars.Value"))',
        _PADDED.format('"ExemplarsValueInt"', times, "NULL"),
        'arrayMap(x -> unhex(x), "Exemplars.SpanId")',
        'arrayMap(x -> unhex(x), "Exemplars.TraceId")',
    )
    return ColumnCodec(read=f"CAST(arrayZip({', '.join(parts)}), 'Array({_EXEMPLAR})')")


class ClickHouseDialect(Dialect):
    name: ClassVar[str] = "clickhouse"

    SPAN_KINDS: ClassVar[tuple[str, ...]] = SPAN_KINDS
    """The exporter's names of OTLP span kinds, by their number."""
    STATUS_CODES: ClassVar[tuple[str, ...]] = STATUS_CODES
    """The exporter's names of OTLP status codes, by their number."""

    TYPES: ClassVar[Mapping[pa.DataType, str]] = {
        pa.bool_(): "Bool",
        pa.int8(): "Int8",
        pa.int32(): "Int32",
        pa.int64(): "Int64",
        pa.uint32(): "UInt32",
        pa.uint64(): "UInt64",
        pa.float64(): "Float64",
        pa.string(): "String",
        pa.binary(): "String",
        pa.timestamp("ns"): "DateTime64(9)",
    }

    FUNCTIONS: ClassVar[Mapping[str, str]] = {
        **Dialect.FUNCTIONS,
        "map_get": "if(mapContains({0}, {1}), {0}[{1}], NULL)",
        "map_contains": "mapContains({0}, {1})",
        "map_keys": "mapKeys({0})",
        "column_map_keys": "{0}.keys",  # the subcolumn: reads no values
        "map_values": "mapValues({0})",
        "unnest": "arrayJoin({0})",
        "unnest_pair": "SELECT {0}, {3}, {5} FROM {1} ARRAY JOIN {2} AS {3}, {4} AS {5}",
        "to_text": "toString({0})",
        "list_len": "length({0})",
        "byte_length": "length({0})",  # of a String: its bytes
        "to_hex": "lower(hex({0}))",
        "from_hex": "unhex({0})",
        "ns_to_timestamp": "fromUnixTimestamp64Nano({0})",
        "timestamp_to_ns": "toUnixTimestamp64Nano({0})",
        "time_bucket_ns": "intDiv(toUnixTimestamp64Nano({0}), {1}) * {1}",
        "contains": "(position({0}, {1}) > 0)",
        "contains_ci": "(positionCaseInsensitiveUTF8({0}, {1}) > 0)",
        "regex_full": "match({0}, concat('^(?:', {1}, ')$'))",
        "regex_search": "match({0}, {1})",
        "ns_bucket": "intDiv(toUnixTimestamp64Nano({0}) - {1}, {2})",
        "nullif": "nullIf({0}, {1})",
        "to_int": "toInt64OrNull({0})",
        "to_double": "toFloat64OrNull({0})",
        "as_double": "toFloat64({0})",
        "power": "pow({0}, {1})",
        # The exporter keeps events and links as parallel arrays, one per field; ``e`` is
        # one item of the array a condition reads. Link ids are stored as hex.
        "any_event_name": 'arrayExists(e -> {0}, "Events.Name")',
        "any_event_attribute": 'arrayExists(e -> {0}, "Events.Attributes")',
        "any_link_trace_id": 'arrayExists(e -> {0}, "Links.TraceId")',
        "any_link_span_id": 'arrayExists(e -> {0}, "Links.SpanId")',
        "any_link_attribute": 'arrayExists(e -> {0}, "Links.Attributes")',
        "any_event_time_since_start": 'arrayExists(e -> {0}, "Events.Timestamp")',
        "event_name": "e",
        "event_time_since_start": '(toUnixTimestamp64Nano(e) - toUnixTimestamp64Nano("Timestamp"))',
        "link_trace_id": "unhex(e)",
        "link_span_id": "unhex(e)",
        "event_attribute": "if(mapContains(e, {0}), e[{0}], NULL)",
        "link_attribute": "if(mapContains(e, {0}), e[{0}], NULL)",
        "event_has_attribute": "mapContains(e, {0})",
        "link_has_attribute": "mapContains(e, {0})",
        "padded": _PADDED,
        "pow2_ceiling": "pow(2, ceil(log2({0})))",
        "hash2": "cityHash64({0}, {1})",
        "sample_bucket": "(cityHash64({0}) % {1})",
        "series_id": "cityHash64(ResourceAttributes, ScopeName, ScopeVersion, Attributes)",
        "count": "count()",
        "count_if": "countIf({0})",
        "count_distinct": "uniqExact({0})",
        # R-7 interpolation between the closest ranks, as DuckDB's quantile_cont.
        "quantile": "quantileExactInclusive({1})({0})",
        # NULL when every value is NULL, as SQL's bool_or.
        "bool_or": "if(count({0}) = 0, NULL, countIf({0}) > 0)",
        "arg_min": "argMin({0}, {1})",
        "arg_min_if": "if(countIf({2}) > 0, argMinIf({0}, {1}, {2}), NULL)",
        "arg_max": "argMax({0}, {1})",
        "distinct_list": "arraySort(groupUniqArray({0}))",
        "one_row_per": "SELECT {0} FROM {2} LIMIT 1 BY {1}",
        "link_columns": '"Links.TraceId", "Links.SpanId"',
        "linked": (
            "SELECT {0}, link_trace, link_span FROM {1} AS s"
            ' ARRAY JOIN s."Links.TraceId" AS link_trace, s."Links.SpanId" AS link_span'
            " WHERE {2}"
        ),
    }

    CTE_SETTINGS: ClassVar[str] = " SETTINGS enable_materialized_cte = 1"

    COLUMNS: ClassVar[Mapping[str, ColumnCodec]] = {
        "TraceId": _HEX,
        "SpanId": _HEX,
        "ParentSpanId": _HEX,
        "SpanKind": _enum_codec(SPAN_KINDS),
        "StatusCode": _enum_codec(STATUS_CODES),
        # The exporter's UInt8, and otelite's full value beside it (see the logs table).
        "SeverityNumber": ColumnCodec(read='"SeverityNumberValue"'),
        **{
            name: _nullable(name)
            for name in ("Value", "Sum", "Min", "Max", "PositiveOffset", "NegativeOffset")
        },
        "Exemplars": _exemplars(),
    }

    def cte(self, name: str, body: str) -> str:
        return f"{name} AS MATERIALIZED ({body})"

    def placeholder(self, index: int, value: object) -> str:
        if isinstance(value, bytes):
            return f"unhex({{p{index}:String}})"  # bound as hex: see bind
        return f"{{p{index}:{self._parameter_type(value)}}}"

    def bind(self, value: object) -> object:
        return value.hex() if isinstance(value, bytes) else value

    @staticmethod
    def _parameter_type(value: object) -> str:
        if isinstance(value, bool):
            return "Bool"
        if isinstance(value, int):
            return "Int64" if value <= _INT64_MAX else "UInt64"
        if isinstance(value, float):
            return "Float64"
        if isinstance(value, str):
            return "String"
        raise TypeError(f"clickhouse: no parameter type for {type(value).__name__}")

    def map_type(self, key: str, item: str) -> str:
        return f"Map({key}, {item})"

    def list_type(self, item: str) -> str:
        return f"Array({item})"

    def struct_type(self, fields: list[tuple[str, str]]) -> str:
        inner = ", ".join(f"{self.quote(name)} {type_}" for name, type_ in fields)
        return f"Tuple({inner})"
