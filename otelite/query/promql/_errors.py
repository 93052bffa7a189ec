"""Where a PromQL expression stops parsing.

promql-parser says why an expression is invalid but not where. Most of its reasons name
something a scan of the text finds: an opening bracket or quote that is never closed, a
closing one that opens nothing, an unknown function's name, a malformed duration, a bad
regular expression. Its plainest reason, "invalid promql query", names nothing: then the
place is the first token after which no likely continuation parses (or the end, when the
text stops short), found by parsing the text's prefixes. ``ParseError`` carries the place
as Prometheus writes it (``1:14: parse error: unclosed left parenthesis``) and an excerpt
with a caret; a reason whose place is not found keeps its words alone.
"""

from __future__ import annotations

import re

import promql_parser as pp

from otelite.errors import InvalidRequest

__all__ = ["ParseError", "parse_error"]

_PAIRS = {")": "(", "]": "[", "}": "{"}
_OPENERS = {"(": "parenthesis", "[": "bracket", "{": "brace"}
_CLOSERS = {opener: closer for closer, opener in _PAIRS.items()}


class ParseError(InvalidRequest):
    """An expression that is not valid PromQL; ``line`` and ``column`` are 1-based (None
    when the reason names no place)."""

    def __init__(self, message: str, *, text: str, offset: int | None) -> None:
        self.message = message
        self.line: int | None = None
        self.column: int | None = None
        self.excerpt = ""
        if offset is None:
            super().__init__(f"parse error: {message}")
            return
        offset = max(0, min(offset, len(text)))
        line_start = text.rfind("\n", 0, offset) + 1
        line_end = text.find("\n", offset)
        self.line = text.count("\n", 0, offset) + 1
        self.column = offset - line_start + 1
        line_text = text[line_start : len(text) if line_end < 0 else line_end]
        self.excerpt = f"{line_text}\n{' ' * (offset - line_start)}^"
        super().__init__(f"{self.line}:{self.column}: parse error: {message}\n{self.excerpt}")


def parse_error(text: str, message: str) -> ParseError:
    """The error for ``text``, which the parser refused with ``message``."""
    offset = _place(text, message)
    if offset is None and message == _UNPLACED:
        offset, message = _first_unexpected(text)
    return ParseError(message, text=text, offset=offset)


_UNPLACED = "invalid promql query"
_TOKEN = re.compile(
    r"""\s*("(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|`[^`]*`?|[A-Za-z_:][\w:]*|[\d.][\w.+-]*"""
    r"""|[=!<>]=|=~|!~|\S)"""
)
# What may follow a prefix cut after an operator, a keyword, a modifier, a number or a
# label name.
_COMPLETIONS = ("", " x", " 1", "m", " (a)", " (x)", " (a) (x)", " 5m", '="b"', '"b"')
_SYNTAX_ERRORS = (
    _UNPLACED,
    "unexpected",
    "unclosed",
    "unterminated",
    "bad number",
    "bad duration",
    "unknown function",
    "illegal",
)
_LONGEST_SEARCHED = 4096  # longer texts keep the parser's words alone


def _first_unexpected(text: str) -> tuple[int | None, str]:
    """Where the parser's plain "invalid promql query" went wrong: the first token after
    which nothing can follow that parses, and the words Prometheus would use for it;
    the end of the input when every prefix could go on."""
    if len(text) > _LONGEST_SEARCHED:
        return None, _UNPLACED
    for token in _TOKEN.finditer(text):
        if not _could_go_on(text[: token.end()]):
            return token.start(1), f"unexpected {token.group(1)!r}"
    return len(text), "unexpected end of input"


def _could_go_on(prefix: str) -> bool:
    """Whether some text after ``prefix`` makes it parse: a few likely continuations,
    each before or after the quotes and brackets left open are closed."""
    for more in _COMPLETIONS:
        for candidate in (_closed(prefix + more), _closed(prefix) + more):
            try:
                pp.parse(candidate)
            except ValueError as error:
                if str(error).startswith(_SYNTAX_ERRORS):
                    continue
            return True  # it parses, or fails only a check of types or arguments
    return False


def _closed(text: str) -> str:
    """``text`` with its open string and brackets closed."""
    unclosed, _, quote = _scan(text)
    if quote is not None:
        text += text[quote]
        unclosed, _, _ = _scan(text)
    return text + "".join(_CLOSERS[opener] for _, opener in reversed(unclosed))


def _place(text: str, message: str) -> int | None:
    unclosed, unopened, quote = _scan(text)
    if "unterminated quoted string" in message and quote is not None:
        return quote
    if message.startswith("unexpected right") and unopened is not None:
        return unopened
    for opener, word in _OPENERS.items():
        if f"unclosed left {word}" in message:
            found = [at for at, ch in unclosed if ch == opener]
            return found[-1] if found else len(text)
    if message.startswith("unexpected end of input"):
        return len(text)
    named = re.search(r"unknown function with name '([^']*)'", message)
    if named is not None:
        return _find(text, rf"\b{re.escape(named.group(1))}\s*\(")
    for pattern in (r"bad number or duration syntax: (\S+)", r"illegal regex for (.+)"):
        bad = re.search(pattern, message)
        if bad is not None:
            return _find(text, re.escape(bad.group(1)))
    return None


def _find(text: str, pattern: str) -> int | None:
    found = re.search(pattern, text)
    return None if found is None else found.start()


def _scan(text: str) -> tuple[list[tuple[int, str]], int | None, int | None]:
    """The brackets left open (offset, character), the first closing one that opens
    nothing, and the quote of a string left open."""
    stack: list[tuple[int, str]] = []
    unopened: int | None = None
    at = 0
    while at < len(text):
        ch = text[at]
        if ch in "\"'`":
            end = _string_end(text, at)
            if end is None:
                return stack, unopened, at
            at = end + 1
            continue
        if ch == "#":  # a comment runs to the end of the line
            newline = text.find("\n", at)
            at = len(text) if newline < 0 else newline + 1
            continue
        if ch in _OPENERS:
            stack.append((at, ch))
        elif ch in _PAIRS:
            if stack and stack[-1][1] == _PAIRS[ch]:
                stack.pop()
            elif unopened is None:
                unopened = at
        at += 1
    return stack, unopened, None


def _string_end(text: str, start: int) -> int | None:
    """The offset of the quote that closes the string opened at ``start``."""
    quote = text[start]
    at = start + 1
    while at < len(text):
        if text[at] == "\\" and quote != "`":
            at += 2
            continue
        if text[at] == quote:
            return at
        at += 1
    return None
