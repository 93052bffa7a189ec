"""Parsing whole queries: metric expressions around log queries.

The grammar, loosest first (log queries are :mod:`._pipeline`'s business)::

    query     := expr
    expr      := operand { binary-op [ "bool" ] [ matching ] operand }   by precedence
    matching  := ( "on" | "ignoring" ) "(" labels ")" [ ( "group_left" | "group_right" )
                 [ "(" labels ")" ] ]
    operand   := log-query | "(" expr ")" | [ "+" | "-" ] NUMBER | "vector" "(" NUMBER ")"
               | range-fn "(" [ NUMBER "," ] log-range ")" [ grouping ]
               | vector-op [ grouping ] "(" [ NUMBER "," ] expr ")" [ grouping ]
               | "label_replace" "(" expr "," STRING "," STRING "," STRING "," STRING ")"
    log-range := selector [ pipeline ] [ unwrap ] RANGE [ "offset" DURATION ]
               | selector RANGE [ "offset" DURATION ] [ pipeline ] [ unwrap ]
               | "(" selector [ pipeline ] [ unwrap ] ")" RANGE [ offset ] | "(" log-range ")"
    grouping  := ( "by" | "without" ) "(" labels ")"

Loki's precedence, loosest first: ``or``; ``and`` ``unless``; comparisons; ``+`` ``-``;
``*`` ``/`` ``%``; ``^`` (the only one that groups to the right). The checks Loki makes
after parsing are made here too, where the fault is: which range aggregations take
``unwrap``, a parameter or a grouping, what ``topk`` counts, at least one stream matcher
that does not match the empty value, no log query as an operand.
"""

from __future__ import annotations

import difflib

from otelite.query.logql._ast import (
    BinaryOperation,
    Expr,
    Grouping,
    LabelReplace,
    LogQuery,
    LogRange,
    MetricExpr,
    Number,
    RangeAggregation,
    Unwrap,
    Vector,
    VectorAggregation,
    VectorMatching,
)
from otelite.query.logql._enums import BinaryOp, Cardinality, RangeFunction, VectorOp
from otelite.query.logql._errors import ParseError
from otelite.query.logql._fold import fold
from otelite.query.logql._lexer import FUNCTIONS, Token, TokenKind
from otelite.query.logql._literals import parse_integer
from otelite.query.logql._pipeline import PipelineParser

__all__ = ["MAX_QUERY_BYTES", "parse"]

MAX_QUERY_BYTES = 131072  # Loki's limit: a longer query is refused before parsing

_BINARY_OPS = {op.value: op for op in BinaryOp}
_RANGE_FUNCTIONS = {function.value: function for function in RangeFunction}
_VECTOR_OPS = {op.value: op for op in VectorOp}
_K_OPS = (VectorOp.TOPK, VectorOp.BOTTOMK, VectorOp.APPROX_TOPK)

# Loki's rules for range aggregations (RangeAggregationExpr.validate).
_GROUPABLE = frozenset(
    (
        RangeFunction.AVG_OVER_TIME,
        RangeFunction.STDDEV_OVER_TIME,
        RangeFunction.STDVAR_OVER_TIME,
        RangeFunction.QUANTILE_OVER_TIME,
        RangeFunction.MAX_OVER_TIME,
        RangeFunction.MIN_OVER_TIME,
        RangeFunction.FIRST_OVER_TIME,
        RangeFunction.LAST_OVER_TIME,
    )
)
_WITHOUT_UNWRAP = frozenset(
    (
        RangeFunction.BYTES_OVER_TIME,
        RangeFunction.BYTES_RATE,
        RangeFunction.COUNT_OVER_TIME,
        RangeFunction.RATE,
        RangeFunction.ABSENT_OVER_TIME,
    )
)
_WITH_UNWRAP = (frozenset(RangeFunction) - _WITHOUT_UNWRAP) | {
    RangeFunction.RATE,
    RangeFunction.ABSENT_OVER_TIME,
}
_RANGE_EXAMPLE = 'count_over_time({app="x"}[5m])'


def parse(text: str) -> Expr:
    """Parse a LogQL query; raises :class:`ParseError` with the position at fault."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size >= MAX_QUERY_BYTES:
        raise ParseError(f"input size too long ({size} > {MAX_QUERY_BYTES})", text=text, offset=0)
    parser = _Parser(text)
    try:
        expr = parser.expr()
    except RecursionError:
        # Loki's parser keeps its stack on the heap; Python's is limited, and a query of
        # MAX_QUERY_BYTES can nest deeper than it allows.
        raise parser.error("syntax error: the query is nested too deeply") from None
    if not parser.at_kind(TokenKind.EOF):
        hint = ""
        if parser.at_kind(TokenKind.RANGE):
            hint = f"a range belongs inside a range aggregation, such as {_RANGE_EXAMPLE}"
        raise parser.unexpected(hint=hint)
    return expr


class _Parser(PipelineParser):
    def expr(self, min_precedence: int = 1) -> Expr:
        left = self.operand()
        while True:
            op_token = self.peek()
            op = _binary_op(op_token)
            if op is None or op.precedence < min_precedence:
                return left
            self.next()
            return_bool, matching = self.modifiers(op)
            right = self.expr(op.precedence + (0 if op is BinaryOp.POW else 1))
            left = self.combine(op_token, op, left, right, return_bool, matching)

    def modifiers(self, op: BinaryOp) -> tuple[bool, VectorMatching | None]:
        return_bool = False
        if self.at_keyword("bool"):
            if not op.is_comparison:
                raise self.error("bool modifier can only be used on comparison operators")
            self.next()
            return_bool = True
        if not self.at_keyword("on", "ignoring"):
            return return_bool, None
        on = self.next().value == "on"
        self.expect("(")
        labels = self.labels()
        cardinality = Cardinality.ONE_TO_ONE
        include: tuple[str, ...] = ()
        if self.at_keyword("group_left", "group_right"):
            if op.is_set:
                raise self.error(f'no grouping allowed for "{op.value}" operation')
            cardinality = Cardinality(self.next().value)
            if self.accept("("):
                include = self.labels()
        return return_bool, VectorMatching(on, labels, cardinality, include)

    def combine(
        self,
        op_token: Token,
        op: BinaryOp,
        left: Expr,
        right: Expr,
        return_bool: bool,
        matching: VectorMatching | None,
    ) -> MetricExpr:
        for side, leg in (("left", left), ("right", right)):
            if isinstance(leg, LogQuery):
                raise self.error(
                    f"unexpected log query for {side} leg of binary operation ({op.value}): "
                    f"only metric queries and numbers combine, such as {_RANGE_EXAMPLE}",
                    op_token,
                )
        assert not isinstance(left, LogQuery) and not isinstance(right, LogQuery)
        for side, leg in (("left", left), ("right", right)):
            if op.is_set and isinstance(leg, Number):
                raise self.error(
                    f"unexpected literal for {side} leg of logical/set binary operation "
                    f"({op.value}): {leg.value:f}",
                    op_token,
                )
        if matching is not None and (isinstance(left, Number) or isinstance(right, Number)):
            raise self.error("vector matching only allowed between instant vectors", op_token)
        if isinstance(left, Number) and isinstance(right, Number):
            return Number(fold(op, left.value, right.value))
        return BinaryOperation(op, left, right, return_bool, matching)

    def operand(self) -> Expr:
        token = self.peek()
        if self.at("{"):
            return self.log_query(in_range=False)
        if self.accept("("):
            inner = self.expr()
            self.expect(")")
            return inner
        if token.kind is TokenKind.NUMBER or (
            self.at("+", "-") and self.at_kind(TokenKind.NUMBER, ahead=1)
        ):
            return Number(self.signed_number("NUMBER"))
        if token.kind is TokenKind.FUNCTION:
            name = str(token.value)
            if name in _RANGE_FUNCTIONS:
                return self.range_aggregation()
            if name in _VECTOR_OPS:
                return self.vector_aggregation()
            if name == "label_replace":
                return self.label_replace()
            if name == "vector":
                return self.vector()
        if token.kind is TokenKind.IDENT and self.at("(", ahead=1):
            raise self.unexpected(hint=_unknown_function(token.text))
        raise self.unexpected()

    def metric_operand(self, where: str) -> MetricExpr:
        """An expression that must be a metric query, as inside ``sum(...)``."""
        inner = self.expr()
        if isinstance(inner, LogQuery):
            if self.at_kind(TokenKind.RANGE):
                raise self.unexpected(
                    hint=f"a range belongs inside a range aggregation, such as {_RANGE_EXAMPLE}"
                )
            raise self.unexpected(
                hint=f"{where} takes a metric query, such as {_RANGE_EXAMPLE}, not a log query"
            )
        return inner

    # Range aggregations ---------------------------------------------------------------------

    def range_aggregation(self) -> RangeAggregation:
        name = self.next()
        function = _RANGE_FUNCTIONS[str(name.value)]
        self.expect("(")
        parameter: float | None = None
        if self.at_kind(TokenKind.NUMBER):
            number = self.next()
            if function is not RangeFunction.QUANTILE_OVER_TIME:
                raise self.error(
                    f"parameter {number.text} not supported for operation {function.value}",
                    number,
                )
            parameter = self.number_value(
                number, f"invalid parameter for operation {function.value}"
            )
            self.expect(",")
        if not self.at("{", "("):
            raise self.unexpected("NUMBER or { or (")
        if parameter is None and function is RangeFunction.QUANTILE_OVER_TIME:
            raise self.error("parameter required for operation quantile_over_time", name)
        source, unwrap_token = self.log_range()
        self.expect(")")
        grouping_token = self.peek()
        grouping = self.grouping() if self.at_keyword("by", "without") else None
        if grouping is not None and function not in _GROUPABLE:
            raise self.error(
                f"grouping not allowed for {function.value} aggregation", grouping_token
            )
        if unwrap_token is not None and function not in _WITH_UNWRAP:
            raise self.error(f"invalid aggregation {function.value} with unwrap", unwrap_token)
        if unwrap_token is None and function not in _WITHOUT_UNWRAP:
            raise self.error(
                f"invalid aggregation {function.value} without unwrap",
                name,
            )
        return RangeAggregation(function, source, parameter, grouping)

    def log_range(self) -> tuple[LogRange, Token | None]:
        """The source of a range aggregation, and the ``unwrap`` keyword if it has one."""
        if self.accept("("):
            if self.at("("):
                inner = self.log_range()
                self.expect(")")
                return inner
            query = self.log_query(in_range=True)
            unwrap_token, unwrap = self.optional_unwrap()
            if self.at_kind(TokenKind.RANGE):
                inner = self.range_after(query, unwrap_token, unwrap)
                self.expect(")")
                return inner
            self.expect(")", "RANGE or )")
            range_ns, offset_ns = self.range_and_offset()
            if query.line_filters or query.stages or unwrap is not None:
                return LogRange(query, range_ns, offset_ns, unwrap), unwrap_token
            unwrap_token, unwrap = self.optional_unwrap()
            return LogRange(query, range_ns, offset_ns, unwrap), unwrap_token
        query = self.log_query(in_range=True)
        unwrap_token, unwrap = self.optional_unwrap()
        return self.range_after(query, unwrap_token, unwrap)

    def range_after(
        self, query: LogQuery, unwrap_token: Token | None, unwrap: Unwrap | None
    ) -> tuple[LogRange, Token | None]:
        """``[range] [offset]``, and the pipeline and unwrap after them if none came before."""
        range_ns, offset_ns = self.range_and_offset()
        if not (query.line_filters or query.stages or unwrap is not None):
            query = self.pipeline(query.selector, in_range=True)
            unwrap_token, unwrap = self.optional_unwrap()
        return LogRange(query, range_ns, offset_ns, unwrap), unwrap_token

    def range_and_offset(self) -> tuple[int, int]:
        if not self.at_kind(TokenKind.RANGE):
            raise self.unexpected("a range such as [5m]")
        range_ns = int(self.next().value)
        if not self.at_keyword("offset"):
            return range_ns, 0
        self.next()
        return range_ns, int(self.expect_kind(TokenKind.DURATION).value)

    def optional_unwrap(self) -> tuple[Token | None, Unwrap | None]:
        if self.at("|") and self.at_keyword("unwrap", ahead=1):
            token = self.peek(1)
            return token, self.unwrap()
        return None, None

    # Vector aggregations and functions ------------------------------------------------------

    def vector_aggregation(self) -> VectorAggregation:
        name = self.next()
        op = _VECTOR_OPS[str(name.value)]
        grouping_token = self.peek()
        grouping = self.grouping() if self.at_keyword("by", "without") else None
        self.expect("(")
        parameter_token: Token | None = None
        if self.at_kind(TokenKind.NUMBER) and self.at(",", ahead=1):
            parameter_token = self.next()
            self.next()
        inner = self.metric_operand(f"{op.value}()")
        self.expect(")")
        if grouping is None and self.at_keyword("by", "without"):
            grouping_token = self.peek()
            grouping = self.grouping()
        parameter = self.vector_parameter(name, op, parameter_token)
        if op is VectorOp.APPROX_TOPK and grouping is not None:
            raise self.error("grouping not allowed for approx_topk aggregation", grouping_token)
        if op in (VectorOp.SORT, VectorOp.SORT_DESC) and grouping and grouping.labels:
            raise self.error("sort and sort_desc don't allow grouping by labels", grouping_token)
        return VectorAggregation(op, inner, grouping or Grouping(), parameter)

    def vector_parameter(self, name: Token, op: VectorOp, token: Token | None) -> int | None:
        if op not in _K_OPS:
            if token is not None:
                raise self.error(f"unsupported parameter for operation {op.value}", token)
            return None
        if token is None:
            raise self.error(f"parameter required for operation {op.value}", name)
        value = parse_integer(str(token.value))
        if value is None:
            raise self.error(
                f"invalid parameter for operation {op.value}: {token.text} is not an integer",
                token,
            )
        if value <= 0:
            raise self.error(
                f"invalid parameter for operation {op.value}: {token.text} "
                "(must be greater than 0)",
                token,
            )
        return value

    def label_replace(self) -> LabelReplace:
        self.next()
        self.expect("(")
        inner = self.metric_operand("label_replace()")
        strings: list[str] = []
        for _ in range(4):
            self.expect(",")
            strings.append(str(self.expect_kind(TokenKind.STRING).value))
        self.expect(")")
        return LabelReplace(inner, *strings)

    def vector(self) -> Vector:
        self.next()
        self.expect("(")
        number = self.expect_kind(TokenKind.NUMBER)
        self.expect(")")
        return Vector(self.number_value(number, "unable to parse vectorExpr as a float"))

    def grouping(self) -> Grouping:
        without = self.next().value == "without"
        self.expect("(")
        return Grouping(self.labels(), without)

    def labels(self) -> tuple[str, ...]:
        """``a, b)`` after an opening parenthesis, up to and including the closing one."""
        if self.accept(")"):
            return ()
        labels = [self.expect_kind(TokenKind.IDENT, "IDENTIFIER or )").text]
        while self.accept(","):
            labels.append(self.expect_kind(TokenKind.IDENT).text)
        self.expect(")", ", or )")
        return tuple(labels)


def _binary_op(token: Token) -> BinaryOp | None:
    if token.kind is TokenKind.OP or (
        token.kind is TokenKind.KEYWORD and token.value in ("or", "and", "unless")
    ):
        return _BINARY_OPS.get(str(token.value) if token.kind is TokenKind.KEYWORD else token.text)
    return None


def _unknown_function(name: str) -> str:
    close = difflib.get_close_matches(name.lower(), sorted(FUNCTIONS), n=1)
    suggestion = f" (did you mean {close[0]}?)" if close else ""
    return f"{name}() is not a LogQL function{suggestion}"
