"""Places in a query's text, and the error that points at one.

TraceQL and LogQL report a bad query the same way: the 1-based line and column of the
fault, counted in characters, and an excerpt (the offending line with a caret under the
column). Each language names its own ``ParseError`` as a subclass of
:class:`QuerySyntaxError`, so that a caller catches one language's errors by name.
"""

from __future__ import annotations

from otelite.errors import InvalidRequest

__all__ = ["QuerySyntaxError", "line_and_column"]


class QuerySyntaxError(InvalidRequest):
    """A query text that does not parse, with where and why.

    ``line`` and ``column`` are 1-based and count characters; ``excerpt`` is the offending
    line with a caret under the column. ``str(error)`` starts as Tempo's and Loki's
    messages do (``parse error at line 1, col 7: ...``) so that clients which match on it
    keep working, and continues with the excerpt on the following lines.
    """

    def __init__(self, message: str, *, text: str, offset: int) -> None:
        offset = max(0, min(offset, len(text)))
        self.message = message
        self.line, self.column = line_and_column(text, offset)
        line_start = offset - self.column + 1
        line_end = text.find("\n", offset)
        line_text = text[line_start : len(text) if line_end < 0 else line_end]
        # Tabs are copied into the caret line so that the caret stays under the column
        # whatever the reader's tab width.
        padding = "".join("\t" if ch == "\t" else " " for ch in line_text[: offset - line_start])
        self.excerpt = f"{line_text}\n{padding}^"
        super().__init__(
            f"parse error at line {self.line}, col {self.column}: {message}\n{self.excerpt}"
        )


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column (in characters) of ``offset`` in ``text``."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1
