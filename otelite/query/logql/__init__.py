"""LogQL, Grafana Loki's log query language: text → immutable syntax tree → text.

``parse(text)`` gives an :data:`Expr`, a log query or a metric query; ``to_text(node)``
writes any node back as canonical LogQL, and ``parse(to_text(e)) == e``. Bad input
raises :class:`ParseError` (an :class:`~otelite.errors.InvalidRequest`) with the line,
the column, an excerpt, and Loki's wording (``parse error at line 1, col 14: syntax
error: unexpected ...``). ``parse_pattern`` reads the pattern language of ``| pattern``
and ``|>``; the ``parse_*`` and ``format_*`` literal helpers read and write durations,
ranges and byte sizes exactly as Loki does. ``parse_labels`` reads a stream's labels in
the text form Loki's push API sends (``{app="api"}``). ``stream_labels``,
``structured_metadata`` and ``detected_level`` say how an OTLP log record looks to Loki:
its stream, its structured metadata, its level.

The package follows Loki's parser (``pkg/logql/syntax``: its ``syntax.y`` grammar, its
lexer and the checks ``ParseExpr`` makes) rather than its documentation where the two
differ, so that a query means here what it means in Loki: keywords are case-insensitive
and reserved (no label can be called ``json`` or ``by``), a function name without ``(``
is a label name, ``a, b or c`` in a label filter is ``a and (b or c)``, arithmetic
between numbers is folded. Regular expressions, Go templates, JSON paths and IP patterns
are kept as text: the planner compiles them.

The tree, from the root (every node is a frozen dataclass, made for ``match``)::

    Expr        LogQuery | MetricExpr
    LogQuery    (selector: tuple[Matcher, ...], line_filters: tuple[LineFilter, ...],
                 stages: tuple[Stage, ...])      selector → SQL, then line filters, then the rest
    Stage       LineFilter(op, values: str | IP ...) | LabelFilter(condition)
                | JsonParser(extractions) | LogfmtParser(extractions, strict, keep_empty)
                | RegexpParser | PatternParser | UnpackParser | LineFormat
                | LabelFormat(items: LabelRename | LabelTemplate ...) | Drop | Keep | Decolorize
    LabelCondition  Matcher | NumberFilter | DurationFilter | BytesFilter | IPFilter
                | AndFilter(left, right) | OrFilter(left, right)
    MetricExpr  RangeAggregation(function, source: LogRange, parameter, grouping)
                | VectorAggregation(op, expr, grouping, parameter)
                | BinaryOperation(op, left, right, return_bool, matching: VectorMatching)
                | LabelReplace(expr, destination, replacement, source, regex)
                | Number(value) | Vector(value)
    LogRange    (query: LogQuery, range_ns, offset_ns, unwrap: Unwrap(label, conversion, filters))

Modules, in the order text flows through them: ``_lexer`` (tokens; ``_literals`` for
durations, sizes, numbers and strings), ``_stream`` (a token cursor and Loki's token
names), ``_pipeline`` (log queries: selectors, filters, stages, ``unwrap``), ``_parser``
(metric queries; ``_fold`` for arithmetic between numbers), ``_ast`` and ``_enums`` (the
 nodes), ``_generator`` (back to text), ``_pattern`` and ``_errors``; ``_label_set`` (pushed
labels) stands beside them.

Running a log query over a store (``select_logs``, ``read_entries``): ``_labels`` defines
a stored OTLP record's stream labels and structured metadata; ``_select`` compiles the
stream selector and the line filters SQL can apply to a plan's ``WHERE`` (bound
parameters only) and says what is left; ``_read`` reads the records in time order,
limited in SQL when nothing after can drop a line, else in windows until enough pass;
``_records`` turns rows into :class:`Entries` (times, lines, :class:`EntryLabels`:
stream labels, structured metadata, parsed labels and the error, as ``_entries``
defines); ``_process`` runs the rest of the pipeline on each batch: ``_match`` (line
filters, patterns, ``ip()``), ``_regex`` (RE2 for Python), ``_parsers`` and ``_logfmt``,
``_conditions`` (label filters). ``stream_sets`` (``_streams``) lists the streams a
selector picks, for the label APIs; ``index_stats`` and ``volume`` (``_volume``) say how
much they hold, grouped in SQL; ``detected_labels``, ``detected_fields`` and
``detected_field_values`` (``_detected``) are what Loki detects for Logs Drilldown;
a :class:`Tail` (``_tail``) follows a query as records are stored.

Running a metric query (``evaluate_metric``, ``_metrics``): every step of a grid at once,
over PromQL's packed values and operators, with Loki's semantics where they differ.
``_samples`` reads a log range's samples through the whole pipeline (``unwrap`` and its
conversions and errors included), ``_range_vectors`` computes range aggregations over
them; ``_counts`` counts lines per time bucket and label in SQL instead when a ``sum``
of ``count_over_time``, ``rate`` or ``bytes_*`` groups by labels SQL can tell
(``_label_sql``: stream labels, attributes, ``detected_level``), leaving only the records
it cannot label to Python.
"""

from __future__ import annotations

from otelite.query.logql._ast import (
    IP,
    AndFilter,
    BinaryOperation,
    BytesFilter,
    Decolorize,
    Drop,
    DurationFilter,
    Expr,
    Extraction,
    Grouping,
    IPFilter,
    JsonParser,
    Keep,
    LabelCondition,
    LabelFilter,
    LabelFormat,
    LabelRename,
    LabelReplace,
    LabelTemplate,
    LineFilter,
    LineFormat,
    LogfmtParser,
    LogQuery,
    LogRange,
    Matcher,
    MetricExpr,
    Node,
    Number,
    NumberFilter,
    OrFilter,
    PatternParser,
    RangeAggregation,
    RegexpParser,
    Stage,
    UnpackParser,
    Unwrap,
    Vector,
    VectorAggregation,
    VectorMatching,
)
from otelite.query.logql._detected import (
    DetectedField,
    DetectedLabel,
    detected_field_values,
    detected_fields,
    detected_labels,
    field_type,
)
from otelite.query.logql._entries import ERROR, ERROR_DETAILS, Entries, EntryLabels, Labels
from otelite.query.logql._enums import (
    BinaryOp,
    Cardinality,
    CompareOp,
    Conversion,
    LineOp,
    MatchOp,
    RangeFunction,
    VectorOp,
)
from otelite.query.logql._errors import ParseError
from otelite.query.logql._generator import to_text
from otelite.query.logql._label_set import format_labels, is_label_name, parse_labels
from otelite.query.logql._labels import (
    DETECTED_LEVEL,
    LEVEL_FIELDS,
    PUSH_SCOPE,
    SERVICE_NAME,
    UNKNOWN_LEVEL,
    detected_level,
    stream_labels,
    structured_metadata,
)
from otelite.query.logql._literals import (
    format_bytes,
    format_duration,
    format_range,
    parse_bytes,
    parse_duration,
    parse_range,
)
from otelite.query.logql._metrics import MAX_SERIES, MetricResult, evaluate_metric
from otelite.query.logql._parser import MAX_QUERY_BYTES, parse
from otelite.query.logql._pattern import Capture, parse_pattern, pattern_problem
from otelite.query.logql._pattern_mining import Pattern, mine_patterns
from otelite.query.logql._read import Direction, LogResult, ReadStats, read_entries, select_logs
from otelite.query.logql._regex import RegexError
from otelite.query.logql._samples import SAMPLE_EXTRACTION_ERROR, PipelineError
from otelite.query.logql._select import SqlPart, label_value, selector_predicate, split_query
from otelite.query.logql._streams import stream_sets
from otelite.query.logql._tail import LATE_NS, SCAN_LIMIT, Tail, TailBatch
from otelite.query.logql._volume import (
    LINE_BYTES,
    IndexStats,
    VolumeBy,
    VolumeSeries,
    index_stats,
    volume,
)

__all__ = [
    "DETECTED_LEVEL",
    "ERROR",
    "ERROR_DETAILS",
    "IP",
    "LATE_NS",
    "LEVEL_FIELDS",
    "LINE_BYTES",
    "MAX_QUERY_BYTES",
    "MAX_SERIES",
    "PUSH_SCOPE",
    "SAMPLE_EXTRACTION_ERROR",
    "SCAN_LIMIT",
    "SERVICE_NAME",
    "UNKNOWN_LEVEL",
    "AndFilter",
    "BinaryOp",
    "BinaryOperation",
    "BytesFilter",
    "Capture",
    "Cardinality",
    "CompareOp",
    "Conversion",
    "Decolorize",
    "DetectedField",
    "DetectedLabel",
    "Direction",
    "Drop",
    "DurationFilter",
    "Entries",
    "EntryLabels",
    "Expr",
    "Extraction",
    "Grouping",
    "IPFilter",
    "IndexStats",
    "JsonParser",
    "Keep",
    "LabelCondition",
    "LabelFilter",
    "LabelFormat",
    "LabelRename",
    "LabelReplace",
    "LabelTemplate",
    "Labels",
    "LineFilter",
    "LineFormat",
    "LineOp",
    "LogQuery",
    "LogRange",
    "LogResult",
    "LogfmtParser",
    "MatchOp",
    "Matcher",
    "MetricExpr",
    "MetricResult",
    "Node",
    "Number",
    "NumberFilter",
    "OrFilter",
    "ParseError",
    "Pattern",
    "PatternParser",
    "PipelineError",
    "RangeAggregation",
    "RangeFunction",
    "ReadStats",
    "RegexError",
    "RegexpParser",
    "SqlPart",
    "Stage",
    "Tail",
    "TailBatch",
    "UnpackParser",
    "Unwrap",
    "Vector",
    "VectorAggregation",
    "VectorMatching",
    "VectorOp",
    "VolumeBy",
    "VolumeSeries",
    "detected_field_values",
    "detected_fields",
    "detected_labels",
    "detected_level",
    "evaluate_metric",
    "field_type",
    "format_bytes",
    "format_duration",
    "format_labels",
    "format_range",
    "index_stats",
    "is_label_name",
    "label_value",
    "mine_patterns",
    "parse",
    "parse_bytes",
    "parse_duration",
    "parse_labels",
    "parse_pattern",
    "parse_range",
    "pattern_problem",
    "read_entries",
    "select_logs",
    "selector_predicate",
    "split_query",
    "stream_labels",
    "stream_sets",
    "structured_metadata",
    "to_text",
    "volume",
]
