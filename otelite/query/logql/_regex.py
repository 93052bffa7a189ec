"""RE2 regular expressions, as LogQL writes them, run by Python's ``re``.

Loki compiles regexes with Go's ``regexp`` (RE2 syntax); the database filters of a query
use RE2 too (DuckDB's ``regexp_matches``, ClickHouse's ``match``). What runs in Python
(label filters on parsed labels, ``| regexp``, line filters after a stage that rewrites
the line) is translated here so that it means the same:

* ``(?P<name>re)`` and ``(?<name>re)`` are named groups; ``\\Q...\\E`` is literal text;
  ``\\z`` is the end of the text; ``\\x{10FFFF}`` a code point; ``[[:alpha:]]`` and the
  other POSIX classes are ASCII ranges;
* ``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII-only, as in RE2;
* without the ``m`` flag ``$`` is the end of the text only (Python's also matches before
  a final newline);
* ``(?i)`` in the middle of a group applies to the rest of that group (Python only takes
  flags at the very start), across ``|``;
* ``{`` that does not open a valid repeat is literal, as RE2 reads ``a{,3}``.

RE2 refuses what needs backtracking (back-references, look-around, possessive repeats);
so does this module, with RE2's reason. What RE2 takes and Python cannot honour (Unicode
classes such as ``\\pL``, the ``U`` flag, ``\\C``) raises :class:`Unsupported`: a filter
the database runs still works, one that must run in Python says why it cannot.
"""

from __future__ import annotations

import functools
import re

from otelite.errors import InvalidRequest

__all__ = ["RegexError", "Unsupported", "compile_re2", "translate"]

_POSIX = {
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
_PERL = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r "}
_WORD = "[0-9A-Za-z_]"
_BOUNDARY = f"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))"
_NOT_BOUNDARY = f"(?:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))"
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")
_NAME = re.compile(r"[A-Za-z0-9_]+")
_MAX_REPEAT = 1000
_FLAGS = frozenset("imsU")


class RegexError(InvalidRequest):
    """A regular expression RE2 refuses (Loki's "error parsing regexp")."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"error parsing regexp: {reason}: `{pattern}`")
        self.pattern = pattern
        self.reason = reason


class Unsupported(RegexError):
    """Valid RE2 that Python's ``re`` cannot run with the same meaning."""

    def __init__(self, pattern: str, reason: str) -> None:
        InvalidRequest.__init__(
            self,
            f"regular expression `{pattern}`: {reason}; otelite runs this part of a query in"
            " Python, whose regular expressions lack it",
        )
        self.pattern = pattern
        self.reason = reason


@functools.lru_cache(maxsize=256)
def compile_re2(pattern: str) -> re.Pattern[str]:
    """``pattern`` (RE2 syntax) compiled for Python with RE2's meaning; raises
    :class:`RegexError` (or its :class:`Unsupported`)."""
    try:
        return re.compile(translate(pattern))
    except re.error as error:
        raise RegexError(pattern, str(error)) from None


def translate(pattern: str) -> str:
    """``pattern`` in Python's syntax; see the module docstring."""
    return _Translator(pattern).run()


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0
        self.out: list[str] = []
        # Per open group: whether a "(?flags:" wrapper is open in it, and its flags.
        self.wrapped: list[str | None] = [None]
        self.multiline: list[bool] = [False]

    def fail(self, reason: str) -> RegexError:
        return RegexError(self.text, reason)

    def unsupported(self, reason: str) -> Unsupported:
        return Unsupported(self.text, reason)

    def run(self) -> str:
        text = self.text
        while self.at < len(text):
            ch = text[self.at]
            if ch == "\\":
                self.out.append(self.escape(in_class=False))
            elif ch == "[":
                self.out.append(self.char_class())
            elif ch == "(":
                self.group()
            elif ch == ")":
                self.close_wrapper()
                if len(self.wrapped) > 1:
                    self.wrapped.pop()
                    self.multiline.pop()
                self.out.append(")")
                self.at += 1
            elif ch == "|":
                flags = self.wrapped[-1]
                if flags is not None:
                    self.out.append(f")|(?{flags}:")
                else:
                    self.out.append("|")
                self.at += 1
            elif ch == "$":
                self.out.append("$" if self.multiline[-1] else "\\Z")
                self.at += 1
            elif ch == "{":
                self.out.append(self.brace())
            elif ch in "*+?":
                self.out.append(ch)
                self.at += 1
                if self.at < len(text) and text[self.at] == "?":
                    self.out.append("?")
                    self.at += 1
                if self.at < len(text) and text[self.at] in "*+":
                    raise self.fail(f"invalid nested repetition operator: `{ch}{text[self.at]}`")
            else:
                self.out.append(ch)
                self.at += 1
        self.close_wrapper()
        return "".join(self.out)

    def close_wrapper(self) -> None:
        if self.wrapped[-1] is not None:
            self.out.append(")")
            self.wrapped[-1] = None

    def brace(self) -> str:
        match = _REPEAT.match(self.text, self.at)
        if match is None:
            self.at += 1
            return "\\{"
        low, high = int(match.group(1)), match.group(3)
        if low > _MAX_REPEAT or (high and int(high) > _MAX_REPEAT):
            raise self.fail(f"invalid repeat count: `{match.group(0)}`")
        if high and int(high) < low:
            raise self.fail(f"invalid repeat count: `{match.group(0)}`")
        self.at = match.end()
        return match.group(0)

    def group(self) -> None:
        text, start = self.text, self.at
        rest = text[start + 1 :]
        if not rest.startswith("?"):
            self.open(None)
            self.out.append("(")
            self.at += 1
            return
        for prefix in ("?P<", "?<"):
            if rest.startswith(prefix) and not rest.startswith(("?<=", "?<!")):
                end = text.find(">", start + 1 + len(prefix))
                name = text[start + 1 + len(prefix) : end] if end >= 0 else ""
                if end < 0 or not _NAME.fullmatch(name):
                    raise self.fail(f"invalid named capture: `{text[start : end + 1]}`")
                if name[0].isdigit():
                    raise self.unsupported(f"group names cannot start with a digit: {name}")
                self.open(None)
                self.out.append(f"(?P<{name}>")
                self.at = end + 1
                return
        if rest.startswith(("?=", "?!", "?<=", "?<!", "?P=", "?>", "?#", "?(")):
            width = 4 if rest.startswith(("?<=", "?<!", "?P=")) else 3
            syntax = text[start : start + width]
            raise self.fail(f"invalid or unsupported Perl syntax: `{syntax}`")
        # Flags: (?flags) or (?flags:re), flags such as i, -i, im-s.
        end = start + 2
        while end < len(text) and (text[end] in _FLAGS or text[end] == "-"):
            end += 1
        if end >= len(text) or text[end] not in ":)" or end == start + 2:
            raise self.fail(f"invalid or unsupported Perl syntax: `{text[start : end + 1]}`")
        flags = text[start + 2 : end]
        if "U" in flags:
            raise self.unsupported("the U (ungreedy) flag has no Python equivalent")
        on, _, off = flags.partition("-")
        if "-" in off or (not on and not off):
            raise self.fail(f"invalid or unsupported Perl syntax: `{text[start : end + 1]}`")
        multiline = ("m" in on) or (self.multiline[-1] and "m" not in off)
        python_flags = on + ("-" + off if off else "")
        if text[end] == ":":
            self.open(None)
            self.multiline[-1] = multiline
            self.out.append(f"(?{python_flags}:")
        else:
            # RE2 applies the flags to the rest of the group: wrap it.
            self.close_wrapper()
            self.wrapped[-1] = python_flags
            self.multiline[-1] = multiline
            self.out.append(f"(?{python_flags}:")
        self.at = end + 1

    def open(self, flags: str | None) -> None:
        self.wrapped.append(flags)
        self.multiline.append(self.multiline[-1])

    def escape(self, *, in_class: bool) -> str:
        text = self.text
        if self.at + 1 >= len(text):
            raise self.fail("trailing backslash at end of expression")
        ch = text[self.at + 1]
        self.at += 2
        if ch == "Q":
            end = text.find("\\E", self.at)
            literal = text[self.at :] if end < 0 else text[self.at : end]
            self.at = len(text) if end < 0 else end + 2
            return "".join(re.escape(c) for c in literal)
        if ch in "dws":
            return _PERL[ch] if in_class else f"[{_PERL[ch]}]"
        if ch in "DWS":
            if in_class:
                raise self.unsupported(f"\\{ch} inside a character class")
            return f"[^{_PERL[ch.lower()]}]"
        if ch == "b" and not in_class:
            return _BOUNDARY
        if ch == "B" and not in_class:
            return _NOT_BOUNDARY
        if ch == "z" and not in_class:
            return "\\Z"
        if ch == "A" and not in_class:
            return "\\A"
        if ch in "pP":
            raise self.unsupported(f"Unicode classes such as \\{ch}L or \\{ch}{{Greek}}")
        if ch == "C":
            raise self.unsupported("\\C (any byte)")
        if ch == "x":
            return self.hex_escape()
        if ch.isdigit():
            if ch == "0" or (ch in "1234567" and self.at < len(text) and text[self.at].isdigit()):
                digits = ch
                while len(digits) < 3 and self.at < len(text) and text[self.at] in "01234567":
                    digits += text[self.at]
                    self.at += 1
                return _code_point(int(digits, 8))
            raise self.fail(f"invalid escape sequence: `\\{ch}`")
        if ch in "afnrtv":
            return "\\" + ch
        if ch.isalnum():
            raise self.fail(f"invalid escape sequence: `\\{ch}`")
        return re.escape(ch)

    def hex_escape(self) -> str:
        text = self.text
        if self.at < len(text) and text[self.at] == "{":
            end = text.find("}", self.at)
            digits = text[self.at + 1 : end] if end >= 0 else ""
            self.at = end + 1 if end >= 0 else len(text)
        else:
            digits = text[self.at : self.at + 2]
            self.at += 2
        try:
            value = int(digits, 16)
        except ValueError:
            value = -1
        if not 0 <= value <= 0x10FFFF or not digits or not digits.isalnum():
            raise self.fail(f"invalid escape sequence: `\\x{digits}`")
        return _code_point(value)

    def char_class(self) -> str:
        text = self.text
        self.at += 1
        out = ["["]
        if self.at < len(text) and text[self.at] == "^":
            out.append("^")
            self.at += 1
        first = True
        while True:
            if self.at >= len(text):
                raise self.fail(f"missing closing ]: `{text[text.rfind('[') :]}`")
            ch = text[self.at]
            if ch == "]" and not first:
                self.at += 1
                out.append("]")
                return "".join(out)
            first = False
            if ch == "[" and text.startswith("[:", self.at):
                end = text.find(":]", self.at + 2)
                name = text[self.at + 2 : end] if end >= 0 else ""
                if name.startswith("^"):
                    raise self.unsupported(f"negated POSIX classes such as [:{name}:]")
                if name not in _POSIX:
                    raise self.fail(f"invalid character class range: `[:{name}:]`")
                out.append(_POSIX[name])
                self.at = end + 2
            elif ch == "\\":
                out.append(self.escape(in_class=True))
            elif ch in "[&~|":
                out.append("\\" + ch)
                self.at += 1
            elif ch == "-" and text.startswith("--", self.at):
                out.append("\\-")
                self.at += 1
            else:
                out.append(ch)
                self.at += 1


def _code_point(value: int) -> str:
    return f"\\U{value:08x}"
