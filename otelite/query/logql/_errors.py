"""The one error the LogQL package raises for bad input."""

from __future__ import annotations

from otelite.errors import InvalidRequest

__all__ = ["ParseError", "line_and_column"]


class ParseError(InvalidRequest):
    """A query that is not valid LogQL, with where and why.

    ``line`` and ``column`` are 1-based and count characters; ``excerpt`` is the offending
    line with a caret under the column. ``str(error)`` starts like Loki's message
    (``parse error at line 1, col 14: syntax error: unexpected ...``) so that clients which
    match on it keep working, and continues with the excerpt on the following lines.
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
