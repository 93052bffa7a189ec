"""A cursor over a query's characters, which each language's lexer extends.

TraceQL's and LogQL's lexers both follow Go's ``text/scanner``: they look ahead a
character or two, take the longest operator from a table, and refuse a character that
starts no token in the same words. Each lexer adds its own token rules, its operator
table and its ``ParseError``.
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from otelite.query._text import QuerySyntaxError

__all__ = ["BLANK", "Scanner", "is_digit"]

BLANK = frozenset(" \t\r\n")  # Go's scanner skips exactly these between tokens

TokenT = TypeVar("TokenT")


class Scanner(Generic[TokenT]):
    """``pos`` is the offset of the next character; ``tokens`` what has been read."""

    error_type: ClassVar[type[QuerySyntaxError]]
    operators: ClassVar[tuple[str, ...]]  # longest first, so that `!=` wins over `!`

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[TokenT] = []

    def error(self, message: str, offset: int) -> QuerySyntaxError:
        return self.error_type(message, text=self.text, offset=offset)

    def peek(self, ahead: int = 0) -> str:
        """The character ``ahead`` after the next one; ``""`` past the end."""
        index = self.pos + ahead
        return self.text[index] if index < len(self.text) else ""

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
