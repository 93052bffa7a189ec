"""LogQL text → tokens, following the rules of Loki's lexer (Go's ``text/scanner`` plus
LogQL's own words, durations, byte sizes, ranges and flags).

The rules that decide what a query means are kept exactly:

* words are matched without regard to case; ``by``, ``or``, ``json``, ``unwrap`` and the
  other keywords are always keywords, so no label can be called that;
* a function's name (``rate``, ``sum``, ``bytes``, ``ip``, ...) is a function only when
  ``(``, ``by (`` or ``without (`` follows it, and a label name otherwise, so
  ``| rate > 5`` filters on a label called ``rate``;
* a number followed, without space, by unit letters is a duration (``5m``, ``1h30m``,
  ``1.5s``) if those letters make one, else a byte size (``20MB``, ``1KiB``) if they
  make one, else a plain number; ``-`` directly before a duration makes it negative;
* ``[...]`` is one token, a range, whatever stands between the brackets;
* comments run from ``#`` (or Go's ``//``) to the end of the line, or between
  ``/*`` and ``*/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from otelite.query._scanner import Scanner, is_digit
from otelite.query._strings import StringLiterals
from otelite.query.logql._errors import ParseError
from otelite.query.logql._literals import parse_bytes, parse_duration, parse_range

__all__ = ["FUNCTIONS", "KEYWORDS", "Token", "TokenKind", "tokenize"]


class TokenKind(Enum):
    IDENT = "IDENTIFIER"
    STRING = "STRING"
    NUMBER = "NUMBER"
    DURATION = "DURATION"
    BYTES = "BYTES"
    RANGE = "RANGE"
    FLAG = "FUNCTION_FLAG"
    KEYWORD = "keyword"
    FUNCTION = "function"
    OP = "operator"
    EOF = "$end"


@dataclass(frozen=True, slots=True)
class Token:
    """``text`` is the source text; ``value`` the meaning: the decoded string, the number's
    text, nanoseconds, bytes, or the lower-cased word of a keyword or function."""

    kind: TokenKind
    text: str
    offset: int
    value: str | int = ""


# Always keywords, whatever follows them.
KEYWORDS = frozenset(
    (
        *("by", "without", "bool", "offset", "on", "ignoring", "group_left", "group_right"),
        *("or", "and", "unless", "unwrap", "json", "regexp", "logfmt", "unpack", "pattern"),
        *("label_format", "line_format", "decolorize", "drop", "keep"),
    )
)
# Functions when `(` follows, label names otherwise.
FUNCTIONS = frozenset(
    (
        *("rate", "rate_counter", "count_over_time", "bytes_rate", "bytes_over_time"),
        *("avg_over_time", "sum_over_time", "min_over_time", "max_over_time"),
        *("stdvar_over_time", "stddev_over_time", "quantile_over_time", "first_over_time"),
        *("last_over_time", "absent_over_time", "vector", "label_replace"),
        *("sum", "avg", "max", "min", "count", "stddev", "stdvar", "bottomk", "topk"),
        *("sort", "sort_desc", "approx_topk", "bytes", "duration", "duration_seconds", "ip"),
    )
)
FLAGS = frozenset(("--strict", "--keep-empty"))

# Two-character operators first, so that `!=` wins over `!`.
_OPERATORS = (
    *("!=", "=~", "!~", "!>", "|=", "|~", "|>", "==", ">=", "<="),
    *(",", ".", "{", "}", "=", "|", "(", ")", "]", "+", "-", "*", "/", "%", "^", ">", "<"),
)
_DURATION_RUNES = frozenset(".nu\u00b5mshdwy")
_BYTES_RUNES = frozenset(".BikKMGTP")
# Go's number literals, loosely: what is not a decimal float fails later, as in Loki.
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?"
    r"|0[oO][0-7_]+|0[bB][01_]+"
    r"|(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]+)?"
)
_STRINGS = StringLiterals(
    ParseError,
    unterminated="literal not terminated",
    unterminated_raw="literal not terminated",
    invalid_escape="invalid char escape",
    invalid_utf8="invalid UTF-8 encoding",
)


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with an EOF token; raises :class:`ParseError`."""
    return _Lexer(text).run()


class _Lexer(Scanner[Token]):
    error_type = ParseError
    operators = _OPERATORS

    def add(self, kind: TokenKind, start: int, value: str | int = "") -> None:
        self.tokens.append(Token(kind, self.text[start : self.pos], start, value))

    def end(self) -> Token:
        return Token(TokenKind.EOF, "", self.pos)

    def skip(self) -> None:
        """Blanks, and comments: ``#`` or ``//`` to the end of the line, ``/* ... */``."""
        while True:
            super().skip()
            ch = self.peek()
            if ch == "#" or (ch == "/" and self.peek(1) == "/"):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            elif ch == "/" and self.peek(1) == "*":
                end = self.text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("comment not terminated", self.pos)
                self.pos = end + 2
            else:
                return

    def token(self) -> None:
        ch, start = self.peek(), self.pos
        if is_digit(ch) or (ch == "." and is_digit(self.peek(1))):
            self.number()
        elif ch.isalpha() or ch == "_":
            self.word()
        elif ch in ('"', "`"):
            value, self.pos = _STRINGS.read(self.text, start)
            self.add(TokenKind.STRING, start, value)
        elif ch == "[":
            self.range()
        elif ch == "-" and self.minus():
            return
        else:
            self.pos += self.operator()
            self.add(TokenKind.OP, start)

    def word(self) -> None:
        start = self.pos
        word = self.read_word()
        lower = word.lower()
        if lower in FUNCTIONS:
            # `ip` and `label_replace` are keywords to Loki too, but the function test
            # comes first there: without `(` they are plain names.
            kind = TokenKind.FUNCTION if self.before_call() else TokenKind.IDENT
        elif lower in KEYWORDS:
            kind = TokenKind.KEYWORD
        else:
            kind = TokenKind.IDENT
        self.add(kind, start, lower if kind is not TokenKind.IDENT else word)

    def before_call(self) -> bool:
        """Whether `(`, `by (` or `without (` follows: what makes a name a function."""
        at = self.skip_spaces(self.pos)
        if self.text.startswith("(", at):
            return True
        for word in ("by", "without"):
            if self.text[at : at + len(word)].lower() == word:
                return self.text.startswith("(", self.skip_spaces(at + len(word)))
        return False

    def skip_spaces(self, at: int) -> int:
        while at < len(self.text) and self.text[at].isspace():
            at += 1
        return at

    def number(self) -> None:
        start = self.pos
        match = _NUMBER.match(self.text, start)
        assert match is not None  # a digit, or a dot and a digit, always starts one
        self.pos = match.end()
        number = match.group()
        if self.unit(start, number):
            return
        self.add(TokenKind.NUMBER, start, number)

    def unit(self, start: int, prefix: str) -> bool:
        """Take what follows ``prefix`` as a duration's or a byte size's units if it makes
        one, as Loki's lexer tries: a duration first, then a byte size."""
        for runes, kind in ((_DURATION_RUNES, TokenKind.DURATION), (_BYTES_RUNES, TokenKind.BYTES)):
            end = self.pos
            while end < len(self.text) and (self.text[end].isnumeric() or self.text[end] in runes):
                end += 1
            if end == self.pos:
                continue
            candidate = prefix + self.text[self.pos : end]
            if kind is TokenKind.DURATION:
                value = parse_duration(candidate)
            else:
                value = parse_bytes(candidate)
            if value is not None:
                self.pos = end
                self.add(kind, start, value)
                return True
        return False

    def minus(self) -> bool:
        """``--strict``, ``--keep-empty`` or a negative duration; False for a plain ``-``."""
        start = self.pos
        if self.peek(1) == "-":
            end = start + 2
            while end < len(self.text) and (self.text[end].isalpha() or self.text[end] == "-"):
                end += 1
            if self.text[start:end] in FLAGS:
                self.pos = end
                self.add(TokenKind.FLAG, start, self.text[start:end])
                return True
        self.pos += 1
        end = self.pos
        while end < len(self.text) and (
            self.text[end].isnumeric() or self.text[end] in _DURATION_RUNES
        ):
            end += 1
        value = parse_duration(self.text[start:end]) if end > self.pos else None
        if value is not None:
            self.pos = end
            self.add(TokenKind.DURATION, start, value)
            return True
        self.pos = start
        return False

    def range(self) -> None:
        start = self.pos
        end = self.text.find("]", start + 1)
        if end < 0:
            raise self.error("missing closing ']' in duration", start)
        try:
            value = parse_range(self.text[start + 1 : end])
        except ValueError as error:
            raise self.error(str(error), start) from None
        self.pos = end + 1
        self.add(TokenKind.RANGE, start, value)
