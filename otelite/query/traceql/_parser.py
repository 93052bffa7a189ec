"""Parsing whole queries: pipelines, scalar filters, metrics and hints.

The grammar, loosest first (``{ ... }`` is :mod:`._fields`'s business)::

    query     := pipeline [ "with" "(" hint { "," hint } ")" ]
    pipeline  := outer { "|" ( outer | metrics-function | "topk(n)" | "bottomk(n)" ) }
    outer     := operand { operator operand }    by precedence; see _combine for meaning
    operand   := "{" ... "}" | "(" pipeline ")" | number | "-" operand
               | count() | avg|min|max|sum "(" field-expr ")"
               | by "(" field-expr ")" | select "(" fields ")" | coalesce "(" ")"

After a metrics function come only comparisons with a number (``> 10``) and
``| topk(n)`` / ``| bottomk(n)``, each possibly followed by more comparisons.

Where Tempo's LALR grammar refuses a combination whose meaning is plain, this parser
accepts it rather than grow special cases: a parenthesised pipeline may sit next to a
bare spanset (``({ .a } | { .b }) && { .c }``), a stage may be a parenthesised pipeline
(spliced into the outer one), and second stages may follow any parenthesised metrics
expression. Everything Tempo accepts parses here to the tree Tempo builds.
"""

from __future__ import annotations

from otelite.query.traceql._ast import (
    Aggregate,
    BottomK,
    Coalesce,
    Compare,
    Duration,
    Field,
    Float,
    GroupBy,
    Hint,
    Int,
    MetricsAggregate,
    MetricsMath,
    MetricsQuery,
    Nil,
    Pipeline,
    Query,
    ScalarPipeline,
    SelectStage,
    Stage,
    Static,
    TopK,
)
from otelite.query.traceql._combine import CombineError, Outer, Shape, add_stage, combine, shape
from otelite.query.traceql._enums import (
    AggregateFunction,
    MetricsFunction,
)
from otelite.query.traceql._fields import (
    LITERAL_WORDS,
    PRECEDENCE,
    FieldParser,
    int_literal,
)
from otelite.query.traceql._lexer import KEYWORDS, Token, TokenKind
from otelite.query.traceql._stream import describe
from otelite.query.traceql._types import FieldType, a_or_an, references_span, type_of

__all__ = ["parse", "parse_field"]

_SPANSET_ONLY = (">>", "<<", "~", "!>", "!<", "!>>", "!<<", "&>", "&>>", "&<", "&<<", "&~")
_OUTER_PRECEDENCE = PRECEDENCE | dict.fromkeys(_SPANSET_ONLY, 2)
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
_AGGREGATES = {function.value: function for function in AggregateFunction}
_METRICS_FUNCTIONS = {function.value: function for function in MetricsFunction}
_NUMERIC_OR_ANY = (FieldType.ANY, FieldType.INT, FieldType.FLOAT, FieldType.DURATION)


def parse(text: str) -> Query:
    """Parse a TraceQL query; raises :class:`ParseError` with the position at fault."""
    return _Parser(text).query()


def parse_field(text: str) -> Field:
    """Parse one attribute or intrinsic name (``resource.service.name``, ``.foo``,
    ``span:name``, ``duration``), as Tempo's tag APIs take them."""
    parser = _Parser(text)
    field = parser.field()
    if parser.peek().kind is not TokenKind.EOF:
        raise parser.error(f"expected the end of the field name, found {describe(parser.peek())}")
    return field


class _Parser(FieldParser):
    def query(self) -> Query:
        start = self.peek()
        body = self.root(self.pipeline(nested=False), start)
        hints = self.hints() if self.at_word("with") else ()
        if self.peek().kind is not TokenKind.EOF:
            raise self.error(f"expected the end of the query, found {describe(self.peek())}")
        return Query(body, hints)

    def root(self, value: Outer, start: Token) -> Pipeline | MetricsQuery | MetricsMath:
        match shape(value):
            case Shape.METRICS:
                assert isinstance(value, MetricsQuery | MetricsMath)
                return value
            case Shape.SPANSET | Shape.FILTER | Shape.STAGE | Shape.PIPELINE_FILTER:
                return Pipeline(self.first_stages(value, start))
            case Shape.CONSTANT:
                raise self.error("a query starts with a spanset filter such as { }", start)
            case _:
                raise self.error(
                    "expected a comparison such as `> 2` after the aggregate, "
                    f"found {describe(self.peek())}"
                )

    def first_stages(self, value: Outer, start: Token) -> tuple[Stage, ...]:
        if isinstance(value, Coalesce):
            raise self.error("a pipeline cannot start with coalesce()", start)
        return _stages_of(value)

    def pipeline(self, *, nested: bool) -> Outer:
        start = self.peek()
        first = self.outer_expr()
        if not self.at("|"):
            return first
        metrics: MetricsQuery | MetricsMath | None = None
        stages: list[Stage] = []
        if isinstance(first, MetricsQuery | MetricsMath):
            metrics = first
        elif shape(first) in (Shape.SPANSET, Shape.FILTER, Shape.STAGE):
            stages.extend(self.first_stages(first, start))
        elif shape(first) is Shape.PIPELINE_FILTER:
            raise self.error("a comparison of parenthesised pipelines must be the whole query")
        else:
            raise self.error(f"expected a comparison such as `> 2` after {shape(first).value}")
        while self.at("|"):
            bar = self.next()
            if metrics is not None:
                metrics = self.second_stage(metrics)
            elif self.at_word(*_METRICS_FUNCTIONS, "compare"):
                query = MetricsQuery(Pipeline(tuple(stages)), self.metrics_function())
                metrics = self.metrics_filters(query)
            elif self.at_word("topk", "bottomk"):
                raise self.error(
                    f"{self.peek().text}() follows a metrics function, such as "
                    f"{{ }} | rate() | {self.peek().text}(10)"
                )
            else:
                element_start = self.peek()
                element = self.outer_expr(after=bar)
                if shape(element) in (Shape.SPANSET, Shape.FILTER, Shape.STAGE):
                    stages.extend(_stages_of(element))
                elif isinstance(element, Aggregate) and nested and self.at(")"):
                    return ScalarPipeline(Pipeline(tuple(stages)), element)
                elif shape(element) in (Shape.SCALAR, Shape.CONSTANT):
                    raise self.error(
                        "expected a comparison such as `> 2` after the aggregate, "
                        f"found {describe(self.peek())}"
                    )
                else:
                    raise self.error(
                        f"a pipeline stage after `|` cannot be {shape(element).value}",
                        element_start,
                    )
        if metrics is None:
            return Pipeline(tuple(stages))
        if self.at("+", "-", "*", "/", "%", "^"):
            raise self.error(
                "metrics arithmetic needs each query in parentheses, such as ({ } | rate()) * 2"
            )
        return metrics

    def outer_expr(self, min_precedence: int = 1, *, after: Token | None = None) -> Outer:
        """An expression outside braces; ``after`` is the token before it, for messages."""
        left = self.outer_operand(after)
        while True:
            token = self.peek()
            precedence = _OUTER_PRECEDENCE.get(token.text, 0) if token.kind is TokenKind.OP else 0
            if precedence < min_precedence or precedence == 0:
                return left
            self.next()
            right = self.outer_expr(
                precedence if token.text == "^" else precedence + 1, after=token
            )
            try:
                left = combine(token.text, left, right)
            except CombineError as error:
                raise self.error(error.message, token) from None

    def outer_operand(self, after: Token | None) -> Outer:
        token = self.peek()
        value = token.value
        if self.at("{"):
            return self.spanset_filter()
        if self.at("("):
            return self.parenthesised()
        if self.at("-"):
            self.next()
            match self.outer_operand(token):
                case Int(number):
                    return int_literal(-number, self, token)
                case Float(number):
                    return Float(-number)
                case Duration(number):
                    return Duration(-number)
            raise self.error("`-` outside braces applies only to numbers and durations", token)
        if token.kind is TokenKind.INT and isinstance(value, int):
            self.next()
            return int_literal(value, self, token)
        if token.kind is TokenKind.FLOAT and isinstance(value, float):
            self.next()
            return Float(value)
        if token.kind is TokenKind.DURATION and isinstance(value, int):
            self.next()
            return Duration(value)
        if token.text in _AGGREGATES and token.kind is TokenKind.IDENT:
            return self.aggregate()
        if self.at_word("by"):
            return self.group_by()
        if self.at_word("select"):
            return self.select()
        if self.at_word("coalesce"):
            self.next()
            self.expect("(", "after `coalesce`")
            self.expect(")", "after `coalesce(`: coalesce() takes no argument")
            return Coalesce()
        raise self.error(self.misplaced(token, after))

    def misplaced(self, token: Token, after: Token | None) -> str:
        word = token.text if token.kind is TokenKind.IDENT else ""
        if word in _METRICS_FUNCTIONS or word == "compare":
            return f"{word}() follows a spanset pipeline and `|`, such as {{ }} | {word}()"
        if word in ("topk", "bottomk"):
            return f"{word}() follows a metrics function, such as {{ }} | rate() | {word}(10)"
        if token.kind in (TokenKind.STRING, TokenKind.ATTRIBUTE, TokenKind.INTRINSIC) or (
            word in LITERAL_WORDS or self.field_from(token) is not None
        ):
            return f"{describe(token)} can only be used inside a spanset filter {{ ... }}"
        if after is None or after.text == "|":
            wanted = "a spanset filter such as { }, `(` or a pipeline stage"
        elif after.text in (">", "<"):
            wanted = "a spanset filter, a number, an aggregate or `(`"
        elif after.text in _SPANSET_ONLY or after.text in ("&&", "||"):
            wanted = "a spanset filter such as { } or `(`"
        else:
            wanted = "a number, an aggregate or `(`"
        where = "" if after is None else f" after `{after.text}`"
        return f"expected {wanted}{where}, found {describe(token)}"

    def parenthesised(self) -> Outer:
        opening = self.next()
        start = self.peek()
        inner = self.pipeline(nested=True)
        self.expect(")", f"to close the `(` at {self.where(opening)}")
        match shape(inner):
            case Shape.FILTER | Shape.STAGE:
                return Pipeline(self.first_stages(inner, start))
            case Shape.PIPELINE_FILTER:
                raise self.error(
                    "a comparison of parenthesised pipelines must be the whole query", opening
                )
        return inner

    def aggregate(self) -> Aggregate:
        name = self.next()
        function = _AGGREGATES[name.text]
        self.expect("(", f"after `{name.text}`")
        if function is AggregateFunction.COUNT:
            self.expect(")", "after `count(`: count() takes no argument")
            return Aggregate(function)
        if self.at(")"):
            raise self.error(f"{name.text}() needs a field, such as {name.text}(span:duration)")
        start = self.peek()
        field = self.field_expr()
        field_type = type_of(field)
        if field_type not in _NUMERIC_OR_ANY:
            raise self.error(f"{name.text}() needs a number, not {a_or_an(field_type)}", start)
        if not references_span(field):
            raise self.error(
                f"{name.text}() needs a field of the span, such as {name.text}(span:duration)",
                start,
            )
        self.expect(")", f"to close `{name.text}(`")
        return Aggregate(function, field)

    def group_by(self) -> GroupBy:
        self.next()
        self.expect("(", "after `by`")
        start = self.peek()
        if self.at(")"):
            raise self.error("by() needs a field, such as by(resource.service.name)")
        expr = self.field_expr()
        if self.at(","):
            raise self.error("by() takes exactly one field expression")
        if not references_span(expr):
            raise self.error("by() needs a field of the span, such as by(span.foo)", start)
        self.expect(")", "to close `by(`")
        return GroupBy(expr)

    def select(self) -> SelectStage:
        self.next()
        self.expect("(", "after `select`")
        return SelectStage(self.field_list("select"))

    def field_list(self, function: str) -> tuple[Field, ...]:
        if self.at(")"):
            raise self.error(f"{function}() needs at least one field, such as span.foo")
        fields = [self.field()]
        while self.accept(","):
            fields.append(self.field())
        self.expect(")", f"or `,` in `{function}(`")
        return tuple(fields)

    def metrics_function(self) -> MetricsAggregate | Compare:
        name = self.next()
        self.expect("(", f"after `{name.text}`")
        if name.text == "compare":
            return self.compare()
        function = _METRICS_FUNCTIONS[name.text]
        field: Field | None = None
        quantiles: list[float] = []
        if function not in (MetricsFunction.RATE, MetricsFunction.COUNT_OVER_TIME):
            field = self.field()
            if function is MetricsFunction.QUANTILE_OVER_TIME:
                self.expect(",", "and a quantile, such as quantile_over_time(span:duration, 0.9)")
                quantiles.append(self.number())
                while self.accept(","):
                    quantiles.append(self.number())
        self.expect(")", f"to close `{name.text}(`")
        by: tuple[Field, ...] = ()
        if self.at_word("by"):
            self.next()
            self.expect("(", "after `by`")
            by = self.field_list("by")
        return MetricsAggregate(function, field, tuple(quantiles), by)

    def compare(self) -> Compare:
        selection = self.spanset_filter()
        numbers: list[int] = []
        while self.accept(","):
            numbers.append(self.integer("compare()"))
        if len(numbers) not in (0, 1, 3):
            raise self.error("compare() takes a spanset filter, then top_n or top_n, start, end")
        self.expect(")", "to close `compare(`")
        return Compare(selection, *numbers)

    def number(self) -> float:
        token = self.next()
        if isinstance(token.value, int | float) and token.kind in (TokenKind.INT, TokenKind.FLOAT):
            return float(token.value)
        raise self.error(f"expected a number such as 0.99, found {describe(token)}", token)

    def integer(self, where: str) -> int:
        token = self.next()
        if token.kind is not TokenKind.INT or not isinstance(token.value, int):
            raise self.error(f"{where} takes integers, found {describe(token)}", token)
        return int_literal(token.value, self, token).value

    def second_stage(self, metrics: MetricsQuery | MetricsMath) -> MetricsQuery | MetricsMath:
        name = self.peek()
        if not self.at_word("topk", "bottomk"):
            raise self.error(
                f"only topk() or bottomk() can follow a metrics query, found {describe(name)}"
            )
        self.next()
        self.expect("(", f"after `{name.text}`")
        limit = self.peek()
        value = self.integer(f"{name.text}()")
        if value <= 0:
            raise self.error(f"{name.text}() needs a limit above 0, such as {name.text}(10)", limit)
        self.expect(")", f"to close `{name.text}(`")
        stage = TopK(value) if name.text == "topk" else BottomK(value)
        try:
            return self.metrics_filters(add_stage(metrics, stage))
        except CombineError as error:
            raise self.error(error.message, name) from None

    def metrics_filters(self, metrics: MetricsQuery | MetricsMath) -> MetricsQuery | MetricsMath:
        while self.at(*_COMPARISONS):
            token = self.next()
            value = self.outer_expr(_OUTER_PRECEDENCE[token.text] + 1, after=token)
            try:
                combined = combine(token.text, metrics, value)
            except CombineError as error:
                raise self.error(error.message, token) from None
            assert isinstance(combined, MetricsQuery | MetricsMath)
            metrics = combined
        return metrics

    def hints(self) -> tuple[Hint, ...]:
        self.next()
        self.expect("(", "after `with`")
        hints = [self.hint()]
        while self.accept(","):
            hints.append(self.hint())
        self.expect(")", "or `,` in `with(`")
        return tuple(hints)

    def hint(self) -> Hint:
        name = self.next()
        if name.kind is not TokenKind.IDENT or name.text in KEYWORDS:
            raise self.error(f"expected a hint name such as sample, found {describe(name)}", name)
        self.expect("=", f"after the hint name `{name.text}`")
        return Hint(name.text, self.hint_value())

    def hint_value(self) -> Static:
        token = self.next()
        literal = self.literal(token)
        if literal is not None and not isinstance(literal, Nil):
            return literal
        raise self.error(
            f'a hint value is a literal such as true, 0.1, 10s or "text", found {describe(token)}',
            token,
        )


def _stages_of(element: Outer) -> tuple[Stage, ...]:
    if isinstance(element, Pipeline):
        return element.stages
    assert isinstance(element, Stage)
    return (element,)
