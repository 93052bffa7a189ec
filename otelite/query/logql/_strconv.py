"""Go's ``strconv`` as LogQL meets it: literals in, numbers and quotes out.

Label filters and ``unwrap`` read numbers as Go's ``ParseFloat`` does. Templates are
Go ``text/template`` source, so their string, character and number literals follow Go's
lexical rules (``"\\x41"``, ``'a'``, ``0x1F``, ``1_000``), and the numbers they print
follow ``fmt``'s ``%v`` (``3``, ``0.5``, ``1e+06``). Python's own spellings differ in
small ways (``1000000.0``, ``'\\x07'``), hence this module.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

__all__ = [
    "format_float",
    "go_float",
    "parse_float",
    "parse_int",
    "quote",
    "unquote",
    "unquote_char",
]

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1

# ParseInt with base 0: a sign, then 0x / 0o / 0b / a leading 0 (octal) / decimal, with
# underscores only between digits (or right after a base prefix).
_INT_FORMS = (
    (re.compile(r"0[xX](?:_?[0-9a-fA-F])+"), 16, 2),
    (re.compile(r"0[bB](?:_?[01])+"), 2, 2),
    (re.compile(r"0[oO](?:_?[0-7])+"), 8, 2),
    (re.compile(r"0(?:_?[0-7])*"), 8, 1),
    (re.compile(r"[1-9](?:_?[0-9])*"), 10, 0),
)
# ParseFloat: a sign, then decimal or hexadecimal digits (a hexadecimal mantissa needs a
# binary exponent) with underscores only between digits or right after ``0x``; or
# infinity (signed or not) or an unsigned NaN, in any case.
_GO_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)"
    r"(?:[eE][+-]?[0-9](?:_?[0-9])*)?"
    r"|0[xX](?:_?[0-9a-fA-F](?:_?[0-9a-fA-F])*(?:\.(?:[0-9a-fA-F](?:_?[0-9a-fA-F])*)?)?"
    r"|\.[0-9a-fA-F](?:_?[0-9a-fA-F])*)[pP][+-]?[0-9](?:_?[0-9])*"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
    r"|[nN][aA][nN]"
)


def parse_int(text: str, *, unsigned: bool = False) -> int | None:
    """Go's ``strconv.ParseInt(text, 0, 64)`` (``ParseUint`` if ``unsigned``), or None."""
    body, negative = text, False
    if body[:1] in ("+", "-"):
        if unsigned:
            return None
        negative, body = body[0] == "-", body[1:]
    for form, base, prefix in _INT_FORMS:
        if form.fullmatch(body):
            value = int(body[prefix:].replace("_", "") or "0", base)
            value = -value if negative else value
            low, high = (0, (1 << 64) - 1) if unsigned else (_INT64_MIN, _INT64_MAX)
            return value if low <= value <= high else None
    return None


def go_float(text: str) -> float:
    """``text`` as Go's ``strconv.ParseFloat(text, 64)`` reads it: decimal and
    hexadecimal, with underscores between digits, and the spellings of infinity and NaN;
    ``ValueError`` in Go's words where it is no float or a finite spelling overflows."""
    if not _GO_FLOAT.fullmatch(text):
        raise ValueError(f'strconv.ParseFloat: parsing "{text}": invalid syntax')
    body = text.lstrip("+-").replace("_", "").lower()
    if body[:1] in ("i", "n"):
        value = float(body[:3])
    elif body[:2] == "0x":
        try:
            value = float.fromhex(body)
        except OverflowError:
            value = math.inf
    else:
        value = float(body)
    if math.isinf(value) and body[:1] != "i":
        raise ValueError(f'strconv.ParseFloat: parsing "{text}": value out of range')
    return -value if text[:1] == "-" else value


def parse_float(text: str) -> float | None:
    """A finite number from Go's ``strconv.ParseFloat(text, 64)``, or None: how a
    template reads a number, where infinity and NaN are no number."""
    try:
        value = go_float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}


def unquote_char(text: str, at: int, quote: str) -> tuple[bytes, int] | None:
    """One character of a Go literal quoted by ``quote`` starting at ``text[at]``: its
    UTF-8 bytes and the index after it, or None if it is not valid there."""
    ch = text[at]
    if ch == quote and quote in "'\"":
        return None
    if ch != "\\":
        return ch.encode("utf-8", "surrogatepass"), at + 1
    escape = text[at + 1 : at + 2]
    if escape in _SIMPLE_ESCAPES:
        return bytes([_SIMPLE_ESCAPES[escape]]), at + 2
    if escape in ("'", '"'):
        return (escape.encode(), at + 2) if escape == quote else None
    width = {"x": 2, "u": 4, "U": 8}.get(escape)
    if width is not None:
        digits = text[at + 2 : at + 2 + width]
        if len(digits) < width or not all(c in "0123456789abcdefABCDEF" for c in digits):
            return None
        code = int(digits, 16)
        if escape == "x":
            return bytes([code]), at + 2 + width
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code).encode("utf-8"), at + 2 + width
    digits = text[at + 1 : at + 4]
    if len(digits) == 3 and all(c in "01234567" for c in digits) and int(digits, 8) <= 255:
        return bytes([int(digits, 8)]), at + 4
    return None


def unquote(literal: str) -> str | None:
    """Go's ``strconv.Unquote`` of a ``"..."`` or ```...``` literal, or None if it is
    not valid. Bytes that are not UTF-8 (from ``\\x`` or octal escapes) become U+FFFD."""
    if len(literal) >= 2 and literal[0] == literal[-1] == "`":
        return literal[1:-1].replace("\r", "")
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        return None
    body, out, at = literal[1:-1], bytearray(), 0
    if "\\" not in body and '"' not in body and "\n" not in body:
        return body
    while at < len(body):
        if body[at] == "\n":
            return None
        step = unquote_char(body, at, '"')
        if step is None:
            return None
        chunk, at = step
        out += chunk
    return out.decode("utf-8", "replace")


_QUOTE_ESCAPES = {chr(code): "\\" + letter for letter, code in _SIMPLE_ESCAPES.items()}


def quote(text: str, *, ascii_only: bool = False, quote_mark: str = '"') -> str:
    """Go's ``strconv.Quote`` (``QuoteToASCII`` if ``ascii_only``; ``QuoteRune`` style
    with ``quote_mark="'"``)."""
    out = [quote_mark]
    for ch in text:
        code = ord(ch)
        if ch == quote_mark or ch == "\\":
            out.append("\\" + ch)
        elif ch.isprintable() and (code < 0x80 or not ascii_only):
            out.append(ch)
        elif ch in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append(quote_mark)
    return "".join(out)


def format_float(value: float) -> str:
    """A float64 as Go's ``%v`` writes it: the shortest digits that read back, in
    ``%e`` form when the exponent is below -4 or at least 6 (``1e+06``, ``1.5e-05``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    assert isinstance(exponent, int)  # finite: never 'n', 'N' or 'F'
    point = len(digit_tuple) + exponent  # digits before the decimal point
    prefix = "-" if sign else ""
    if point - 1 < -4 or point - 1 >= 6:
        power = point - 1
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return prefix + digits + "0" * (point - len(digits))
    return f"{prefix}{digits[:point]}.{digits[point:]}"
