"""Tokens of a LogQL template, as Go's ``text/template/parse`` lexer cuts them.

Text runs until ``{{``; inside an action, spaces separate words and ``|``, ``(``, ``)``,
``:=`` and ``=`` stand alone. ``{{- `` trims the white space before the action and
`` -}}`` the white space after it (the space next to the ``-`` is required: ``{{-3}}``
is the number -3). ``{{/* ... */}}`` is a comment. A lexical error ends the tokens with
an ``ERROR`` token; the parser reports it when it reaches it, so that an earlier syntax
error wins, as in Go.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from otelite.query.logql._strconv import quote

__all__ = ["KEYWORDS", "Kind", "Token", "tokenize"]

_SPACE = " \t\r\n"
_TERMINATORS = frozenset(_SPACE + ".,|:)(")


class Kind(enum.Enum):
    TEXT = enum.auto()
    LEFT = enum.auto()  # {{
    RIGHT = enum.auto()  # }}
    SPACE = enum.auto()
    PIPE = enum.auto()
    DECLARE = enum.auto()  # :=
    ASSIGN = enum.auto()  # =
    LEFT_PAREN = enum.auto()
    RIGHT_PAREN = enum.auto()
    STRING = enum.auto()  # "..." or `...`, quotes included
    CHAR_CONSTANT = enum.auto()  # 'a'
    NUMBER = enum.auto()
    COMPLEX = enum.auto()  # 1+2i
    FIELD = enum.auto()  # .name
    VARIABLE = enum.auto()  # $ or $name
    IDENTIFIER = enum.auto()
    BOOL = enum.auto()
    CHAR = enum.auto()  # any other printable ASCII character, such as ","
    DOT = enum.auto()
    NIL = enum.auto()
    IF = enum.auto()
    ELSE = enum.auto()
    END = enum.auto()
    RANGE = enum.auto()
    WITH = enum.auto()
    BREAK = enum.auto()
    CONTINUE = enum.auto()
    DEFINE = enum.auto()
    TEMPLATE = enum.auto()
    BLOCK = enum.auto()
    EOF = enum.auto()
    ERROR = enum.auto()


KEYWORDS = {
    "if": Kind.IF,
    "else": Kind.ELSE,
    "end": Kind.END,
    "range": Kind.RANGE,
    "with": Kind.WITH,
    "break": Kind.BREAK,
    "continue": Kind.CONTINUE,
    "define": Kind.DEFINE,
    "template": Kind.TEMPLATE,
    "block": Kind.BLOCK,
    "nil": Kind.NIL,
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    pos: int
    value: str

    @property
    def end(self) -> int:
        return self.pos + len(self.value)

    def describe(self) -> str:
        """The token as Go's parser names it in "unexpected ..." messages."""
        if self.kind is Kind.EOF:
            return "EOF"
        if self.kind is Kind.ERROR:
            return self.value
        if self.kind in KEYWORDS.values() or self.kind is Kind.DOT:
            return f"<{self.value}>"
        if len(self.value) > 10:
            return quote(self.value[:10]) + "..."
        return quote(self.value)


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with ``EOF`` or ``ERROR``."""
    return _Lexer(text).run()


def _is_alphanumeric(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdecimal()


def _describe_rune(ch: str) -> str:
    # Go's %#U: U+0078 'x' (the character only if it is printable).
    code = f"U+{ord(ch):04X}"
    return f"{code} '{ch}'" if ch.isprintable() else code


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[Token] = []

    def emit(self, kind: Kind, start: int, end: int) -> None:
        self.tokens.append(Token(kind, start, self.text[start:end]))

    def fail(self, message: str, at: int) -> list[Token]:
        self.tokens.append(Token(Kind.ERROR, at, message))
        return self.tokens

    def run(self) -> list[Token]:
        text = self.text
        while True:
            left = text.find("{{", self.pos)
            if left < 0:
                if self.pos < len(text):
                    self.emit(Kind.TEXT, self.pos, len(text))
                self.tokens.append(Token(Kind.EOF, len(text), ""))
                return self.tokens
            trim = text.startswith("-", left + 2) and text[left + 3 : left + 4] in tuple(_SPACE)
            text_end = self.pos + len(text[self.pos : left].rstrip(_SPACE)) if trim else left
            if text_end > self.pos:
                self.emit(Kind.TEXT, self.pos, text_end)
            inside = left + (4 if trim else 2)
            if text.startswith("/*", inside):
                if not self.comment(inside + 2):
                    return self.tokens
                continue
            self.emit(Kind.LEFT, left, left + 2)
            self.pos = inside
            if not self.action():
                return self.tokens

    def at_right(self, at: int) -> tuple[bool, bool]:
        # At "}}" (False) or at " -}}" (True: trim the white space after it)?
        text = self.text
        if text[at : at + 1] in tuple(_SPACE) and text.startswith("-}}", at + 1):
            return True, True
        return text.startswith("}}", at), False

    def close(self, at: int, trim: bool) -> None:
        end = at + (2 if trim else 0) + 2
        self.emit(Kind.RIGHT, end - 2, end)
        if trim:
            while end < len(self.text) and self.text[end] in _SPACE:
                end += 1
        self.pos = end

    def comment(self, start: int) -> bool:
        close = self.text.find("*/", start)
        if close < 0:
            self.fail("unclosed comment", start)
            return False
        right, trim = self.at_right(close + 2)
        if not right:
            self.fail("comment ends before closing delimiter", close + 2)
            return False
        self.close(close + 2, trim)
        self.tokens.pop()  # a comment leaves no tokens
        return True

    def action(self) -> bool:
        # Tokens up to and including the closing }}; False after an error.
        text, depth = self.text, 0
        while True:
            at = self.pos
            right, trim = self.at_right(at)
            if right:
                if depth:
                    self.fail("unclosed left paren", at)
                    return False
                self.close(at, trim)
                return True
            if at >= len(text):
                self.fail("unclosed action", at)
                return False
            ch = text[at]
            if ch in _SPACE:
                end = at
                while end < len(text) and text[end] in _SPACE:
                    end += 1
                if self.at_right(end - 1) == (True, True):
                    end -= 1  # the last space belongs to " -}}"
                if end > at:
                    self.emit(Kind.SPACE, at, end)
                self.pos = end
                continue
            error = self.word(at, ch)
            if error is not None:
                self.fail(error, at)
                return False
            kind = self.tokens[-1].kind
            depth += (kind is Kind.LEFT_PAREN) - (kind is Kind.RIGHT_PAREN)
            if depth < 0:
                self.fail("unexpected right paren", at)
                return False

    def word(self, at: int, ch: str) -> str | None:
        # One token starting at `at`, or why there is none.
        text = self.text
        single = {"|": Kind.PIPE, "=": Kind.ASSIGN, "(": Kind.LEFT_PAREN, ")": Kind.RIGHT_PAREN}
        if ch in single:
            self.emit(single[ch], at, at + 1)
            self.pos = at + 1
        elif ch == ":":
            if text[at + 1 : at + 2] != "=":
                return "expected :="
            self.emit(Kind.DECLARE, at, at + 2)
            self.pos = at + 2
        elif ch in "\"`'":
            return self.quoted(at, ch)
        elif ch == "$":
            return self.name(at, Kind.VARIABLE)
        elif ch == "." and at + 1 < len(text) and text[at + 1] not in "0123456789":
            return self.name(at, Kind.FIELD)
        elif ch in "+-." or ch in "0123456789":
            return self.number(at)
        elif _is_alphanumeric(ch):
            end = at
            while end < len(text) and _is_alphanumeric(text[end]):
                end += 1
            if not self.at_terminator(end):
                return f"bad character {_describe_rune(text[end])}"
            word = text[at:end]
            kind = KEYWORDS.get(word, Kind.BOOL if word in ("true", "false") else Kind.IDENTIFIER)
            self.emit(kind, at, end)
            self.pos = end
        elif ch.isascii() and ch.isprintable():
            self.emit(Kind.CHAR, at, at + 1)
            self.pos = at + 1
        else:
            return f"unrecognized character in action: {_describe_rune(ch)}"
        return None

    def at_terminator(self, at: int) -> bool:
        # What may follow a name: white space, punctuation that ends it, or "}}".
        return at >= len(self.text) or self.text[at] in _TERMINATORS or self.at_right(at)[0]

    def name(self, at: int, kind: Kind) -> str | None:
        # $name, .name, and the bare $ and . (dot).
        text = self.text
        if self.at_terminator(at + 1):
            self.emit(Kind.DOT if kind is Kind.FIELD else kind, at, at + 1)
            self.pos = at + 1
            return None
        end = at + 1
        while end < len(text) and _is_alphanumeric(text[end]):
            end += 1
        if not self.at_terminator(end):
            return f"bad character {_describe_rune(text[end])}"
        self.emit(kind, at, end)
        self.pos = end
        return None

    def quoted(self, at: int, quote_mark: str) -> str | None:
        text, end = self.text, at + 1
        while True:
            if end >= len(text) or (quote_mark != "`" and text[end] == "\n"):
                return {
                    '"': "unterminated quoted string",
                    "'": "unterminated character constant",
                    "`": "unterminated raw quoted string",
                }[quote_mark]
            if text[end] == "\\" and quote_mark != "`":
                if end + 1 >= len(text) or text[end + 1] == "\n":
                    end = len(text)
                    continue
                end += 2
                continue
            end += 1
            if text[end - 1] == quote_mark:
                break
        self.emit(Kind.CHAR_CONSTANT if quote_mark == "'" else Kind.STRING, at, end)
        self.pos = end
        return None

    def number(self, at: int) -> str | None:
        end = self.scan_number(at)
        if end is None:
            return f"bad number syntax: {quote(self.text[at : self.pos])}"
        kind = Kind.NUMBER
        if self.text[end : end + 1] in ("+", "-"):
            complex_end = self.scan_number(end)
            if complex_end is None or self.text[complex_end - 1] != "i":
                return f"bad number syntax: {quote(self.text[at : self.pos])}"
            kind, end = Kind.COMPLEX, complex_end
        self.emit(kind, at, end)
        self.pos = end
        return None

    def scan_number(self, at: int) -> int | None:
        # Go's scanNumber: generous (it takes "089" and "."); the parser checks the rest.
        text, end = self.text, at

        def run(allowed: str) -> None:
            nonlocal end
            while end < len(text) and text[end] in allowed:
                end += 1

        def accept(allowed: str) -> bool:
            nonlocal end
            if end < len(text) and text[end] in allowed:
                end += 1
                return True
            return False

        accept("+-")
        digits = "0123456789_"
        if accept("0"):
            if accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif accept("oO"):
                digits = "01234567_"
            elif accept("bB"):
                digits = "01_"
        run(digits)
        if accept("."):
            run(digits)
        if len(digits) == 11 and accept("eE"):
            accept("+-")
            run("0123456789_")
        if len(digits) == 23 and accept("pP"):
            accept("+-")
            run("0123456789_")
        accept("i")
        if end < len(text) and _is_alphanumeric(text[end]):
            self.pos = end + 1
            return None
        self.pos = end
        return end
