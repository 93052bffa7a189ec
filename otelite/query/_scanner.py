"""A cursor over a query's characters, which each language's lexer extends.

TraceQL's and LogQL's lexers both follow Go's ``text/scanner``: they skip the same
blanks, look ahead a character or two, take the longest operator from a table, and
refuse a character that starts no token in the same words. Each lexer adds its own token
rules (:meth:`Scanner.token`), its operator table and its ``ParseError``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar

from otelite.query._text import QuerySyntaxError

__all__ = ["Scanner", "is_digit"]

_BLANK = frozenset(" \t\r\n")  # Go's scanner skips exactly these between tokens

TokenT = TypeVar("TokenT")


class Scanner(ABC, Generic[TokenT]):
    """``pos`` is the offset of the next character; ``tokens`` what has been read."""

    error_type: ClassVar[type[QuerySyntaxError]]
    operators: ClassVar[tuple[str, ...]]  # longest first, so that `!=` wins over `!`

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[TokenT] = []

    def run(self) -> list[TokenT]:
        """All tokens of the text, the last one the end of query."""
        while True:
            self.skip()
            if self.pos >= len(self.text):
                self.tokens.append(self.end())
                return self.tokens
            self.token()

    @abstractmethod
    def token(self) -> None:
        """Read the token at ``pos``, which is not the end of the text."""

    @abstractmethod
    def end(self) -> TokenT:
        """The end-of-query token, at ``pos``."""

    def skip(self) -> None:
        """Step over the blanks Go's scanner skips between tokens; a language with
        comments skips those too."""
        while self.peek() and self.peek() in _BLANK:
            self.pos += 1

    def error(self, message: str, offset: int) -> QuerySyntaxError:
        return self.error_type(message, text=self.text, offset=offset)

    def peek(self, ahead: int = 0) -> str:
        """The character ``ahead`` after the next one; ``""`` past the end."""
        index = self.pos + ahead
        return self.text[index] if index < len(self.text) else ""

    def read_word(self) -> str:
        """Step over the word at ``pos`` (letters, digits and ``_``) and give it."""
        start = self.pos
        while self.peek() and (self.peek().isalnum() or self.peek() == "_"):
            self.pos += 1
        return self.text[start : self.pos]

    def operator(self) -> int:
        """The length of the operator at ``pos``; raises for a character that starts no
        token."""
        for op in self.operators:
            if self.text.startswith(op, self.pos):
                return len(op)
        if self.peek() == "'":
            raise self.error("strings take double quotes or backticks, not '", self.pos)
        raise self.error(f"unexpected character {self.peek()!r}", self.pos)


def is_digit(ch: str) -> bool:
    """Whether ``ch`` is an ASCII digit (``str.isdigit`` takes others too)."""
    return ch != "" and ch in "0123456789"
