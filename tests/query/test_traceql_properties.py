"""Random well-typed syntax trees survive ``to_text`` → ``parse`` unchanged.

The trees respect what the parser guarantees: a minus before a number is part of the
number, numbers are never combined with each other outside braces, a pipeline never
holds a pipeline directly, and hints take non-negative literals.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from otelite.query.traceql import (
    Aggregate,
    AggregateFunction,
    Attribute,
    Binary,
    BinaryOp,
    Bool,
    BottomK,
    Coalesce,
    Compare,
    Duration,
    Field,
    FieldExpr,
    Float,
    GroupBy,
    Hint,
    Int,
    Intrinsic,
    IntrinsicField,
    Kind,
    MetricsAggregate,
    MetricsExpr,
    MetricsFilter,
    MetricsFunction,
    MetricsMath,
    MetricsQuery,
    Nil,
    Pipeline,
    Query,
    ScalarBinary,
    ScalarExpr,
    ScalarFilter,
    Scope,
    SecondStage,
    SelectStage,
    SpansetExpr,
    SpansetFilter,
    SpansetOp,
    SpansetOperation,
    Stage,
    Status,
    String,
    TopK,
    Unary,
    UnaryOp,
    parse,
    to_text,
)

MAX_INT = 2**63 - 1
COMPARISONS = [BinaryOp.EQ, BinaryOp.NE, BinaryOp.LT, BinaryOp.LE, BinaryOp.GT, BinaryOp.GE]
ARITHMETIC = [BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.MOD, BinaryOp.POW]
NUMERIC_INTRINSICS = [
    Intrinsic.SPAN_DURATION,
    Intrinsic.TRACE_DURATION,
    Intrinsic.EVENT_TIME_SINCE_START,
    Intrinsic.SPAN_CHILD_COUNT,
    Intrinsic.NESTED_SET_LEFT,
]
STRING_INTRINSICS = [
    Intrinsic.SPAN_NAME,
    Intrinsic.SPAN_STATUS_MESSAGE,
    Intrinsic.TRACE_ID,
    Intrinsic.TRACE_ROOT_SERVICE,
    Intrinsic.LINK_SPAN_ID,
    Intrinsic.INSTRUMENTATION_VERSION,
]

names = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=6) | st.sampled_from(
    ["http.method", "service.name", "a+b", "span.x", "1st", "x y", 'q"uote', "back\\slash"]
)


@st.composite
def attributes(draw: st.DrawFn) -> Attribute:
    parent = draw(st.booleans()) and draw(st.booleans())
    scopes = [Scope.SPAN, Scope.RESOURCE, Scope.UNSCOPED]
    scope = draw(st.sampled_from(scopes if parent else list(Scope)))
    return Attribute(scope, draw(names), parent)


def intrinsics(which: list[Intrinsic]) -> st.SearchStrategy[IntrinsicField]:
    return st.sampled_from(which).map(IntrinsicField)


ints = st.integers(-MAX_INT - 1, MAX_INT).map(Int)
floats = st.floats(allow_nan=False, allow_infinity=False).map(Float)
durations = st.integers(-MAX_INT, MAX_INT).map(Duration)
fields: st.SearchStrategy[Field] = attributes() | st.sampled_from(list(Intrinsic)).map(
    IntrinsicField
)


def numeric(depth: int) -> st.SearchStrategy[FieldExpr]:
    leaves = ints | floats | durations | intrinsics(NUMERIC_INTRINSICS) | attributes()
    if depth == 0:
        return leaves
    inner = numeric(depth - 1)
    return (
        leaves
        | st.builds(Binary, st.sampled_from(ARITHMETIC), inner, inner)
        # A minus before a literal number is folded into it, so only other operands.
        | st.builds(Unary, st.just(UnaryOp.NEG), inner).filter(
            lambda unary: not isinstance(unary.operand, Int | Float | Duration)
        )
    )


def strings() -> st.SearchStrategy[FieldExpr]:
    return st.text().map(String) | intrinsics(STRING_INTRINSICS) | attributes()


def boolean(depth: int) -> st.SearchStrategy[FieldExpr]:
    comparisons = (
        st.builds(Binary, st.sampled_from(COMPARISONS), numeric(1), numeric(1))
        | st.builds(Binary, st.sampled_from(COMPARISONS), strings(), strings())
        | st.builds(
            Binary,
            st.sampled_from([BinaryOp.REGEX, BinaryOp.NOT_REGEX]),
            strings(),
            st.text().map(String),
        )
        | st.builds(
            Binary,
            st.sampled_from([BinaryOp.EQ, BinaryOp.NE]),
            st.just(IntrinsicField(Intrinsic.SPAN_STATUS)),
            st.sampled_from(list(Status)),
        )
        | st.builds(
            Binary,
            st.sampled_from([BinaryOp.EQ, BinaryOp.NE]),
            st.sampled_from(list(Kind)),
            st.just(IntrinsicField(Intrinsic.SPAN_KIND)),
        )
        | st.builds(Binary, st.just(BinaryOp.NE), attributes(), st.just(Nil()))
        # Tempo refuses `resource.service.name = nil`: every span has one.
        | st.builds(Binary, st.just(BinaryOp.EQ), attributes(), st.just(Nil())).filter(
            lambda binary: binary.left != Attribute(Scope.RESOURCE, "service.name")
        )
    )
    leaves = st.booleans().map(Bool) | attributes() | comparisons
    if depth == 0:
        return leaves
    inner = boolean(depth - 1)
    return (
        leaves
        | st.builds(Binary, st.sampled_from([BinaryOp.AND, BinaryOp.OR]), inner, inner)
        | st.builds(Unary, st.just(UnaryOp.NOT), inner)
    )


filters = st.none() | boolean(2)
spanset_filters = filters.map(SpansetFilter)
constants = ints | floats | durations
aggregates = st.just(Aggregate(AggregateFunction.COUNT)) | st.builds(
    Aggregate,
    st.sampled_from([f for f in AggregateFunction if f is not AggregateFunction.COUNT]),
    intrinsics(NUMERIC_INTRINSICS) | attributes(),
)


def scalars(depth: int) -> st.SearchStrategy[ScalarExpr]:
    if depth == 0:
        return aggregates
    inner = scalars(depth - 1)
    return aggregates | st.one_of(
        st.builds(ScalarBinary, st.sampled_from(ARITHMETIC), inner, inner | constants),
        st.builds(ScalarBinary, st.sampled_from(ARITHMETIC), constants, inner),
    )


scalar_filters = st.one_of(
    st.builds(ScalarFilter, st.sampled_from(COMPARISONS), scalars(2), scalars(1) | constants),
    st.builds(ScalarFilter, st.sampled_from(COMPARISONS), constants, scalars(1)),
)
stages: st.SearchStrategy[Stage] = st.one_of(
    scalar_filters,
    st.builds(
        GroupBy, fields | st.builds(Binary, st.sampled_from(ARITHMETIC), attributes(), numeric(1))
    ),
    st.just(Coalesce()),
    st.lists(fields, min_size=1, max_size=3).map(tuple).map(SelectStage),
)


def spansets(depth: int) -> st.SearchStrategy[SpansetExpr]:
    if depth == 0:
        return spanset_filters
    inner = spansets(depth - 1)
    operand = inner | pipelines(depth - 1).filter(_can_be_an_operand)
    return spanset_filters | st.builds(
        SpansetOperation, st.sampled_from(list(SpansetOp)), operand, operand
    )


def _can_be_an_operand(pipeline: Pipeline) -> bool:
    # `({ .a })` reads back as `{ .a }`: a single spanset needs no pipeline.
    return len(pipeline.stages) > 1 or not isinstance(pipeline.stages[0], SpansetExpr)


@st.composite
def pipelines(draw: st.DrawFn, depth: int = 2) -> Pipeline:
    first = draw(spanset_filters if depth == 0 else spansets(depth) | scalar_filters)
    rest = draw(st.lists(spanset_filters | stages, max_size=3))
    return Pipeline((first, *rest))


second_stages: st.SearchStrategy[SecondStage] = st.one_of(
    st.integers(1, 1000).map(TopK),
    st.integers(1, 1000).map(BottomK),
    st.builds(MetricsFilter, st.sampled_from(COMPARISONS), constants),
)


@st.composite
def metrics_functions(draw: st.DrawFn) -> MetricsAggregate | Compare:
    function = draw(st.sampled_from([*MetricsFunction, None]))
    if function is None:
        numbers = draw(st.sampled_from([(), (5,), (5, 100, 200)]))
        return Compare(draw(spanset_filters), *numbers)
    field = (
        None
        if function in (MetricsFunction.RATE, MetricsFunction.COUNT_OVER_TIME)
        else draw(fields)
    )
    quantiles: tuple[float, ...] = ()
    if function is MetricsFunction.QUANTILE_OVER_TIME:
        quantiles = tuple(draw(st.lists(st.floats(0, 1), min_size=1, max_size=3)))
    by = tuple(draw(st.lists(fields, max_size=2)))
    return MetricsAggregate(function, field, tuple(abs(q) for q in quantiles), by)


@st.composite
def metrics_queries(draw: st.DrawFn) -> MetricsQuery:
    function = draw(metrics_functions())
    later = (
        () if isinstance(function, Compare) else tuple(draw(st.lists(second_stages, max_size=3)))
    )
    return MetricsQuery(draw(pipelines(1)), function, later)


def metrics(depth: int) -> st.SearchStrategy[MetricsExpr]:
    queries = metrics_queries().filter(lambda query: not isinstance(query.function, Compare))
    if depth == 0:
        return queries
    inner = metrics(depth - 1)
    operators = st.sampled_from([BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV])
    later = st.lists(second_stages, max_size=2).map(tuple)
    return queries | st.one_of(
        st.builds(MetricsMath, operators, inner, inner | ints | floats, later),
        st.builds(MetricsMath, operators, ints | floats, inner, later),
    )


hint_values = st.one_of(
    st.text().map(String),
    st.integers(0, MAX_INT).map(Int),
    st.floats(0, 1e9).map(lambda f: Float(abs(f))),
    st.integers(0, MAX_INT).map(Duration),
    st.booleans().map(Bool),
    st.sampled_from([*Status, *Kind]),
)
hints = st.lists(
    st.builds(
        Hint, st.sampled_from(["sample", "most_recent", "exemplars", "job_size"]), hint_values
    ),
    max_size=2,
).map(tuple)
queries = st.builds(Query, pipelines() | metrics_queries() | metrics(2), hints)


@settings(max_examples=300, deadline=None)
@given(queries)
def test_to_text_then_parse_gives_the_same_tree(query: Query) -> None:
    text = to_text(query)
    assert parse(text) == query, text


@settings(max_examples=300, deadline=None)
@given(st.builds(SpansetFilter, boolean(3)))
def test_field_expressions_round_trip(spanset: SpansetFilter) -> None:
    query = Query(Pipeline((spanset,)))
    assert parse(to_text(query)) == query, to_text(query)
