"""A cursor over TraceQL's tokens, with Tempo-style words for what is missing."""

from __future__ import annotations

from otelite.query._cursor import TokenCursor
from otelite.query._text import QuerySyntaxError, line_and_column
from otelite.query.traceql._errors import ParseError
from otelite.query.traceql._lexer import Token, TokenKind, tokenize

__all__ = ["TokenStream", "describe"]


def describe(token: Token) -> str:
    """How a message names a token: ``end of query`` or the token's text in backticks."""
    return "end of query" if token.kind is TokenKind.EOF else f"`{token.text}`"


class TokenStream(TokenCursor[Token]):
    operator_kind = TokenKind.OP
    error_type = ParseError

    def __init__(self, text: str) -> None:
        super().__init__(text, tokenize(text))

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token.kind is TokenKind.IDENT and token.text in words

    def missing(self, op: str, context: str) -> QuerySyntaxError:
        """ "expected `op` <context>, found ...", where ``context`` says what ``op`` is for."""
        return self.error(f"expected `{op}` {context}, found {describe(self.peek())}")

    def where(self, token: Token) -> str:
        """``line 1, col 5``: where ``token`` starts, for messages that point back."""
        line, column = line_and_column(self.text, token.offset)
        return f"line {line}, col {column}"
