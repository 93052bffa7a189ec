"""The one error LogQL's template language raises, and Go's wording for it."""

from __future__ import annotations

from otelite.query.logql._errors import ParseError

__all__ = ["TemplateError", "compile_error", "execution_error"]


class TemplateError(ParseError):
    """A template that does not compile, or that failed while formatting a line.

    ``message`` is Go's ``text/template`` error as Loki reports it (``template: line:1:
    unexpected "}" in operand``; ``template: line:1:9: executing "line" at <now>: wrong
    number of args for now: want 0 got 1``), which Loki puts in ``__error_details__``.
    ``line``, ``column`` and ``excerpt`` say where, as for any :class:`ParseError`.
    ``str(error)`` is the message, followed for a template that does not compile by the
    excerpt; ``executing`` tells the two apart.
    """

    def __init__(self, message: str, *, text: str, offset: int, executing: bool) -> None:
        super().__init__(message, text=text, offset=offset)
        self.executing = executing
        # Go's words rather than ParseError's "parse error at ...": Loki reports these so.
        self.args = (message if executing else f"{message}\n{self.excerpt}",)


def compile_error(text: str, name: str, offset: int, reason: str) -> TemplateError:
    """Go's parse error: ``template: NAME:LINE: REASON``."""
    line = text.count("\n", 0, offset) + 1
    return TemplateError(
        f"template: {name}:{line}: {reason}", text=text, offset=offset, executing=False
    )


def execution_error(text: str, name: str, pos: int, end: int, reason: str) -> TemplateError:
    """Go's execution error: ``template: NAME:LINE:COL: executing "NAME" at <NODE>:
    REASON``, where COL counts bytes from 0 and NODE is the text of the failing node."""
    line = text.count("\n", 0, pos) + 1
    line_start = text.rfind("\n", 0, pos) + 1
    column = len(text[line_start:pos].encode("utf-8", "surrogatepass"))
    context = " ".join(text[pos:end].split())
    return TemplateError(
        f'template: {name}:{line}:{column}: executing "{name}" at <{context}>: {reason}',
        text=text,
        offset=pos,
        executing=True,
    )
