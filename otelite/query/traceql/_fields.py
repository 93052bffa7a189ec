"""Parsing what goes inside ``{ }``: field expressions, by precedence climbing.

Tempo's precedence, from loosest to tightest::

    ||  &&                          one level, left-associative
    =  !=  <  <=  >  >=  =~  !~     left-associative
    +  -
    *  /  %
    ^                               right-associative

``&&`` and ``||`` share a level in Tempo's grammar, so ``a || b && c`` means
``(a || b) && c``, not what C or SQL would make of it. A prefix ``-`` or ``!`` takes in
everything of ``*``'s level and tighter: ``-a * b`` is ``-(a * b)`` and ``-2 ^ 2`` is
``-(2 ^ 2)``, as in Tempo; ``!a = b`` is ``(!a) = b``.
"""

from __future__ import annotations

from otelite.query.traceql._ast import (
    Attribute,
    Binary,
    Bool,
    Duration,
    Field,
    FieldExpr,
    Float,
    Int,
    IntrinsicField,
    Nil,
    SpansetFilter,
    Static,
    String,
    Unary,
)
from otelite.query.traceql._enums import (
    BinaryOp,
    Intrinsic,
    Kind,
    Status,
    UnaryOp,
)
from otelite.query.traceql._lexer import Token, TokenKind
from otelite.query.traceql._literals import MAX_INT, MIN_INT
from otelite.query.traceql._stream import TokenStream, describe
from otelite.query.traceql._types import (
    FieldType,
    a_or_an,
    binary_problem,
    type_of,
    unary_problem,
)

__all__ = ["LITERAL_WORDS", "PRECEDENCE", "FieldParser", "int_literal"]

PRECEDENCE = {
    "||": 1,
    "&&": 1,
    "=": 2,
    "!=": 2,
    "<": 2,
    "<=": 2,
    ">": 2,
    ">=": 2,
    "=~": 2,
    "!~": 2,
    "+": 3,
    "-": 3,
    "*": 4,
    "/": 4,
    "%": 4,
    "^": 5,
}
# The operand of a prefix `-` or `!` takes in `*`-level operators and tighter: Tempo's
# grammar gives those rules the precedence of `+` and `!`, both below `*`.
_UNARY_OPERAND = 4
_BINARY_OPS = {op.value: op for op in BinaryOp}

_LEGACY_INTRINSICS = {
    "name": Intrinsic.SPAN_NAME,
    "status": Intrinsic.SPAN_STATUS,
    "statusMessage": Intrinsic.SPAN_STATUS_MESSAGE,
    "kind": Intrinsic.SPAN_KIND,
    "duration": Intrinsic.SPAN_DURATION,
    "rootName": Intrinsic.TRACE_ROOT_NAME,
    "rootServiceName": Intrinsic.TRACE_ROOT_SERVICE,
    "traceDuration": Intrinsic.TRACE_DURATION,
    "parent": Intrinsic.PARENT,
    "nestedSetLeft": Intrinsic.NESTED_SET_LEFT,
    "nestedSetRight": Intrinsic.NESTED_SET_RIGHT,
    "nestedSetParent": Intrinsic.NESTED_SET_PARENT,
}
# Intrinsic names Tempo reads only after a scope; a bare one deserves a pointer.
_SCOPED_ONLY = {
    "childCount": "span:childCount",
    "rootService": "trace:rootService",
    "id": "span:id or trace:id",
    "parentID": "span:parentID",
    "traceID": "link:traceID",
    "spanID": "link:spanID",
    "timeSinceStart": "event:timeSinceStart",
    "version": "instrumentation:version",
}
LITERAL_WORDS: dict[str, Static] = {
    "true": Bool(True),
    "false": Bool(False),
    "nil": Nil(),
    "minInt": Int(MIN_INT),
    "maxInt": Int(MAX_INT),
    **{status.value: status for status in Status},
    **{kind.value: kind for kind in Kind},
}


class FieldParser(TokenStream):
    """Spanset filters, field expressions and single fields, on a token stream."""

    def spanset_filter(self) -> SpansetFilter:
        opening = self.expect("{", "to start a spanset filter")
        if self.accept("}"):
            return SpansetFilter()
        start = self.peek()
        condition = self.field_expr()
        if not self.at("}"):
            raise self.error(
                f"expected an operator or `}}` to close the `{{` at {self.where(opening)}, "
                f"found {describe(self.peek())}"
            )
        self.next()
        condition_type = type_of(condition)
        if condition_type not in (FieldType.BOOL, FieldType.ANY):
            raise self.error(
                "a spanset filter needs a condition that is true or false, such as "
                f"{{ span.foo = 1 }}; this one is {a_or_an(condition_type)}",
                start,
            )
        return SpansetFilter(condition)

    def field_expr(self, min_precedence: int = 1) -> FieldExpr:
        left = self.field_unary()
        while True:
            token = self.peek()
            precedence = PRECEDENCE.get(token.text, 0) if token.kind is TokenKind.OP else 0
            if precedence < min_precedence or precedence == 0:
                return left
            self.next()
            right = self.field_expr(precedence if token.text == "^" else precedence + 1)
            op = _BINARY_OPS[token.text]
            problem = binary_problem(op, left, right)
            if problem is not None:
                raise self.error(problem, token)
            left = Binary(op, left, right)

    def field_unary(self) -> FieldExpr:
        if not self.at("!", "-"):
            return self.field_primary()
        token = self.next()
        operand = self.field_expr(_UNARY_OPERAND)
        if token.text == "-":
            match operand:
                case Int(value):
                    return int_literal(-value, self, token)
                case Float(value):
                    return Float(-value)
                case Duration(value):
                    return Duration(-value)
        op = UnaryOp.NEG if token.text == "-" else UnaryOp.NOT
        problem = unary_problem(op, operand)
        if problem is not None:
            raise self.error(problem, token)
        return Unary(op, operand)

    def literal(self, token: Token) -> Static | None:
        """The literal ``token`` is (a string, number, duration or word such as ``true``,
        ``nil``, ``error``), else None."""
        value = token.value
        match token.kind:
            case TokenKind.STRING if isinstance(value, str):
                return String(value)
            case TokenKind.INT if isinstance(value, int):
                return int_literal(value, self, token)
            case TokenKind.FLOAT if isinstance(value, float):
                return Float(value)
            case TokenKind.DURATION if isinstance(value, int):
                return Duration(value)
            case TokenKind.IDENT if token.text in LITERAL_WORDS:
                return LITERAL_WORDS[token.text]
        return None

    def field_primary(self) -> FieldExpr:
        token = self.next()
        if token.kind is TokenKind.OP and token.text == "(":
            inner = self.field_expr()
            self.expect(")", f"to close the `(` at {self.where(token)}")
            return inner
        literal = self.literal(token)
        if literal is not None:
            return literal
        field = self.field_from(token)
        if field is not None:
            return field
        if token.kind is TokenKind.IDENT:
            raise self.error(self.unknown_word(token.text), token)
        raise self.error(f"expected a value, an attribute or `(`, found {describe(token)}", token)

    def field(self) -> Field:
        """One attribute or intrinsic, as ``select()``, ``by()`` and metrics take."""
        token = self.next()
        field = self.field_from(token)
        if field is None:
            raise self.error(
                "expected an attribute such as span.foo or an intrinsic such as span:name, "
                f"found {describe(token)}",
                token,
            )
        return field

    def field_from(self, token: Token) -> Field | None:
        if isinstance(token.value, Attribute):
            return token.value
        if isinstance(token.value, Intrinsic):
            return IntrinsicField(token.value)
        if token.kind is TokenKind.IDENT and token.text in _LEGACY_INTRINSICS:
            return IntrinsicField(_LEGACY_INTRINSICS[token.text])
        return None

    def unknown_word(self, word: str) -> str:
        if word in _SCOPED_ONLY:
            return f"`{word}` needs its scope: {_SCOPED_ONLY[word]}"
        return (
            f"unknown identifier `{word}`: attributes are written span.{word}, "
            f"resource.{word} or .{word}"
        )


def int_literal(value: int, stream: TokenStream, token: Token) -> Int:
    """An :class:`Int`, if ``value`` fits in 64 bits as Go's int must."""
    if not MIN_INT <= value <= MAX_INT:
        raise stream.error(f"integer {value} is out of range for a 64-bit int", token)
    return Int(value)
