"""The LogQL syntax tree: frozen, slotted dataclasses, built to be matched.

Two layers meet in a query, each with its own node types so that a planner's ``match``
statements stay exhaustive and mypy can tell them apart:

* a **log query** (:class:`LogQuery`) is a stream selector, the line filters written
  right after it, and the pipeline stages after those: what a planner sends to SQL comes
  first, in that order;
* a **metric query** turns log queries into series: :class:`RangeAggregation` over a
  :class:`LogRange`, then :class:`VectorAggregation`, :class:`BinaryOperation`,
  :class:`LabelReplace`, :class:`Number` and :class:`Vector`.

The tree is syntactic: parentheses leave no node, ``=`` and ``==`` in a numeric label
filter are one operator, and nothing is evaluated, with one exception that Loki's parser
makes too: a binary operation between two numbers is folded to one number
(``1 + 1`` is ``Number(2.0)``; a comparison gives 1 or 0; ``x / 0`` and ``x % 0`` give NaN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TypeAlias

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

__all__ = [
    "IP",
    "AndFilter",
    "BinaryOperation",
    "BytesFilter",
    "Decolorize",
    "Drop",
    "DurationFilter",
    "Expr",
    "Extraction",
    "Grouping",
    "IPFilter",
    "JsonParser",
    "Keep",
    "LabelCondition",
    "LabelFilter",
    "LabelFormat",
    "LabelRename",
    "LabelReplace",
    "LabelTemplate",
    "LineFilter",
    "LineFormat",
    "LogQuery",
    "LogRange",
    "LogfmtParser",
    "Matcher",
    "MetricExpr",
    "Node",
    "Number",
    "NumberFilter",
    "OrFilter",
    "PatternParser",
    "RangeAggregation",
    "RegexpParser",
    "Stage",
    "UnpackParser",
    "Unwrap",
    "Vector",
    "VectorAggregation",
    "VectorMatching",
]


# ---------------------------------------------------------------------------------------
# Matchers and line filters.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Matcher:
    """``name op "value"``: in a stream selector, as a string label filter (the only
    filter that can test ``__error__``), and in ``drop`` and ``keep``."""

    name: str
    op: MatchOp
    value: str


@dataclass(frozen=True, slots=True)
class IP:
    """``ip("192.168.0.0/16")``: an address, a CIDR range or a ``from-to`` range."""

    pattern: str


@dataclass(frozen=True, slots=True)
class LineFilter:
    """``|= "a"``, ``!~ "b.*"``, ``|= ip("10.0.0.0/8")``; several values are written
    ``|= "a" or "b"``. A line passes a positive filter if any value matches, and a
    negated one (``!=``, ``!~``, ``!>``) if none does."""

    op: LineOp
    values: tuple[str | IP, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("a line filter needs at least one value")
        if self.op not in (LineOp.CONTAINS, LineOp.NOT_CONTAINS) and any(
            isinstance(value, IP) for value in self.values
        ):
            raise ValueError(f"ip() line filters take |= or !=, not {self.op.value}")


# ---------------------------------------------------------------------------------------
# Label filters.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NumberFilter:
    """``status >= 500``: the label's text read as a float."""

    name: str
    op: CompareOp
    value: float


@dataclass(frozen=True, slots=True)
class DurationFilter:
    """``latency > 250ms``: the label's text read as a Go duration."""

    name: str
    op: CompareOp
    nanoseconds: int


@dataclass(frozen=True, slots=True)
class BytesFilter:
    """``size > 20MB``: the label's text read as a byte size."""

    name: str
    op: CompareOp
    size: int


@dataclass(frozen=True, slots=True)
class IPFilter:
    """``addr = ip("10.0.0.0/8")`` (``op`` is ``=`` or ``!=``)."""

    name: str
    op: MatchOp
    pattern: str

    def __post_init__(self) -> None:
        if self.op not in (MatchOp.EQ, MatchOp.NE):
            raise ValueError(f"ip() label filters take = or !=, not {self.op.value}")


@dataclass(frozen=True, slots=True)
class AndFilter:
    """``a and b``, also written ``a, b`` or ``a b``."""

    left: LabelCondition
    right: LabelCondition


@dataclass(frozen=True, slots=True)
class OrFilter:
    left: LabelCondition
    right: LabelCondition


# ---------------------------------------------------------------------------------------
# Pipeline stages.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelFilter:
    """``| condition``: keeps the entries whose labels satisfy ``condition``."""

    condition: LabelCondition


@dataclass(frozen=True, slots=True)
class Extraction:
    """``label="expression"`` after ``json`` (a JSON path such as ``a.b[0]``) or
    ``logfmt`` (a key); a bare ``label`` is ``label="label"``."""

    label: str
    expression: str


@dataclass(frozen=True, slots=True)
class JsonParser:
    """``| json``: every field (nested keys joined with ``_``), or only ``extractions``."""

    extractions: tuple[Extraction, ...] = ()


@dataclass(frozen=True, slots=True)
class LogfmtParser:
    """``| logfmt [--strict] [--keep-empty] [extractions]``."""

    extractions: tuple[Extraction, ...] = ()
    strict: bool = False
    keep_empty: bool = False


@dataclass(frozen=True, slots=True)
class RegexpParser:
    """``| regexp "(?P<name>...)"``: named groups become labels."""

    regex: str


@dataclass(frozen=True, slots=True)
class PatternParser:
    """``| pattern "<ip> - <_> <method>"``: see :func:`parse_pattern`."""

    pattern: str


@dataclass(frozen=True, slots=True)
class UnpackParser:
    """``| unpack``: labels packed by Promtail's ``pack`` stage; ``_entry`` becomes the line."""


@dataclass(frozen=True, slots=True)
class LineFormat:
    """``| line_format "{{.label}}"``: the line becomes the Go template's output."""

    template: str


@dataclass(frozen=True, slots=True)
class LabelRename:
    """``label=source`` in ``label_format``: renames ``source`` (which is dropped)."""

    label: str
    source: str


@dataclass(frozen=True, slots=True)
class LabelTemplate:
    """``label="{{...}}"`` in ``label_format``: sets ``label`` to the template's output."""

    label: str
    template: str


@dataclass(frozen=True, slots=True)
class LabelFormat:
    """``| label_format a=b, c="{{.d}}"``; each label at most once."""

    items: tuple[LabelRename | LabelTemplate, ...]

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("label_format needs at least one label")


@dataclass(frozen=True, slots=True)
class Drop:
    """``| drop a, b="v"``: drops ``a``, and ``b`` where its value matches."""

    labels: tuple[str | Matcher, ...]


@dataclass(frozen=True, slots=True)
class Keep:
    """``| keep a, b="v"``: keeps only ``a``, and ``b`` where its value matches."""

    labels: tuple[str | Matcher, ...]


@dataclass(frozen=True, slots=True)
class Decolorize:
    """``| decolorize``: strips ANSI colour sequences from the line."""


@dataclass(frozen=True, slots=True)
class LogQuery:
    """``{selector} line_filters stages``.

    ``line_filters`` are the filters written right after the selector, before any other
    stage: they see the line as stored. ``stages`` hold everything from the first other
    stage on (further line filters included), so ``stages`` never starts with one.
    """

    selector: tuple[Matcher, ...]
    line_filters: tuple[LineFilter, ...] = ()
    stages: tuple[Stage, ...] = ()

    def __post_init__(self) -> None:
        if self.stages and isinstance(self.stages[0], LineFilter):
            raise ValueError("leading line filters belong in line_filters, not in stages")


# ---------------------------------------------------------------------------------------
# Metric queries.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unwrap:
    """``| unwrap [conversion(]label[)]`` and the label filters after it (``filters``,
    one per ``|``), which see the sample extracted from each entry."""

    label: str
    conversion: Conversion | None = None
    filters: tuple[LabelCondition, ...] = ()


@dataclass(frozen=True, slots=True)
class LogRange:
    """A log query over a window: ``query [range] offset ...``, with its ``unwrap``."""

    query: LogQuery
    range_ns: int
    offset_ns: int = 0
    unwrap: Unwrap | None = None


@dataclass(frozen=True, slots=True)
class Grouping:
    """``by (labels)`` or ``without (labels)``; ``Grouping()`` is "by nothing"."""

    labels: tuple[str, ...] = ()
    without: bool = False


@dataclass(frozen=True, slots=True)
class RangeAggregation:
    """``function([parameter,] source) [grouping]``. ``parameter`` is the quantile of
    ``quantile_over_time``; ``grouping`` is None when the query has none."""

    function: RangeFunction
    source: LogRange
    parameter: float | None = None
    grouping: Grouping | None = None


@dataclass(frozen=True, slots=True)
class VectorAggregation:
    """``op [grouping] ([parameter,] expr)``. ``parameter`` is the k of ``topk``,
    ``bottomk`` and ``approx_topk``. Without a clause, ``grouping`` is "by nothing"."""

    op: VectorOp
    expr: MetricExpr
    grouping: Grouping = field(default_factory=Grouping)
    parameter: int | None = None


@dataclass(frozen=True, slots=True)
class VectorMatching:
    """``on (labels)`` / ``ignoring (labels)`` and ``group_left|group_right (include)``."""

    on: bool = False
    labels: tuple[str, ...] = ()
    cardinality: Cardinality = Cardinality.ONE_TO_ONE
    include: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BinaryOperation:
    """``left op [bool] [matching] right``; never between two numbers (those fold)."""

    op: BinaryOp
    left: MetricExpr
    right: MetricExpr
    return_bool: bool = False
    matching: VectorMatching | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Number:
    """A number literal, or a folded operation between numbers (which may be NaN or
    infinite). Two NaNs are equal here, so that trees with one compare equal."""

    value: float

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Number):
            return NotImplemented
        both_nan = math.isnan(self.value) and math.isnan(other.value)
        return both_nan or self.value == other.value

    def __hash__(self) -> int:
        return hash(math.inf if math.isnan(self.value) else self.value) ^ 0x5F


@dataclass(frozen=True, slots=True)
class Vector:
    """``vector(1)``: one series without labels, with this value at every step."""

    value: float


@dataclass(frozen=True, slots=True)
class LabelReplace:
    """``label_replace(expr, "destination", "replacement", "source", "regex")``."""

    expr: MetricExpr
    destination: str
    replacement: str
    source: str
    regex: str


LabelCondition: TypeAlias = (
    Matcher | NumberFilter | DurationFilter | BytesFilter | IPFilter | AndFilter | OrFilter
)
Stage: TypeAlias = (
    LineFilter
    | LabelFilter
    | JsonParser
    | LogfmtParser
    | RegexpParser
    | PatternParser
    | UnpackParser
    | LineFormat
    | LabelFormat
    | Drop
    | Keep
    | Decolorize
)
MetricExpr: TypeAlias = (
    RangeAggregation | VectorAggregation | BinaryOperation | LabelReplace | Number | Vector
)
Expr: TypeAlias = LogQuery | MetricExpr
Node: TypeAlias = (
    Expr
    | Stage
    | LabelCondition
    | LabelRename
    | LabelTemplate
    | Extraction
    | LogRange
    | Unwrap
    | Grouping
    | VectorMatching
)
