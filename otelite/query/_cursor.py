"""A cursor over a query's tokens: look-ahead, expected tokens, and errors placed at one.

Each language's ``TokenStream`` extends :class:`TokenCursor` with its kind of operator
tokens, its ``ParseError`` and its words for a token that is not there (``expected `)`
to close ..., found ...`` in TraceQL, ``syntax error: unexpected ..., expecting )`` in
LogQL); its parsers extend the stream.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import Enum
from typing import ClassVar, Generic, Protocol, TypeVar

from otelite.query._text import QuerySyntaxError

__all__ = ["Token", "TokenCursor"]


class Token(Protocol):
    """What the cursor needs of a language's tokens."""

    @property
    def kind(self) -> Enum: ...

    @property
    def text(self) -> str: ...

    @property
    def offset(self) -> int: ...


TokenT = TypeVar("TokenT", bound=Token)


class TokenCursor(ABC, Generic[TokenT]):
    """``tokens`` end with an end-of-query token, which the cursor never moves past."""

    operator_kind: ClassVar[Enum]  # the kind of tokens that `at` and `expect` match by text
    error_type: ClassVar[type[QuerySyntaxError]]

    def __init__(self, text: str, tokens: list[TokenT]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0

    def peek(self, ahead: int = 0) -> TokenT:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def next(self) -> TokenT:
        token = self.peek()
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def at(self, *ops: str, ahead: int = 0) -> bool:
        """Whether the next token (or the one ``ahead`` after it) is one of the operators
        or punctuation marks ``ops``."""
        token = self.peek(ahead)
        return token.kind is self.operator_kind and token.text in ops

    def accept(self, op: str) -> TokenT | None:
        return self.next() if self.at(op) else None

    def expect(self, op: str, context: str = "") -> TokenT:
        """Consume ``op`` or fail with the language's words for its absence
        (:meth:`missing`), which ``context`` completes."""
        if not self.at(op):
            raise self.missing(op, context)
        return self.next()

    @abstractmethod
    def missing(self, op: str, context: str) -> QuerySyntaxError:
        """The error for a next token that is not ``op``, in the language's words."""

    def error(self, message: str, token: TokenT | None = None) -> QuerySyntaxError:
        """An error located at ``token``, by default the next one."""
        where = self.peek() if token is None else token
        return self.error_type(message, text=self.text, offset=where.offset)
