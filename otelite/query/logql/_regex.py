"""RE2, the regular expressions of Go and Loki, on Python's :mod:`re`.

LogQL's regexes are RE2's; the database filters of a query run them as RE2 (DuckDB's
``regexp_matches``, ClickHouse's ``match``). What runs in Python (label filters on
parsed labels, ``| regexp``, line filters after a stage that rewrites the line, the
template functions ``regexReplaceAll`` and ``count``) is translated here, not passed
through, because the two dialects read some text differently: RE2's ``$`` is the end of
the text (Python's also matches before a final newline), ``\\z`` is Python's ``\\Z``,
``\\12`` is an octal escape (a backreference in Python), ``(?i)`` may stand mid-pattern
and holds to the end of its group, across ``|``, ``{,3}`` is literal text,
``(?<name>re)`` is a named group, ``[[:alpha:]]`` a POSIX class, and ``\\d \\s \\w \\b``
are ASCII-only. Constructs RE2 refuses (backreferences, look-arounds, possessive and
atomic groups) raise :class:`RegexError`; those Python lacks (``\\pL``, ``(?U)``, negated
POSIX classes) :class:`Unsupported`, with a message that says so. Differences left:
under ``(?i)`` only ASCII letters fold, and Python backtracks where RE2 runs in linear
time.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from otelite.errors import InvalidRequest

__all__ = ["RegexError", "Unsupported", "compile_re2", "translate"]

_PERL_CLASSES = {"d": r"0-9", "w": r"0-9A-Za-z_", "s": r"\t\n\f\r "}
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")
_MAX_REPEAT = 1000


class _Refused(Exception):
    """RE2 refuses the pattern; the message says why."""


class _Lacking(_Refused):
    """RE2 takes the pattern, Python's ``re`` cannot run it; the message says what."""


class RegexError(InvalidRequest):
    """A regular expression RE2 refuses, with Go's words: ``error parsing regexp:
    <reason>: `<pattern>```."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"error parsing regexp: {reason}: `{pattern}`")
        self.pattern = pattern
        self.reason = reason


class Unsupported(RegexError):
    """Valid RE2 that Python's ``re`` cannot run with the same meaning (the database,
    which runs RE2, can)."""


@functools.lru_cache(maxsize=256)
def compile_re2(pattern: str) -> re.Pattern[str]:
    """``pattern`` read as RE2 reads it; raises :class:`RegexError` (or its
    :class:`Unsupported`)."""
    try:
        return re.compile(translate(pattern), re.ASCII)
    except re.error as error:
        raise RegexError(pattern, error.msg) from None


def translate(pattern: str) -> str:
    """``pattern`` in Python's syntax, to compile with ``re.ASCII``; see the module
    docstring."""
    try:
        return _Translator(pattern).run()
    except _Lacking as lacking:
        raise Unsupported(pattern, str(lacking)) from None
    except _Refused as refusal:
        raise RegexError(pattern, str(refusal)) from None


@dataclass(slots=True)
class _Group:
    # Flags such as (?i) in the middle of a group apply to the rest of it; Python wants
    # them at the start, so each opens a scoped group (?i:...) that closes with this one.
    scoped: list[str]
    multiline: bool  # (?m) in force: RE2's $ is then the end of a line


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.at = 0
        self.out: list[str] = []
        self.groups = [_Group([], multiline=False)]

    def run(self) -> str:
        while self.at < len(self.pattern):
            self.step()
        if len(self.groups) > 1:
            raise _Refused("missing closing )")
        self.out.append(")" * len(self.groups[0].scoped))
        return "".join(self.out)

    def step(self) -> None:
        ch = self.pattern[self.at]
        group = self.groups[-1]
        if ch == "\\":
            self.out.append(self.escape(in_class=False))
            return
        self.at += 1
        if ch == "[":
            self.char_class()
        elif ch == "(":
            self.open_group()
        elif ch == ")":
            if len(self.groups) == 1:
                raise _Refused("unexpected )")
            self.out.append(")" * len(self.groups.pop().scoped) + ")")
        elif ch == "|":
            # An alternative starts afresh, under the flags in force.
            reopen = "".join(f"(?{flags}:" for flags in group.scoped)
            self.out.append(")" * len(group.scoped) + "|" + reopen)
        elif ch == "$":
            self.out.append("$" if group.multiline else r"\Z")
        elif ch == "{":
            self.at -= 1
            self.repeat()
        elif ch in "*+?" and self.pattern[self.at : self.at + 1] == "+":
            raise _Refused(f"invalid nested repetition operator: `{ch}+`")
        else:
            self.out.append(ch)

    def repeat(self) -> None:
        match = _REPEAT.match(self.pattern, self.at)
        if match is None:
            self.out.append(r"\{")  # not a repetition: literal, as in RE2
            self.at += 1
            return
        low, high = int(match.group(1)), match.group(3)
        if low > _MAX_REPEAT or (high and int(high) > _MAX_REPEAT) or (high and int(high) < low):
            raise _Refused(f"invalid repeat count: `{match.group(0)}`")
        self.out.append(match.group(0))
        self.at = match.end()
        if self.pattern[self.at : self.at + 1] == "+":
            raise _Refused(f"invalid nested repetition operator: `{match.group(0)}+`")

    def open_group(self) -> None:
        # The "(" is consumed; what follows says which kind of group this is.
        rest = self.pattern[self.at - 1 :]
        outer = self.groups[-1]
        named = re.match(r"\(\?P?<([A-Za-z0-9_]+)>", rest)
        if named or not rest.startswith("(?"):
            self.out.append(f"(?P<{named.group(1)}>" if named else "(")
            self.at += named.end() - 1 if named else 0
            self.groups.append(_Group([], outer.multiline))
            return
        flags = re.match(r"\(\?([a-zA-Z]*)(-[a-zA-Z]*)?([:)])", rest)
        if flags is None or flags.group(0) in ("(?)", "(?-)", "(?-:"):
            raise _Refused(f"invalid or unsupported Perl syntax: `{rest[:3]}`")
        on, off, end = flags.group(1), (flags.group(2) or "-")[1:], flags.group(3)
        for flag in on + off:
            if flag == "U":
                raise _Lacking("ungreedy mode (?U) is not supported by otelite")
            if flag not in "ims":
                raise _Refused(f"invalid or unsupported Perl syntax: `{flags.group(0)}`")
        multiline = "m" in on or (outer.multiline and "m" not in off)
        spelled = on + (f"-{off}" if off else "")
        self.at += flags.end() - 1
        if end == ":":
            self.out.append(f"(?{spelled}:" if spelled else "(?:")
            self.groups.append(_Group([], multiline))
        else:
            self.out.append(f"(?{spelled}:")
            outer.scoped.append(spelled)
            outer.multiline = multiline

    def char_class(self) -> None:
        # The "[" is consumed.
        self.out.append("[")
        if self.pattern[self.at : self.at + 1] == "^":
            self.out.append("^")
            self.at += 1
        first = True
        while True:
            if self.at >= len(self.pattern):
                raise _Refused("missing closing ]")
            ch = self.pattern[self.at]
            if ch == "]" and not first:
                self.out.append("]")
                self.at += 1
                return
            first = False
            if ch == "[" and self.pattern.startswith("[:", self.at):
                close = self.pattern.find(":]", self.at + 2)
                name = self.pattern[self.at + 2 : close] if close > 0 else ""
                if name.startswith("^"):
                    raise _Lacking(f"negated class [:{name}:] is not supported by otelite")
                if name not in _POSIX_CLASSES:
                    raise _Refused(f"invalid character class range: `[:{name}:]`")
                self.out.append(_POSIX_CLASSES[name])
                self.at = close + 2
            elif ch == "\\":
                self.out.append(self.escape(in_class=True))
            elif ch in "[&~|" or (ch == "-" and self.out[-1] == "-"):
                self.out.append("\\" + ch)  # literal in RE2; Python warns of set operations
                self.at += 1
            else:
                self.out.append(ch)
                self.at += 1

    def escape(self, *, in_class: bool) -> str:
        if self.at + 1 >= len(self.pattern):
            raise _Refused("trailing backslash at end of expression")
        ch = self.pattern[self.at + 1]
        self.at += 2
        if ch in _PERL_CLASSES:
            return _PERL_CLASSES[ch] if in_class else f"[{_PERL_CLASSES[ch]}]"
        if ch in "DSW":
            if in_class:
                raise _Lacking(f"\\{ch} inside a character class is not supported by otelite")
            return f"[^{_PERL_CLASSES[ch.lower()]}]"
        if ch in "bBA" and not in_class:
            return "\\" + ch
        if ch == "z" and not in_class:
            return r"\Z"
        if ch == "C":
            raise _Lacking("any byte (\\C) is not supported by otelite")
        if ch in "pP":
            raise _Lacking(f"Unicode classes (\\{ch}) are not supported by otelite")
        if ch == "Q":
            end = self.pattern.find(r"\E", self.at)
            literal = self.pattern[self.at : len(self.pattern) if end < 0 else end]
            self.at = len(self.pattern) if end < 0 else end + 2
            return re.escape(literal)
        if ch in "01234567":
            digits = ch
            while len(digits) < 3 and self.pattern[self.at : self.at + 1] in tuple("01234567"):
                digits += self.pattern[self.at]
                self.at += 1
            if digits != "0" and len(digits) == 1:
                raise _Refused(f"invalid escape sequence: `\\{ch}`")  # a backreference
            return f"\\x{int(digits, 8):02x}"
        if ch == "x":
            return self.hex_escape()
        if ch in "afnrtv":
            return "\\" + ch
        if ch.isascii() and not ch.isalnum():
            return "\\" + ch
        raise _Refused(f"invalid escape sequence: `\\{ch}`")

    def hex_escape(self) -> str:
        if self.pattern[self.at : self.at + 1] == "{":
            close = self.pattern.find("}", self.at)
            digits = self.pattern[self.at + 1 : close] if close > 0 else ""
            self.at = close + 1
        else:
            digits = self.pattern[self.at : self.at + 2]
            self.at += 2
        if not digits or len(digits) > 8 or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise _Refused("invalid escape sequence: `\\x`")
        code = int(digits, 16)
        if code > 0x10FFFF:
            raise _Refused(f"invalid escape sequence: `\\x{{{digits}}}`")
        return f"\\U{code:08x}"
