"""A cursor over LogQL's tokens, with Loki's names for them in messages."""

from __future__ import annotations

from otelite.query._cursor import TokenCursor
from otelite.query._text import QuerySyntaxError
from otelite.query.logql._errors import ParseError
from otelite.query.logql._lexer import Token, TokenKind, tokenize

__all__ = ["TokenStream", "describe"]

# Loki's yacc names a function token by its upper-cased name, except those that are also
# in its table of plain tokens, and the three conversions.
_FUNCTION_NAMES = {
    "ip": "ip",
    "label_replace": "label_replace",
    "bytes": "BYTES_CONV",
    "duration": "DURATION_CONV",
    "duration_seconds": "DURATION_SECONDS_CONV",
}


def describe(token: Token) -> str:
    """How Loki's messages name a token: ``$end``, ``IDENTIFIER``, ``STRING``, ``RANGE``,
    ``RATE``, a keyword (``by``) or the punctuation itself (``)``)."""
    match token.kind:
        case TokenKind.OP:
            return token.text
        case TokenKind.KEYWORD:
            return str(token.value)
        case TokenKind.FUNCTION:
            return _FUNCTION_NAMES.get(str(token.value), str(token.value).upper())
    return str(token.kind.value)


class TokenStream(TokenCursor[Token]):
    operator_kind = TokenKind.OP
    error_type = ParseError

    def __init__(self, text: str) -> None:
        super().__init__(text, tokenize(text))

    def at_keyword(self, *words: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind is TokenKind.KEYWORD and token.value in words

    def at_kind(self, *kinds: TokenKind, ahead: int = 0) -> bool:
        return self.peek(ahead).kind in kinds

    def missing(self, op: str, context: str) -> QuerySyntaxError:
        """Loki's "syntax error: unexpected X, expecting op", or expecting ``context``
        where Loki names more than ``op``."""
        return self.unexpected(context or op)

    def expect_kind(self, kind: TokenKind, expecting: str | None = None) -> Token:
        if self.peek().kind is not kind:
            raise self.unexpected(expecting or kind.value)
        return self.next()

    def unexpected(
        self, expecting: str | None = None, *, token: Token | None = None, hint: str = ""
    ) -> QuerySyntaxError:
        """Loki's syntax error for ``token`` (by default the next one), with what was
        expected and, where Loki's words would leave a reader guessing, a hint."""
        where = self.peek() if token is None else token
        message = f"syntax error: unexpected {describe(where)}"
        if expecting:
            message += f", expecting {expecting}"
        if hint:
            message += f": {hint}"
        return self.error(message, where)
