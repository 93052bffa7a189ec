"""TraceQL, Grafana Tempo's trace query language: text → immutable syntax tree → text.

``parse(text)`` gives a :class:`Query`; ``to_text(node)`` writes any node back as
canonical TraceQL, and ``parse(to_text(q)) == q``. ``search_plan`` and ``metrics_plan``
turn a query into otelite's plans (``_plan``, ``_metrics``): searches into span set
searches, metrics into aggregates per time step, both run in the database.
``parse_field`` reads one attribute or intrinsic name, as Tempo's tag APIs take them.
Bad input raises :class:`ParseError` (an :class:`~otelite.errors.InvalidRequest`) with
the line, the column and an excerpt.

The package follows Tempo's parser (its ``expr.y`` and lexer) rather than its
documentation where the two differ, so that a query means here what it means in Tempo:
``&&`` and ``||`` share one precedence level, a prefix ``-`` takes in ``*`` and ``^``,
attribute names run up to whitespace or a bracket or comparison character. It also
makes the checks Tempo makes before running a query (``{ 1 }``, ``{ 1 = "a" }``,
``sum(3) > 1``, ``topk(0)``), except that regular expressions are not compiled.

The tree, from the root (every node is a frozen dataclass, made for ``match``)::

    Query(body, hints: tuple[Hint, ...])
    body       Pipeline(stages)                         a search
               MetricsQuery(source: Pipeline, function, stages: tuple[SecondStage, ...])
               MetricsMath(op, left, right, stages)     left, right: metrics or Int | Float
    Stage      SpansetFilter(condition | None) | SpansetOperation(op, left, right)
               Pipeline (only as an operand) | ScalarFilter(op, left, right)
               GroupBy(expr) | Coalesce() | SelectStage(fields)
    ScalarExpr Aggregate(function, field) | ScalarBinary | ScalarPipeline | Int | Float
               | Duration
    FieldExpr  String | Int | Float | Bool | Duration | Nil | Status | Kind
               | Attribute(scope, name, parent) | IntrinsicField(intrinsic)
               | Binary(op, left, right) | Unary(op, operand)

Modules, in the order text flows through them: ``_lexer`` (tokens; ``_literals`` for
durations and strings), ``_stream`` (a token cursor), ``_fields`` (what goes inside
braces; ``_types`` for its type rules), ``_parser`` (pipelines, metrics and hints;
``_combine`` for what operators mean outside braces), ``_ast`` and ``_enums`` (the
nodes), ``_generator`` (back to text) and ``_errors``; then ``_plan``, ``_metrics`` and
``_compare`` (``compare()``, Tempo's comparison of a selection of spans with the rest).
"""

from __future__ import annotations

from otelite.query.traceql._ast import (
    Aggregate,
    Attribute,
    Binary,
    Bool,
    BottomK,
    Coalesce,
    Compare,
    Constant,
    Duration,
    Field,
    FieldExpr,
    Float,
    GroupBy,
    Hint,
    Int,
    IntrinsicField,
    MetricsAggregate,
    MetricsExpr,
    MetricsFilter,
    MetricsMath,
    MetricsQuery,
    Nil,
    Node,
    Pipeline,
    Query,
    ScalarBinary,
    ScalarExpr,
    ScalarFilter,
    ScalarPipeline,
    SecondStage,
    SelectStage,
    SpansetExpr,
    SpansetFilter,
    SpansetOperation,
    Stage,
    Static,
    String,
    TopK,
    Unary,
)
from otelite.query.traceql._compare import MetricsComparison, metrics_comparison
from otelite.query.traceql._enums import (
    AggregateFunction,
    BinaryOp,
    Intrinsic,
    Kind,
    MetricsFunction,
    Scope,
    SpansetOp,
    Status,
    UnaryOp,
)
from otelite.query.traceql._errors import ParseError
from otelite.query.traceql._generator import to_text
from otelite.query.traceql._metrics import (
    Exemplar,
    MetricsExpression,
    MetricsPlan,
    Series,
    metrics_expression,
    metrics_plan,
)
from otelite.query.traceql._parser import parse, parse_field
from otelite.query.traceql._plan import (
    INTRINSIC_NAMES,
    TagValues,
    filter_condition,
    search_plan,
    span_condition,
    spanset_of,
    tag_values_source,
)

__all__ = [
    "INTRINSIC_NAMES",
    "Aggregate",
    "AggregateFunction",
    "Attribute",
    "Binary",
    "BinaryOp",
    "Bool",
    "BottomK",
    "Coalesce",
    "Compare",
    "Constant",
    "Duration",
    "Exemplar",
    "Field",
    "FieldExpr",
    "Float",
    "GroupBy",
    "Hint",
    "Int",
    "Intrinsic",
    "IntrinsicField",
    "Kind",
    "MetricsAggregate",
    "MetricsComparison",
    "MetricsExpr",
    "MetricsExpression",
    "MetricsFilter",
    "MetricsFunction",
    "MetricsMath",
    "MetricsPlan",
    "MetricsQuery",
    "Nil",
    "Node",
    "ParseError",
    "Pipeline",
    "Query",
    "ScalarBinary",
    "ScalarExpr",
    "ScalarFilter",
    "ScalarPipeline",
    "Scope",
    "SecondStage",
    "SelectStage",
    "Series",
    "SpansetExpr",
    "SpansetFilter",
    "SpansetOp",
    "SpansetOperation",
    "Stage",
    "Static",
    "Status",
    "String",
    "TagValues",
    "TopK",
    "Unary",
    "UnaryOp",
    "filter_condition",
    "metrics_comparison",
    "metrics_expression",
    "metrics_plan",
    "parse",
    "parse_field",
    "search_plan",
    "span_condition",
    "spanset_of",
    "tag_values_source",
    "to_text",
]
