"""A cursor over tokens with the look-ahead and error helpers both parsers share."""

from __future__ import annotations

from otelite.query._text import line_and_column
from otelite.query.traceql._errors import ParseError
from otelite.query.traceql._lexer import Token, TokenKind, tokenize

__all__ = ["TokenStream", "describe"]


def describe(token: Token) -> str:
    """How a message names a token: ``end of query`` or the token's text in backticks."""
    return "end of query" if token.kind is TokenKind.EOF else f"`{token.text}`"


class TokenStream:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.peek()
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def at(self, *ops: str) -> bool:
        """Whether the next token is one of the operators or punctuation marks ``ops``."""
        token = self.peek()
        return token.kind is TokenKind.OP and token.text in ops

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token.kind is TokenKind.IDENT and token.text in words

    def accept(self, op: str) -> Token | None:
        return self.next() if self.at(op) else None

    def expect(self, op: str, purpose: str) -> Token:
        """Consume ``op`` or fail with "expected `op` <purpose>, found ..."."""
        if not self.at(op):
            raise self.error(f"expected `{op}` {purpose}, found {describe(self.peek())}")
        return self.next()

    def where(self, token: Token) -> str:
        """``line 1, col 5``: where ``token`` starts, for messages that point back."""
        line, column = line_and_column(self.text, token.offset)
        return f"line {line}, col {column}"

    def error(self, message: str, token: Token | None = None) -> ParseError:
        """An error located at ``token``, by default the next one."""
        where = self.peek() if token is None else token
        return ParseError(message, text=self.text, offset=where.offset)
