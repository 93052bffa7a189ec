"""A cursor over tokens with the look-ahead and error helpers the parsers share."""

from __future__ import annotations

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

    def at(self, *ops: str, ahead: int = 0) -> bool:
        """Whether the next token (or the one ``ahead`` after it) is one of the operators
        or punctuation marks ``ops``."""
        token = self.peek(ahead)
        return token.kind is TokenKind.OP and token.text in ops

    def at_keyword(self, *words: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind is TokenKind.KEYWORD and token.value in words

    def at_kind(self, *kinds: TokenKind, ahead: int = 0) -> bool:
        return self.peek(ahead).kind in kinds

    def accept(self, op: str) -> Token | None:
        return self.next() if self.at(op) else None

    def expect(self, op: str, expecting: str | None = None) -> Token:
        """Consume ``op`` or fail with Loki's "syntax error: unexpected X, expecting op"."""
        if not self.at(op):
            raise self.unexpected(expecting or op)
        return self.next()

    def expect_kind(self, kind: TokenKind, expecting: str | None = None) -> Token:
        if self.peek().kind is not kind:
            raise self.unexpected(expecting or kind.value)
        return self.next()

    def unexpected(
        self, expecting: str | None = None, *, token: Token | None = None, hint: str = ""
    ) -> ParseError:
        """Loki's syntax error for ``token`` (by default the next one), with what was
        expected and, where Loki's words would leave a reader guessing, a hint."""
        where = self.peek() if token is None else token
        message = f"syntax error: unexpected {describe(where)}"
        if expecting:
            message += f", expecting {expecting}"
        if hint:
            message += f": {hint}"
        return self.error(message, where)

    def error(self, message: str, token: Token | None = None) -> ParseError:
        """An error located at ``token``, by default the next one."""
        where = self.peek() if token is None else token
        return ParseError(message, text=self.text, offset=where.offset)
