"""Syntax tree → canonical LogQL text.

Canonical means: lower-case words, double-quoted strings, ``a="b"`` for matchers and
``a > 5`` for comparisons, ``==`` for numeric equality, one space around binary operators
and after commas, grouping before a vector aggregation's parentheses (``sum by (a) (...)``),
a log range written as query, ``unwrap``, range (``{app="x"}[5m]``,
``{app="x"} | json [5m]``), offset; durations and sizes in the
spelling Loki's lexer reads back (``1h30m``, ``250ms``, ``1KiB``), and parentheses only
where precedence needs them. A folded NaN or infinity is written as an operation that
folds to it again: ``(0 / 0)``, ``(2 ^ 1024)``, ``(-2 ^ 1025)``.

``parse(to_text(expr)) == expr`` holds for every tree the parser builds. One tree it never
builds has no text: ``drop a`` (or ``keep a``) followed by a ``!=`` or ``!~`` line filter,
since Loki's grammar reads ``| drop a != "x"`` as one more matcher of ``drop``.
"""

from __future__ import annotations

import math

from otelite.query.logql._ast import (
    IP,
    AndFilter,
    BinaryOperation,
    BytesFilter,
    Decolorize,
    Drop,
    DurationFilter,
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
from otelite.query.logql._enums import BinaryOp, Cardinality
from otelite.query.logql._literals import (
    format_bytes,
    format_duration,
    format_number,
    format_range,
    quote_string,
)

__all__ = ["to_text"]


def to_text(node: Node) -> str:
    """Canonical LogQL for a query or any part of one."""
    match node:
        case LogQuery():
            return _log_query(node)
        case LogRange():
            return _log_range(node)
        case Unwrap():
            return _unwrap(node).lstrip(" |")
        case Grouping():
            return _grouping(node).lstrip()
        case VectorMatching():
            return _matching(node, right_opens=False)
        case Extraction():
            return _extraction(node)
        case LabelRename() | LabelTemplate():
            return _label_format_item(node)
        case (
            RangeAggregation()
            | VectorAggregation()
            | BinaryOperation()
            | LabelReplace()
            | Number()
            | Vector()
        ):
            return _metric(node)
        case LineFilter():
            return _line_filter(node)
        case Matcher() | NumberFilter() | DurationFilter() | BytesFilter() | IPFilter():
            return _condition(node)
        case AndFilter() | OrFilter():
            return _condition(node)
        case _:
            return _stage(node).removeprefix("| ")


# Log queries ---------------------------------------------------------------------------------


def _log_query(query: LogQuery) -> str:
    parts = ["{" + ", ".join(_matcher(matcher) for matcher in query.selector) + "}"]
    parts.extend(_line_filter(line_filter) for line_filter in query.line_filters)
    parts.extend(_stage(stage) for stage in query.stages)
    return " ".join(parts)


def _matcher(matcher: Matcher) -> str:
    return f"{matcher.name}{matcher.op.value}{quote_string(matcher.value)}"


def _line_filter(line_filter: LineFilter) -> str:
    values = " or ".join(_line_value(value) for value in line_filter.values)
    return f"{line_filter.op.value} {values}"


def _line_value(value: str | IP) -> str:
    return f"ip({quote_string(value.pattern)})" if isinstance(value, IP) else quote_string(value)


def _stage(stage: Stage) -> str:
    match stage:
        case LineFilter():
            return _line_filter(stage)
        case LabelFilter(condition):
            return f"| {_condition(condition)}"
        case JsonParser(extractions):
            return _with_list("| json", [_extraction(item) for item in extractions])
        case LogfmtParser(extractions, strict, keep_empty):
            flags = (" --strict" if strict else "") + (" --keep-empty" if keep_empty else "")
            return _with_list(f"| logfmt{flags}", [_extraction(item) for item in extractions])
        case RegexpParser(regex):
            return f"| regexp {quote_string(regex)}"
        case PatternParser(pattern):
            return f"| pattern {quote_string(pattern)}"
        case UnpackParser():
            return "| unpack"
        case LineFormat(template):
            return f"| line_format {quote_string(template)}"
        case LabelFormat(items):
            return _with_list("| label_format", [_label_format_item(item) for item in items])
        case Drop(labels):
            return _with_list("| drop", [_named(label) for label in labels])
        case Keep(labels):
            return _with_list("| keep", [_named(label) for label in labels])
        case Decolorize():
            return "| decolorize"


def _with_list(head: str, items: list[str]) -> str:
    return f"{head} {', '.join(items)}" if items else head


def _extraction(extraction: Extraction) -> str:
    if extraction.expression == extraction.label:
        return extraction.label
    return f"{extraction.label}={quote_string(extraction.expression)}"


def _label_format_item(item: LabelRename | LabelTemplate) -> str:
    if isinstance(item, LabelRename):
        return f"{item.label}={item.source}"
    return f"{item.label}={quote_string(item.template)}"


def _named(label: str | Matcher) -> str:
    return label if isinstance(label, str) else _matcher(label)


# Label conditions: `and` binds tighter than `or`; both group to the left.


def _condition(condition: LabelCondition, parent: int = 0, *, right: bool = False) -> str:
    match condition:
        case AndFilter(left, right_side) | OrFilter(left, right_side):
            power = 2 if isinstance(condition, AndFilter) else 1
            word = "and" if power == 2 else "or"
            text = f"{_condition(left, power)} {word} {_condition(right_side, power, right=True)}"
            needs_parens = power < parent or (power == parent and right)
            return f"({text})" if needs_parens else text
        case Matcher():
            return _matcher(condition)
        case NumberFilter(name, op, value):
            return f"{name} {op.value} {format_number(value)}"
        case DurationFilter(name, op, nanoseconds):
            return f"{name} {op.value} {format_duration(nanoseconds)}"
        case BytesFilter(name, op, size):
            return f"{name} {op.value} {format_bytes(size)}"
        case IPFilter(name, op, pattern):
            return f"{name}{op.value}ip({quote_string(pattern)})"


# Metric queries -------------------------------------------------------------------------------


def _metric(expr: MetricExpr) -> str:
    match expr:
        case RangeAggregation(function, source, parameter, grouping):
            argument = _log_range(source)
            if parameter is not None:
                argument = f"{format_number(parameter)}, {argument}"
            return f"{function.value}({argument})" + (_grouping(grouping) if grouping else "")
        case VectorAggregation(op, inner, grouping, parameter):
            argument = _metric(inner)
            if parameter is not None:
                argument = f"{parameter}, {argument}"
            clause = _grouping(grouping) if grouping != Grouping() else ""
            return f"{op.value}{clause}{' ' if clause else ''}({argument})"
        case BinaryOperation(op, left, right, return_bool, matching):
            right_text = _operand(right, op, left=False)
            modifiers = " bool" if return_bool else ""
            if matching is not None:
                modifiers += " " + _matching(matching, right_opens=right_text.startswith("("))
            return f"{_operand(left, op, left=True)} {op.value}{modifiers} {right_text}"
        case LabelReplace(inner, destination, replacement, source, regex):
            strings = ", ".join(quote_string(s) for s in (destination, replacement, source, regex))
            return f"label_replace({_metric(inner)}, {strings})"
        case Number(value):
            return _number(value)
        case Vector(value):
            return f"vector({format_number(value)})"


def _number(value: float) -> str:
    if math.isnan(value):
        return "(0 / 0)"
    if math.isinf(value):
        return "(2 ^ 1024)" if value > 0 else "(-2 ^ 1025)"
    return format_number(value)


def _operand(expr: MetricExpr, parent: BinaryOp, *, left: bool) -> str:
    text = _metric(expr)
    if not isinstance(expr, BinaryOperation):
        return text
    child, outer = expr.op.precedence, parent.precedence
    # `^` groups to the right, everything else to the left.
    needs_parens = child < outer or (child == outer and left == (parent is BinaryOp.POW))
    return f"({text})" if needs_parens else text


def _matching(matching: VectorMatching, *, right_opens: bool) -> str:
    text = f"{'on' if matching.on else 'ignoring'} ({', '.join(matching.labels)})"
    if matching.cardinality is not Cardinality.ONE_TO_ONE:
        text += f" {matching.cardinality.value}"
        # A bare group_left before a parenthesis would take it for its label list.
        if matching.include or right_opens:
            text += f" ({', '.join(matching.include)})"
    return text


def _grouping(grouping: Grouping) -> str:
    return f" {'without' if grouping.without else 'by'} ({', '.join(grouping.labels)})"


def _log_range(source: LogRange) -> str:
    text = _log_query(source.query)
    if source.unwrap is not None:
        text += _unwrap(source.unwrap)
    # `{app="x"}[5m]` as people write it; a space after a pipeline, where it reads better.
    bare = not (source.query.line_filters or source.query.stages or source.unwrap)
    text += f"{'' if bare else ' '}[{format_range(source.range_ns)}]"
    if source.offset_ns:
        text += f" offset {format_duration(source.offset_ns)}"
    return text


def _unwrap(unwrap: Unwrap) -> str:
    label = unwrap.label
    if unwrap.conversion is not None:
        label = f"{unwrap.conversion.value}({label})"
    return f" | unwrap {label}" + "".join(f" | {_condition(f)}" for f in unwrap.filters)
