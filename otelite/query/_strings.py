"""Go's string literals, as TraceQL and LogQL take them from Go's ``text/scanner``.

A ``"..."`` string knows Go's escapes (``\\n``, ``\\x41``, ``\\101``, ``\\u00e9``,
``\\U0001F600``, ...) and cannot span lines; a `` `...` `` string is raw and may. The
rules are Go's and the same in both languages; the words for what is wrong are each
language's own, so each lexer reads strings through its own :class:`StringLiterals`.
"""

from __future__ import annotations

from dataclasses import dataclass

from otelite.query._text import QuerySyntaxError

__all__ = ["StringLiterals", "quote_string"]

_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
_HEX = frozenset("0123456789abcdefABCDEF")
_OCTAL = frozenset("01234567")


@dataclass(frozen=True, slots=True)
class StringLiterals:
    """Go's string literals, read for one language: ``error`` is the language's
    ``ParseError`` and the other fields its words for each fault."""

    error: type[QuerySyntaxError]
    unterminated: str  # a "..." string that meets a newline or the end of the text
    unterminated_raw: str
    invalid_escape: str
    invalid_utf8: str

    def read(self, text: str, start: int) -> tuple[str, int]:
        """The value of the string literal that opens at ``text[start]`` (with ``"`` or a
        backtick) and the offset just after it."""
        if text[start] == "`":
            end = text.find("`", start + 1)
            if end < 0:
                raise self.error(self.unterminated_raw, text=text, offset=start)
            # Go drops carriage returns from raw strings.
            return text[start + 1 : end].replace("\r", ""), end + 1
        out = bytearray()
        at = start + 1
        while True:
            ch = text[at : at + 1]
            if not ch or ch == "\n":
                raise self.error(self.unterminated, text=text, offset=start)
            if ch == '"':
                break
            if ch == "\\":
                at = self._escape(text, at, out)
            else:
                out += ch.encode("utf-8", "surrogatepass")
                at += 1
        try:
            value = out.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error(self.invalid_utf8, text=text, offset=start) from None
        return value, at + 1

    def _escape(self, text: str, start: int, out: bytearray) -> int:
        # Go's escapes: \x and octal give raw bytes, \u and \U give characters.
        ch = text[start + 1 : start + 2]
        if ch and ch in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[ch])
            return start + 2
        if ch in ("x", "u", "U"):
            first, length, allowed = 2, {"x": 2, "u": 4, "U": 8}[ch], _HEX
        elif ch and ch in _OCTAL:
            first, length, allowed = 1, 3, _OCTAL
        else:
            raise self.error(self.invalid_escape, text=text, offset=start)
        digits = text[start + first : start + first + length]
        if len(digits) < length or any(c not in allowed for c in digits):
            raise self.error(self.invalid_escape, text=text, offset=start)
        code = int(digits, 8 if allowed is _OCTAL else 16)
        if ch in ("u", "U"):
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                message = "escape sequence is not a valid Unicode code point"
                raise self.error(message, text=text, offset=start)
            out += chr(code).encode("utf-8")
        elif code > 255:
            raise self.error("octal escape value is larger than 255", text=text, offset=start)
        else:
            out.append(code)
        return start + first + length


_QUOTED = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote_string(value: str) -> str:
    """A double-quoted string literal that reads back as ``value``; control characters
    other than newline, carriage return and tab become ``\\xNN``."""
    out = ['"']
    for ch in value:
        if ch in _QUOTED:
            out.append(_QUOTED[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
