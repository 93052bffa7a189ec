"""Random valid syntax trees survive ``to_text`` → ``parse`` unchanged.

The trees respect what the parser guarantees: a selector that selects, patterns Loki
accepts, ``ip()`` only after ``|=`` and ``!=``, the unwrap, parameter and grouping rules
of aggregations, no binary operation between two numbers, label names that are not
keywords, no ``!=`` or ``!~`` line filter right after a ``drop`` or ``keep`` that ends in
a bare name (Loki reads it as one more matcher), and literals the lexer can read back
(ranges in whole milliseconds, sizes below 2**53, quantiles and ``vector()`` arguments
without a sign).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from otelite.query.logql import (
    IP,
    AndFilter,
    BinaryOp,
    BinaryOperation,
    BytesFilter,
    Cardinality,
    CompareOp,
    Conversion,
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
    LineOp,
    LogfmtParser,
    LogQuery,
    LogRange,
    Matcher,
    MatchOp,
    MetricExpr,
    Number,
    NumberFilter,
    OrFilter,
    PatternParser,
    RangeAggregation,
    RangeFunction,
    RegexpParser,
    Stage,
    UnpackParser,
    Unwrap,
    Vector,
    VectorAggregation,
    VectorMatching,
    VectorOp,
    parse,
    to_text,
)

MS = 1_000_000
MAX_DURATION = 2**63 - 1

# Plain names and function names (which are label names when no `(` follows).
names = st.sampled_from(["app", "level", "x", "status_code", "_y", "Rate", "ip", "sum", "bytes"])
texts = st.text(max_size=12)
label_lists = st.lists(names, max_size=3, unique=True).map(tuple)
matchers = st.builds(Matcher, names, st.sampled_from(MatchOp), texts)
selectors = st.builds(
    lambda first, value, rest: (Matcher(first, MatchOp.EQ, value), *rest),
    names,
    texts.filter(bool),
    st.lists(matchers, max_size=2),
)
ips = st.builds(IP, st.sampled_from(["10.0.0.0/8", "::1", "1.2.3.4-1.2.3.9"]))
patterns = st.sampled_from(["<_> error <_>", "", "GET <_>", "<_>"])


@st.composite
def line_filters(draw: st.DrawFn) -> LineFilter:
    op = draw(st.sampled_from(LineOp))
    if op in (LineOp.PATTERN, LineOp.NOT_PATTERN):
        values: st.SearchStrategy[str | IP] = patterns
    elif op in (LineOp.CONTAINS, LineOp.NOT_CONTAINS):
        values = st.one_of(texts, ips)
    else:
        values = texts
    return LineFilter(op, tuple(draw(st.lists(values, min_size=1, max_size=3))))


leaf_conditions = st.one_of(
    matchers,
    st.builds(
        NumberFilter,
        names,
        st.sampled_from(CompareOp),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    st.builds(
        DurationFilter,
        names,
        st.sampled_from(CompareOp),
        st.integers(-MAX_DURATION, MAX_DURATION),
    ),
    st.builds(BytesFilter, names, st.sampled_from(CompareOp), st.integers(0, 2**53)),
    st.builds(IPFilter, names, st.sampled_from([MatchOp.EQ, MatchOp.NE]), texts),
)
conditions: st.SearchStrategy[LabelCondition] = st.recursive(
    leaf_conditions,
    lambda inner: st.one_of(st.builds(AndFilter, inner, inner), st.builds(OrFilter, inner, inner)),
    max_leaves=5,
)
extractions = st.lists(st.builds(Extraction, names, st.one_of(names, texts)), max_size=3).map(tuple)


@st.composite
def label_formats(draw: st.DrawFn) -> LabelFormat:
    labels = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    items: list[LabelRename | LabelTemplate] = []
    for label in labels:
        if draw(st.booleans()):
            items.append(LabelRename(label, draw(names)))
        else:
            items.append(LabelTemplate(label, draw(texts)))
    return LabelFormat(tuple(items))


named_labels = st.lists(st.one_of(names, matchers), min_size=1, max_size=3).map(tuple)
stages: st.SearchStrategy[Stage] = st.one_of(
    line_filters(),
    st.builds(LabelFilter, conditions),
    st.builds(JsonParser, extractions),
    st.builds(LogfmtParser, extractions, st.booleans(), st.booleans()),
    st.builds(RegexpParser, texts),
    st.builds(PatternParser, st.sampled_from(["<ip> <_> <method>", "<a> - <b>"])),
    st.just(UnpackParser()),
    st.builds(LineFormat, texts),
    label_formats(),
    st.builds(Drop, named_labels),
    st.builds(Keep, named_labels),
    st.just(Decolorize()),
)


@st.composite
def log_queries(draw: st.DrawFn) -> LogQuery:
    leading = tuple(draw(st.lists(line_filters(), max_size=2)))
    rest = draw(st.lists(stages, max_size=3))
    while rest and isinstance(rest[0], LineFilter):
        rest.pop(0)
    # `| drop a != "x"` reads as one more matcher of drop, never as drop and a line filter.
    kept = rest[:1]
    for stage in rest[1:]:
        previous = kept[-1]
        if not (
            isinstance(previous, Drop | Keep)
            and isinstance(previous.labels[-1], str)
            and isinstance(stage, LineFilter)
            and stage.op in (LineOp.NOT_CONTAINS, LineOp.NOT_MATCHES)
        ):
            kept.append(stage)
    rest = kept
    return LogQuery(draw(selectors), leading, tuple(rest))


groupings = st.builds(Grouping, label_lists, st.booleans())
_WITHOUT_UNWRAP = [
    RangeFunction.COUNT_OVER_TIME,
    RangeFunction.RATE,
    RangeFunction.BYTES_OVER_TIME,
    RangeFunction.BYTES_RATE,
    RangeFunction.ABSENT_OVER_TIME,
]
_WITH_UNWRAP = [
    function
    for function in RangeFunction
    if function
    not in (RangeFunction.COUNT_OVER_TIME, RangeFunction.BYTES_OVER_TIME, RangeFunction.BYTES_RATE)
]
_GROUPABLE = {
    RangeFunction.AVG_OVER_TIME,
    RangeFunction.STDDEV_OVER_TIME,
    RangeFunction.STDVAR_OVER_TIME,
    RangeFunction.QUANTILE_OVER_TIME,
    RangeFunction.MAX_OVER_TIME,
    RangeFunction.MIN_OVER_TIME,
    RangeFunction.FIRST_OVER_TIME,
    RangeFunction.LAST_OVER_TIME,
}


@st.composite
def range_aggregations(draw: st.DrawFn) -> RangeAggregation:
    unwrap = None
    if draw(st.booleans()):
        function = draw(st.sampled_from(_WITHOUT_UNWRAP))
    else:
        function = draw(st.sampled_from(_WITH_UNWRAP))
        conversion = draw(st.one_of(st.none(), st.sampled_from(Conversion)))
        unwrap = Unwrap(draw(names), conversion, tuple(draw(st.lists(conditions, max_size=2))))
    source = LogRange(
        draw(log_queries()),
        draw(st.integers(0, MAX_DURATION // MS)) * MS,
        draw(st.integers(-MAX_DURATION, MAX_DURATION)),
        unwrap,
    )
    parameter = None
    if function is RangeFunction.QUANTILE_OVER_TIME:
        parameter = draw(st.floats(min_value=0, allow_infinity=False))
    grouping = draw(st.one_of(st.none(), groupings)) if function in _GROUPABLE else None
    return RangeAggregation(function, source, parameter, grouping)


def vector_aggregations(inner: st.SearchStrategy[MetricExpr]) -> st.SearchStrategy[MetricExpr]:
    @st.composite
    def build(draw: st.DrawFn) -> VectorAggregation:
        op = draw(st.sampled_from(VectorOp))
        parameter = None
        if op in (VectorOp.TOPK, VectorOp.BOTTOMK, VectorOp.APPROX_TOPK):
            parameter = draw(st.integers(1, MAX_DURATION))
        grouping = draw(groupings)
        if op is VectorOp.APPROX_TOPK:
            grouping = Grouping()
        elif op in (VectorOp.SORT, VectorOp.SORT_DESC):
            grouping = Grouping((), grouping.without)
        return VectorAggregation(op, draw(inner), grouping, parameter)

    return build()


def binary_operations(inner: st.SearchStrategy[MetricExpr]) -> st.SearchStrategy[MetricExpr]:
    @st.composite
    def build(draw: st.DrawFn) -> MetricExpr:
        op = draw(st.sampled_from(BinaryOp))
        left, right = draw(inner), draw(inner)
        numbers = isinstance(left, Number), isinstance(right, Number)
        if all(numbers) or (op.is_set and any(numbers)):
            return left
        matching = None
        if not any(numbers) and draw(st.booleans()):
            cardinality = Cardinality.ONE_TO_ONE
            if not op.is_set:
                cardinality = draw(st.sampled_from(Cardinality))
            include = draw(label_lists) if cardinality is not Cardinality.ONE_TO_ONE else ()
            matching = VectorMatching(draw(st.booleans()), draw(label_lists), cardinality, include)
        return_bool = op.is_comparison and draw(st.booleans())
        return BinaryOperation(op, left, right, return_bool, matching)

    return build()


numbers = st.builds(Number, st.floats(allow_nan=True, allow_infinity=True))
metric_leaves = st.one_of(
    range_aggregations(),
    numbers,
    st.builds(Vector, st.floats(min_value=0, allow_infinity=False)),
)
metrics: st.SearchStrategy[MetricExpr] = st.recursive(
    metric_leaves,
    lambda inner: st.one_of(
        vector_aggregations(inner),
        binary_operations(inner),
        st.builds(LabelReplace, inner, texts, texts, texts, texts),
    ),
    max_leaves=4,
)
expressions: st.SearchStrategy[Expr] = st.one_of(log_queries(), metrics)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_trees_survive_text(tree: Expr) -> None:
    text = to_text(tree)
    assert parse(text) == tree, text
