"""TraceQL text → tokens, following the rules of Tempo's lexer (Go's ``text/scanner`` plus
TraceQL's own attribute and duration handling).

Three rules of Tempo's lexer shape what a query means and are kept exactly:

* an attribute name runs from its scope prefix up to whitespace or one of
  ``{ } ( ) = ~ ! < > & | ^ ,``; so ``span.http.status_code`` is one name, and so is
  ``span.a+b`` (arithmetic needs spaces), while ``"..."`` parts may hold anything;
* a number followed, without space, by unit letters is a duration (``1h30m``, ``1.5s``,
  ``2d``) if those letters parse as one, and a plain number otherwise;
* ``.`` followed by a digit starts a number (``.5``), not an attribute.

Unlike Go's scanner this lexer does not skip ``//`` and ``/* */`` comments: they are no
part of TraceQL's documented syntax.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from otelite.query._durations import parse_duration
from otelite.query._scanner import Scanner, is_digit
from otelite.query._strings import StringLiterals
from otelite.query.traceql._ast import Attribute
from otelite.query.traceql._enums import Intrinsic, Scope
from otelite.query.traceql._errors import ParseError

__all__ = ["KEYWORDS", "Token", "TokenKind", "is_attribute_rune", "tokenize"]


class TokenKind(Enum):
    STRING = "string"
    INT = "integer"
    FLOAT = "float"
    DURATION = "duration"
    IDENT = "identifier"
    ATTRIBUTE = "attribute"
    INTRINSIC = "intrinsic"
    OP = "operator"
    EOF = "end of query"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    offset: int
    value: str | int | float | Attribute | Intrinsic | None = None


# Tempo's reserved words: none of them can name a hint, and only some have a meaning in
# any one place, which the parser decides.
_WORDS = """
    true false nil ok error unset unspecified internal server client producer consumer
    duration childCount name status statusMessage kind rootName rootServiceName rootService
    traceDuration nestedSetLeft nestedSetRight nestedSetParent id traceID spanID parentID
    timeSinceStart version parent count avg max min sum by coalesce select rate
    count_over_time min_over_time max_over_time avg_over_time sum_over_time
    quantile_over_time histogram_over_time compare topk bottomk with
"""
KEYWORDS = frozenset(_WORDS.split())

# Longest first, so that ``!>>`` wins over ``!>`` and ``!``.
_OPERATOR_TEXT = (
    "{ } ( ) , | = != =~ !~ > >= >> < <= << + - * / % ^ && || ! ~ !> !< !>> !<< &> &>> &< &<< &~"
)
_OPERATORS = tuple(sorted(_OPERATOR_TEXT.split(), key=len, reverse=True))
_ATTRIBUTE_SCOPES = {
    "span": Scope.SPAN,
    "resource": Scope.RESOURCE,
    "event": Scope.EVENT,
    "link": Scope.LINK,
    "instrumentation": Scope.INSTRUMENTATION,
}
_INTRINSICS = {intrinsic.value: intrinsic for intrinsic in Intrinsic if ":" in intrinsic.value}
_INTRINSIC_SCOPES = ("span", "trace", "event", "link", "instrumentation")
_ATTRIBUTE_ENDS = frozenset("{}()=~!<>&|^,")
_DURATION_RUNES = frozenset("0123456789.nsumh\u00b5dwy")
_STRINGS = StringLiterals(
    ParseError,
    unterminated='unterminated string: missing closing "',
    unterminated_raw="unterminated raw string: missing closing `",
    invalid_escape="invalid escape sequence in string",
    invalid_utf8="string is not valid UTF-8",
)


def is_attribute_rune(ch: str) -> bool:
    """Whether ``ch`` can appear in an unquoted attribute name."""
    # Python's isspace() also counts U+001C..U+001F, which Go's unicode.IsSpace does not.
    is_space = ch.isspace() and ch not in "\x1c\x1d\x1e\x1f"
    return not is_space and ch not in _ATTRIBUTE_ENDS


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with an EOF token; raises :class:`ParseError`."""
    return _Lexer(text).run()


class _Lexer(Scanner[Token]):
    error_type = ParseError
    operators = _OPERATORS

    def add(
        self,
        kind: TokenKind,
        start: int,
        value: str | int | float | Attribute | Intrinsic | None = None,
    ) -> None:
        self.tokens.append(Token(kind, self.text[start : self.pos], start, value))

    def end(self) -> Token:
        return Token(TokenKind.EOF, "", self.pos)

    def token(self) -> None:
        ch, start = self.peek(), self.pos
        if is_digit(ch) or (ch == "." and is_digit(self.peek(1))):
            self.number()
        elif ch == ".":
            self.pos += 1
            self.attribute(start, Scope.UNSCOPED, parent=False)
        elif ch in ('"', "`"):
            value, self.pos = _STRINGS.read(self.text, start)
            self.add(TokenKind.STRING, start, value)
        elif ch.isalpha() or ch == "_":
            self.word()
        else:
            self.pos += self.operator()
            self.add(TokenKind.OP, start)

    def word(self) -> None:
        start = self.pos
        word = self.read_word()
        if self.peek() == "." and word == "parent":
            self.pos += 1
            self.parent_attribute(start)
        elif self.peek() == "." and word in _ATTRIBUTE_SCOPES:
            self.pos += 1
            self.attribute(start, _ATTRIBUTE_SCOPES[word], parent=False)
        elif self.peek() == ":" and word in _INTRINSIC_SCOPES:
            self.pos += 1
            self.intrinsic(start, word)
        else:
            self.add(TokenKind.IDENT, start)

    def parent_attribute(self, start: int) -> None:
        # After `parent.` Tempo takes a following `span.` or `resource.` as a scope.
        for word in ("span", "resource"):
            if self.text.startswith(word + ".", self.pos):
                self.pos += len(word) + 1
                self.attribute(start, _ATTRIBUTE_SCOPES[word], parent=True)
                return
        self.attribute(start, Scope.UNSCOPED, parent=True)

    def attribute(self, start: int, scope: Scope, *, parent: bool) -> None:
        name: list[str] = []
        while self.peek() and is_attribute_rune(self.peek()):
            if self.peek() == '"':
                name.append(self.quoted_name())
            else:
                name.append(self.peek())
                self.pos += 1
        if not name or not "".join(name):
            prefix = self.text[start : self.pos]
            raise self.error(f"expected an attribute name after `{prefix}`", self.pos)
        self.add(TokenKind.ATTRIBUTE, start, Attribute(scope, "".join(name), parent))

    def quoted_name(self) -> str:
        # Quoted attribute names know only two escapes, \" and \\; anything else,
        # newlines included, stands for itself.
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "\\":
                if self.peek(1) not in ('"', "\\") or not self.peek(1):
                    raise self.error(
                        'invalid escape in a quoted attribute name: only \\" and \\\\ exist',
                        self.pos,
                    )
                out.append(self.peek(1))
                self.pos += 2
            else:
                out.append(ch)
                self.pos += 1
        raise self.error('unterminated attribute name: missing closing "', start)

    def intrinsic(self, start: int, scope: str) -> None:
        self.skip()  # Tempo allows `span: name`
        name_start = self.pos
        name = self.read_word()
        intrinsic = _INTRINSICS.get(f"{scope}:{name}")
        if intrinsic is None:
            known = ", ".join(i for i in _INTRINSICS if i.startswith(scope + ":"))
            found = f"unknown intrinsic {scope}:{name}" if name else f"missing name after {scope}:"
            raise self.error(f"{found}; expected one of {known}", name_start)
        self.add(TokenKind.INTRINSIC, start, intrinsic)

    def number(self) -> None:
        start = self.pos
        is_float = False
        while is_digit(self.peek()):
            self.pos += 1
        if self.peek() == ".":
            is_float = True
            self.pos += 1
            while is_digit(self.peek()):
                self.pos += 1
        if self.peek() in ("e", "E") and self.exponent_length():
            is_float = True
            self.pos += self.exponent_length()
        number_end = self.pos
        while self.peek() and self.peek() in _DURATION_RUNES:
            self.pos += 1
        if self.pos > number_end:
            nanoseconds = parse_duration(self.text[start : self.pos])
            if nanoseconds is not None:
                self.add(TokenKind.DURATION, start, nanoseconds)
                return
            self.pos = number_end  # not a duration: the letters are the next token
        number_text = self.text[start : self.pos]
        if not is_float:
            self.add(TokenKind.INT, start, int(number_text))
            return
        value = float(number_text)
        if not math.isfinite(value):
            raise self.error(f"number {number_text} is out of range", start)
        self.add(TokenKind.FLOAT, start, value)

    def exponent_length(self) -> int:
        length = 2 if self.peek(1) in ("+", "-") and self.peek(1) else 1
        digits = 0
        while is_digit(self.peek(length + digits)):
            digits += 1
        return length + digits if digits else 0
