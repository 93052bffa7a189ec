"""The TraceQL syntax tree: frozen, slotted dataclasses and enums, built to be matched.

Three layers meet in a query, and each has its own node types so that a compiler's
``match`` statements stay exhaustive and mypy can tell them apart:

* **field expressions** live inside ``{ }`` and are evaluated per span: literals,
  attributes, intrinsics, :class:`Binary` and :class:`Unary`;
* **pipelines** chain spanset expressions (:class:`SpansetFilter`,
  :class:`SpansetOperation`) with stages (:class:`ScalarFilter`, :class:`GroupBy`,
  :class:`Coalesce`, :class:`SelectStage`);
* **metrics** turn a pipeline into series (:class:`MetricsQuery`), combine them with
  arithmetic (:class:`MetricsMath`) and post-process them (:class:`TopK`,
  :class:`BottomK`, :class:`MetricsFilter`).

The tree is syntactic: parentheses leave no node, legacy names are stored as their
canonical intrinsic, and nothing is evaluated, with two exceptions that Tempo's own parser
makes too: a minus sign before a number or duration is folded into the literal, and
arithmetic between plain numbers outside braces (``count() > 2 * 3``) is folded to one
number (with Go's integer semantics, so ``1 / 2`` is ``0``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

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

__all__ = [
    "Aggregate",
    "Attribute",
    "Binary",
    "Bool",
    "BottomK",
    "Coalesce",
    "Compare",
    "Constant",
    "Duration",
    "Field",
    "FieldExpr",
    "Float",
    "GroupBy",
    "Hint",
    "Int",
    "IntrinsicField",
    "MetricsAggregate",
    "MetricsExpr",
    "MetricsFilter",
    "MetricsMath",
    "MetricsQuery",
    "Nil",
    "Node",
    "Pipeline",
    "Query",
    "ScalarBinary",
    "ScalarExpr",
    "ScalarFilter",
    "ScalarPipeline",
    "SecondStage",
    "SelectStage",
    "SpansetExpr",
    "SpansetFilter",
    "SpansetOperation",
    "Stage",
    "Static",
    "String",
    "TopK",
    "Unary",
]


# ---------------------------------------------------------------------------------------
# Literals. Separate classes keep 1, 1.0, 1ns, true and nil apart under ``==`` and ``match``.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class String:
    value: str


@dataclass(frozen=True, slots=True)
class Int:
    """A signed 64-bit integer; ``minInt`` and ``maxInt`` parse to its bounds."""

    value: int


@dataclass(frozen=True, slots=True)
class Float:
    value: float


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool


@dataclass(frozen=True, slots=True)
class Duration:
    """A duration literal (``1h30m``, ``-5s``) in nanoseconds."""

    nanoseconds: int


@dataclass(frozen=True, slots=True)
class Nil:
    """``nil``: compared with ``=`` it means "absent", with ``!=`` "present"."""


# ---------------------------------------------------------------------------------------
# Field expressions (inside braces).
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attribute:
    """``span.http.method``, ``.foo`` (unscoped), ``parent.resource.x`` (``parent=True``)."""

    scope: Scope
    name: str
    parent: bool = False

    def __post_init__(self) -> None:
        # Only these spellings exist in the language; refusing the others here keeps
        # the generator total.
        if not self.name:
            raise ValueError("an attribute name cannot be empty")
        if self.parent and self.scope not in (Scope.SPAN, Scope.RESOURCE, Scope.UNSCOPED):
            raise ValueError(f"parent. cannot be combined with the {self.scope.value} scope")


@dataclass(frozen=True, slots=True)
class IntrinsicField:
    """An intrinsic such as ``span:duration``; legacy ``duration`` parses to the same."""

    intrinsic: Intrinsic


@dataclass(frozen=True, slots=True)
class Binary:
    op: BinaryOp
    left: FieldExpr
    right: FieldExpr


@dataclass(frozen=True, slots=True)
class Unary:
    op: UnaryOp
    operand: FieldExpr


# ---------------------------------------------------------------------------------------
# Spansets and pipelines.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpansetFilter:
    """``{ condition }``; ``{ }`` (every span) has no condition."""

    condition: FieldExpr | None = None


@dataclass(frozen=True, slots=True)
class SpansetOperation:
    op: SpansetOp
    left: SpansetExpr
    right: SpansetExpr


@dataclass(frozen=True, slots=True)
class Aggregate:
    """``count()`` (no field) or ``avg|min|max|sum(expr)`` over each spanset."""

    function: AggregateFunction
    field: FieldExpr | None = None


@dataclass(frozen=True, slots=True)
class ScalarBinary:
    """Arithmetic between scalar expressions, e.g. ``2 * min(duration)``."""

    op: BinaryOp
    left: ScalarExpr
    right: ScalarExpr


@dataclass(frozen=True, slots=True)
class ScalarPipeline:
    """``({ ... } | ... | count())``: a parenthesised pipeline ending in an aggregate."""

    source: Pipeline
    aggregate: Aggregate


@dataclass(frozen=True, slots=True)
class ScalarFilter:
    """``count() > 2``: keeps the spansets whose scalars compare true."""

    op: BinaryOp
    left: ScalarExpr
    right: ScalarExpr


@dataclass(frozen=True, slots=True)
class GroupBy:
    """``by(expr)``: Tempo groups by exactly one field expression."""

    expr: FieldExpr


@dataclass(frozen=True, slots=True)
class Coalesce:
    """``coalesce()``: merges the spansets that ``by()`` split."""


@dataclass(frozen=True, slots=True)
class SelectStage:
    """``select(a, b)``: also return these fields of each span."""

    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Stages joined by ``|``. Never empty, never starts with :class:`Coalesce`, and
    never holds a :class:`Pipeline` directly as a stage (the parser splices those)."""

    stages: tuple[Stage, ...]


# ---------------------------------------------------------------------------------------
# Metrics.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricsAggregate:
    """``rate()``, ``avg_over_time(span:duration) by (resource.service.name)``, ...

    ``field`` is None for ``rate`` and ``count_over_time``; ``quantiles`` is set only for
    ``quantile_over_time`` (Tempo reads its numbers as floats).
    """

    function: MetricsFunction
    field: Field | None = None
    quantiles: tuple[float, ...] = ()
    by: tuple[Field, ...] = ()


@dataclass(frozen=True, slots=True)
class Compare:
    """``compare({ selection }, top_n, start, end)``: Tempo's defaults are 10, 0 and 0."""

    selection: SpansetFilter
    top_n: int = 10
    start: int = 0
    end: int = 0


@dataclass(frozen=True, slots=True)
class TopK:
    limit: int


@dataclass(frozen=True, slots=True)
class BottomK:
    limit: int


@dataclass(frozen=True, slots=True)
class MetricsFilter:
    """``> 10`` after a metrics function: drops the points that compare false."""

    op: BinaryOp
    value: Constant


@dataclass(frozen=True, slots=True)
class MetricsQuery:
    """``source | function`` followed by second stages (``| topk(5)``, ``> 10``)."""

    source: Pipeline
    function: MetricsAggregate | Compare
    stages: tuple[SecondStage, ...] = ()


@dataclass(frozen=True, slots=True)
class MetricsMath:
    """``(a) op (b)`` for ``+ - * /`` between metrics queries and numbers, with the
    second stages that follow the whole expression."""

    op: BinaryOp
    left: MetricsExpr
    right: MetricsExpr
    stages: tuple[SecondStage, ...] = ()


# ---------------------------------------------------------------------------------------
# The root.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hint:
    """One ``key=value`` of ``with(...)``."""

    name: str
    value: Static


@dataclass(frozen=True, slots=True)
class Query:
    """A whole TraceQL query: a search pipeline or a metrics expression, plus hints."""

    body: Pipeline | MetricsQuery | MetricsMath
    hints: tuple[Hint, ...] = ()


Static: TypeAlias = String | Int | Float | Bool | Duration | Nil | Status | Kind
Constant: TypeAlias = Int | Float | Duration
Field: TypeAlias = Attribute | IntrinsicField
FieldExpr: TypeAlias = Static | Attribute | IntrinsicField | Binary | Unary
SpansetExpr: TypeAlias = SpansetFilter | SpansetOperation | Pipeline
Stage: TypeAlias = SpansetExpr | ScalarFilter | GroupBy | Coalesce | SelectStage
ScalarExpr: TypeAlias = Aggregate | ScalarBinary | ScalarPipeline | Constant
SecondStage: TypeAlias = TopK | BottomK | MetricsFilter
MetricsExpr: TypeAlias = MetricsQuery | MetricsMath | Int | Float
Node: TypeAlias = (
    Query
    | FieldExpr
    | Stage
    | ScalarExpr
    | MetricsExpr
    | MetricsAggregate
    | Compare
    | SecondStage
    | Hint
)
