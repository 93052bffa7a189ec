"""The functions Loki gives its templates: Loki's own (``ToUpper``, ``regexReplaceAll``,
``unixToTime``, ``alignLeft`` ...) and the sprig functions it picks (``upper``,
``trunc``, ``add``, ``date``, ``default`` ...), each with its Go signature.

Sprig's numeric functions read anything as a number the way spf13/cast does (``"3.7"``
is 3 for ``add``, 3.7 for ``addf``; what cannot be read is 0); the ``...f`` functions
compute in decimal, as shopspring/decimal does, so ``addf 0.1 0.2`` is 0.3. Strings are
counted in characters where sprig counts bytes (``trunc``, ``substr``): Loki's own
versions of those count characters, and bytes could cut a character in two.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import urllib.parse
from decimal import ROUND_HALF_UP, Decimal, localcontext

from otelite.query.logql._literals import parse_go_duration as _go_duration
from otelite.query.logql._literals import read_bytes
from otelite.query.logql._strconv import format_float, quote
from otelite.query.logql._template_regex import count_matches, replace_all
from otelite.query.logql._template_time import (
    LOCAL,
    UTC,
    ZERO,
    GoTime,
    clock,
    format_time,
    load_zone,
    now,
)
from otelite.query.logql._template_time_parse import parse_time
from otelite.query.logql._template_values import (
    ANY,
    Function,
    GoError,
    Int64,
    decode_json,
    to_float64,
    to_int64,
    truth,
    wrap_int64,
)

__all__ = ["LOKI_FUNCTIONS", "MAX_RESULT", "TIME_METHODS"]

MAX_RESULT = 1 << 20  # characters: a string function that would make more fails instead

# Parameter types, short so that the table below reads as a list of signatures.
S, N, F, T = "string", "int", "float64", "time.Time"
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    chr(code) for code in range(0x2000, 0x200B)
)


def _sized(length: int) -> None:
    if length > MAX_RESULT:
        raise GoError(f"the result would be {length} characters, over otelite's {MAX_RESULT}")


# -- strings --------------------------------------------------------------------------


def _per_rune(text: str, convert: str) -> str:
    # Go maps each character to one character; Python's upper("ß") is "SS".
    if text.isascii():
        return text.upper() if convert == "upper" else text.lower()
    out = []
    for ch in text:
        mapped = ch.upper() if convert == "upper" else ch.lower()
        out.append(mapped if len(mapped) == 1 else ch)
    return "".join(out)


def _title(text: str) -> str:
    # strings.Title: the first letter of each word in upper case.
    out, previous = [], " "
    for ch in text:
        titled = ch.title() if _separates_words(previous) else ch
        out.append(titled if len(titled) == 1 else ch)
        previous = ch
    return "".join(out)


def _separates_words(ch: str) -> bool:
    # Go's isSeparator: not ASCII letters, digits and _; not Unicode letters and digits;
    # of the rest, only white space.
    if ch.isascii():
        return not (ch.isalnum() or ch == "_")
    return not (ch.isalpha() or ch.isdecimal()) and ch in _GO_SPACE


def _trunc(count: int, text: str) -> str:
    if count < 0 and len(text) + count > 0:
        return text[len(text) + count :]
    return text[:count] if count >= 0 else text


def _substr(start: int, end: int, text: str) -> str:
    end, start = min(end, len(text)), min(start, len(text))
    if start < 0:
        return "" if end < 0 else text[:end]
    if end < 0:
        return text[start:]
    return text[start:end] if start <= end else ""


def _align(count: int, text: str, *, left: bool) -> str:
    if count < 0 or count == len(text):
        return text
    _sized(count)
    if count > len(text):
        return text.ljust(count) if left else text.rjust(count)
    return text[:count] if left else text[len(text) - count :]


def _repeat(count: int, text: str) -> str:
    if count < 0:
        raise GoError("strings: negative Repeat count")
    _sized(count * len(text))
    return text * count


def _indent(spaces: int, text: str) -> str:
    if spaces < 0:
        raise GoError("strings: negative Repeat count")
    _sized(spaces * (text.count("\n") + 1) + len(text))
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


def _go_replace(text: str, old: str, new: str, count: int) -> str:
    # strings.Replace: a negative count replaces all; "" matches around every character.
    found = text.count(old) if old else len(text) + 1
    found = found if count < 0 else min(found, count)
    _sized(len(text) + found * (len(new) - len(old)))
    return text.replace(old, new, count if count >= 0 else -1)


def _b64decode(text: str) -> str:
    # Loki pads input whose = were left off; Go's decoder skips line breaks; an error is
    # returned as the text of the result.
    if len(text) % 4 not in (0, 1):
        text += "=" * (4 - len(text) % 4)
    cleaned = text.replace("\r", "").replace("\n", "")
    try:
        data = base64.b64decode(cleaned, validate=True)
    except binascii.Error:
        alphabet = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        bad = next((i for i, ch in enumerate(cleaned) if ch not in alphabet), len(cleaned))
        return f"illegal base64 data at input byte {bad}"
    return data.decode("utf-8", "replace")


_URL_ESCAPE = re.compile(r"%(?![0-9a-fA-F]{2})")


def _urldecode(text: str) -> str:
    bad = _URL_ESCAPE.search(text)
    if bad:
        raise GoError(f"invalid URL escape {quote(text[bad.start() : bad.start() + 3])}")
    return urllib.parse.unquote_plus(text, errors="replace")


def _bytes(text: str) -> float:
    try:
        return float(read_bytes(text))
    except ValueError as error:
        raise GoError(str(error)) from None


def _duration_seconds(text: str) -> float:
    nanoseconds = _go_duration(text)
    if nanoseconds is None:
        raise GoError(f"time: invalid duration {quote(text)}")
    # Duration.Seconds: whole seconds and the rest, each as a float (Go truncates to 0).
    seconds = abs(nanoseconds) // 1_000_000_000 * (-1 if nanoseconds < 0 else 1)
    return float(seconds) + float(nanoseconds - seconds * 1_000_000_000) / 1e9


# -- numbers --------------------------------------------------------------------------


def _int_division(dividend: int, divisor: int, *, remainder: bool) -> Int64:
    if divisor == 0:
        raise GoError("runtime error: integer divide by zero")
    quotient = abs(dividend) // abs(divisor) * (1 if (dividend < 0) == (divisor < 0) else -1)
    return wrap_int64(dividend - divisor * quotient if remainder else quotient)


def _decimal(value: object) -> Decimal:
    number = to_float64(value)
    if not math.isfinite(number):
        raise GoError(f"Cannot create a Decimal from {format_float(number)}")
    return Decimal(repr(number))  # the shortest decimal that reads back, as NewFromFloat


def _decimal_fold(first: object, rest: tuple[object, ...], operation: str) -> float:
    with localcontext() as context:
        context.prec, context.Emax, context.Emin = 800, 10_000, -10_000
        total = _decimal(first)
        for value in rest:
            operand = _decimal(value)
            if operation == "+":
                total += operand
            elif operation == "-":
                total -= operand
            elif operation == "*":
                total *= operand
            elif operand == 0:
                raise GoError("decimal division by zero")
            else:  # 16 decimal places, half away from zero: shopspring's DivisionPrecision
                total = (total / operand).quantize(Decimal("1e-16"), rounding=ROUND_HALF_UP)
        return float(total)


def _go_max(a: float, b: float, *, larger: bool) -> float:
    # math.Max / math.Min: an infinity wins over NaN, NaN over numbers, +0 over -0.
    if math.isinf(a) and (a > 0) == larger:
        return a
    if math.isinf(b) and (b > 0) == larger:
        return b
    if math.isnan(a) or math.isnan(b):
        return math.nan
    if a == b == 0:
        return a if (math.copysign(1, a) > 0) == larger else b
    return max(a, b) if larger else min(a, b)


def _extreme(first: object, rest: tuple[object, ...], *, larger: bool, floats: bool) -> object:
    if floats:
        result = to_float64(first)
        for value in rest:
            result = _go_max(result, to_float64(value), larger=larger)
        return result
    values = [to_int64(first), *(to_int64(value) for value in rest)]
    return Int64(max(values) if larger else min(values))


def _whole(value: object, *, up: bool) -> float:
    number = to_float64(value)
    if not math.isfinite(number):
        return number
    result = float(math.ceil(number) if up else math.floor(number))
    return result if result else math.copysign(0.0, number)


def _round(value: object, places: int, *round_on: float) -> float:
    # sprig's round: a fraction at or above round_on (0.5 by default) rounds up.
    threshold = round_on[0] if round_on else 0.5
    try:
        power = math.pow(10, places)
    except OverflowError:
        power = math.inf
    digit = power * to_float64(value)
    if power == 0 or math.isnan(digit):
        return math.nan  # Go divides 0 by 0
    if math.isinf(digit):
        return digit / power  # Go's Modf of an infinity gives a NaN fraction: no rounding
    fraction, _ = math.modf(digit)
    rounded = math.ceil(digit) if fraction >= threshold else math.floor(digit)
    return rounded / power


def _default(fallback: object, *given: object) -> object:
    return given[0] if given and truth(given[0]) else fallback


def _from_json(text: str) -> object:
    try:
        return decode_json(text)
    except ValueError:
        return None  # sprig's fromJson ignores the error: the template prints <no value>


# -- time -----------------------------------------------------------------------------


def _date(layout_text: str, value: object) -> str:
    # sprig's date: a time, or whole seconds since the epoch; anything else is now.
    if isinstance(value, GoTime):
        moment = value
    elif isinstance(value, int) and not isinstance(value, bool):
        moment = GoTime(value * 1_000_000_000)
    else:
        moment = now()
    return format_time(GoTime(moment.unix_ns, LOCAL), layout_text)


def _to_date_in_zone(layout_text: str, zone_name: str, text: str) -> GoTime:
    zone = load_zone(zone_name) or UTC
    return parse_time(layout_text, text, zone) or ZERO


def _unix_to_time(text: str) -> GoTime:
    # Loki tells the unit by the number of digits: days, s, ms, us or ns.
    failure = f"unable to parse time '{text}'"
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise GoError(f"{failure}: strconv.ParseInt: parsing {quote(text)}: invalid syntax")
    number = int(text)
    if not -(1 << 63) <= number < 1 << 63:
        raise GoError(f"{failure}: strconv.ParseInt: parsing {quote(text)}: value out of range")
    scale = {5: 86_400 * 10**9, 10: 10**9, 13: 10**6, 16: 10**3, 19: 1}.get(len(text))
    if scale is None:
        raise GoError(f"{failure}: %!w(<nil>)")  # Go wraps a nil error here
    return GoTime(number * scale)


def _epoch(value: GoTime, unit: int) -> str:
    # Unix, UnixMilli: whole units, rounded down; UnixNano wraps as an int64 does.
    return str(value.unix_ns // unit if unit > 1 else wrap_int64(value.unix_ns))


LOKI_FUNCTIONS: dict[str, Function] = {
    # Loki's own, among them Go's strings functions under their Go names.
    "ToLower": Function(lambda s: _per_rune(s, "lower"), (S,)),
    "ToUpper": Function(lambda s: _per_rune(s, "upper"), (S,)),
    "Replace": Function(_go_replace, (S, S, S, N)),
    "Trim": Function(lambda s, cut: s.strip(cut), (S, S)),
    "TrimLeft": Function(lambda s, cut: s.lstrip(cut), (S, S)),
    "TrimRight": Function(lambda s, cut: s.rstrip(cut), (S, S)),
    "TrimPrefix": Function(lambda s, prefix: s.removeprefix(prefix), (S, S)),
    "TrimSuffix": Function(lambda s, suffix: s.removesuffix(suffix), (S, S)),
    "TrimSpace": Function(lambda s: s.strip(_GO_SPACE), (S,)),
    "regexReplaceAll": Function(lambda r, s, n: replace_all(r, s, n, literal=False), (S, S, S)),
    "regexReplaceAllLiteral": Function(
        lambda r, s, n: replace_all(r, s, n, literal=True), (S, S, S)
    ),
    "count": Function(count_matches, (S, S)),
    "urldecode": Function(_urldecode, (S,)),
    "urlencode": Function(lambda s: urllib.parse.quote_plus(s, safe=""), (S,)),
    "bytes": Function(_bytes, (S,)),
    "duration": Function(_duration_seconds, (S,)),
    "duration_seconds": Function(_duration_seconds, (S,)),
    "unixEpochMillis": Function(lambda t: _epoch(t, 1_000_000), (T,)),
    "unixEpochNanos": Function(lambda t: _epoch(t, 1), (T,)),
    "toDateInZone": Function(_to_date_in_zone, (S, S, S)),
    "unixToTime": Function(_unix_to_time, (S,)),
    "alignLeft": Function(lambda n, s: _align(n, s, left=True), (N, S)),
    "alignRight": Function(lambda n, s: _align(n, s, left=False), (N, S)),
    "b64dec": Function(_b64decode, (S,)),
    # sprig's.
    "b64enc": Function(lambda s: base64.b64encode(s.encode()).decode("ascii"), (S,)),
    "lower": Function(lambda s: _per_rune(s, "lower"), (S,)),
    "upper": Function(lambda s: _per_rune(s, "upper"), (S,)),
    "title": Function(_title, (S,)),
    "trunc": Function(_trunc, (N, S)),
    "substr": Function(_substr, (N, N, S)),
    "contains": Function(lambda sub, s: sub in s, (S, S)),
    "hasPrefix": Function(lambda prefix, s: s.startswith(prefix), (S, S)),
    "hasSuffix": Function(lambda suffix, s: s.endswith(suffix), (S, S)),
    "indent": Function(_indent, (N, S)),
    "nindent": Function(lambda n, s: "\n" + _indent(n, s), (N, S)),
    "replace": Function(lambda old, new, s: _go_replace(s, old, new, -1), (S, S, S)),
    "repeat": Function(_repeat, (N, S)),
    "trim": Function(lambda s: s.strip(_GO_SPACE), (S,)),
    "trimAll": Function(lambda cut, s: s.strip(cut), (S, S)),
    "trimSuffix": Function(lambda suffix, s: s.removesuffix(suffix), (S, S)),
    "trimPrefix": Function(lambda prefix, s: s.removeprefix(prefix), (S, S)),
    "int": Function(lambda v: int(to_int64(v)), (ANY,)),
    "float64": Function(to_float64, (ANY,)),
    "add": Function(lambda *v: wrap_int64(sum(map(to_int64, v))), (), ANY),
    "sub": Function(lambda a, b: wrap_int64(to_int64(a) - to_int64(b)), (ANY, ANY)),
    "mul": Function(lambda a, *v: wrap_int64(math.prod(map(to_int64, (a, *v)))), (ANY,), ANY),
    "div": Function(
        lambda a, b: _int_division(to_int64(a), to_int64(b), remainder=False), (ANY, ANY)
    ),
    "mod": Function(
        lambda a, b: _int_division(to_int64(a), to_int64(b), remainder=True), (ANY, ANY)
    ),
    "addf": Function(lambda *v: _decimal_fold(0.0, v, "+"), (), ANY),
    "subf": Function(lambda a, *v: _decimal_fold(a, v, "-"), (ANY,), ANY),
    "mulf": Function(lambda a, *v: _decimal_fold(a, v, "*"), (ANY,), ANY),
    "divf": Function(lambda a, *v: _decimal_fold(a, v, "/"), (ANY,), ANY),
    "max": Function(lambda a, *v: _extreme(a, v, larger=True, floats=False), (ANY,), ANY),
    "min": Function(lambda a, *v: _extreme(a, v, larger=False, floats=False), (ANY,), ANY),
    "maxf": Function(lambda a, *v: _extreme(a, v, larger=True, floats=True), (ANY,), ANY),
    "minf": Function(lambda a, *v: _extreme(a, v, larger=False, floats=True), (ANY,), ANY),
    "ceil": Function(lambda v: _whole(v, up=True), (ANY,)),
    "floor": Function(lambda v: _whole(v, up=False), (ANY,)),
    "round": Function(_round, (ANY, N), F),
    "fromJson": Function(_from_json, (S,)),
    "date": Function(_date, (S, ANY)),
    "toDate": Function(lambda layout_text, s: parse_time(layout_text, s, LOCAL) or ZERO, (S, S)),
    "now": Function(now),
    "unixEpoch": Function(lambda t: _epoch(t, 1_000_000_000), (T,)),
    "default": Function(_default, (ANY,), ANY),
}

# The methods of time.Time a template can call (``{{ __timestamp__.Unix }}``); each
# body takes the time first.
TIME_METHODS: dict[str, Function] = {
    "Format": Function(format_time, (S,)),
    "String": Function(str),
    "Unix": Function(lambda t: Int64(t.unix)),
    "UnixMilli": Function(lambda t: Int64(t.unix_ns // 1_000_000)),
    "UnixMicro": Function(lambda t: Int64(t.unix_ns // 1_000)),
    "UnixNano": Function(lambda t: wrap_int64(t.unix_ns)),
    "UTC": Function(lambda t: GoTime(t.unix_ns, UTC)),
    "Local": Function(lambda t: GoTime(t.unix_ns, LOCAL)),
    "IsZero": Function(lambda t: t.unix_ns == ZERO.unix_ns),
    "Year": Function(lambda t: clock(t).year),
    "YearDay": Function(lambda t: clock(t).year_day),
    "Day": Function(lambda t: clock(t).day),
    "Hour": Function(lambda t: clock(t).hour),
    "Minute": Function(lambda t: clock(t).minute),
    "Second": Function(lambda t: clock(t).second),
    "Nanosecond": Function(lambda t: clock(t).nanosecond),
}
