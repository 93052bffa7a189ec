"""Go's ``fmt`` for template values: what ``{{ }}`` prints, and ``print``, ``println``
and ``printf`` (``%s %d %v %q %f %x %5.2f %-8s %T %%`` ...).

Mistakes do not raise, as in Go: they are written into the text (``%!d(string=abc)``,
``%!s(MISSING)``, ``%!(EXTRA int=1)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from otelite.query.logql._strconv import format_float, quote
from otelite.query.logql._template_time import GoTime, format_time
from otelite.query.logql._template_values import Int64, JsonObject, type_name

__all__ = ["format_value", "print_value", "sprint", "sprintf", "sprintln"]

_MAX_WIDTH = 1_000_000  # Go's fmt refuses larger widths and precisions the same way


@dataclass(frozen=True, slots=True)
class _Spec:
    plus: bool = False
    minus: bool = False
    sharp: bool = False
    space: bool = False
    zero: bool = False
    width: int | None = None
    precision: int | None = None


_PLAIN = _Spec()


def print_value(value: object) -> str:
    """What an action such as ``{{ .x }}`` writes for ``value``."""
    if type(value) is str:
        return value
    return "<no value>" if value is None else format_value(value)


def format_value(value: object) -> str:
    """``value`` as ``%v`` writes it."""
    if type(value) is str:
        return value
    return _format(value, "v", _PLAIN)


def sprint(args: Sequence[object]) -> str:
    """``fmt.Sprint``: a space between two operands when neither is a string."""
    out: list[str] = []
    previous_string = False
    for index, arg in enumerate(args):
        is_string = isinstance(arg, str)
        if index and not is_string and not previous_string:
            out.append(" ")
        out.append(format_value(arg))
        previous_string = is_string
    return "".join(out)


def sprintln(args: Sequence[object]) -> str:
    """``fmt.Sprintln``: spaces between all operands, and a newline."""
    return " ".join(format_value(arg) for arg in args) + "\n"


def sprintf(template: str, args: Sequence[object]) -> str:
    """``fmt.Sprintf``."""
    out: list[str] = []
    used, reordered, at, end = 0, False, 0, len(template)
    while at < end:
        percent = template.find("%", at)
        if percent < 0:
            out.append(template[at:])
            break
        out.append(template[at:percent])
        at = percent + 1
        flags = {"plus": False, "minus": False, "sharp": False, "space": False, "zero": False}
        while at < end and template[at] in "+-# 0":
            flag = {"+": "plus", "-": "minus", "#": "sharp", " ": "space", "0": "zero"}
            flags[flag[template[at]]] = True
            at += 1
        good_index = True
        index, at, found = _arg_index(template, at, len(args))
        if found:
            reordered, good_index, used = (
                True,
                index is not None,
                index if index is not None else used,
            )
        width, at, used, bad_width = _number_or_star(template, at, args, used)
        if width is not None and width < 0:
            width, flags["minus"] = -width, True
        precision: int | None = None
        bad_precision = False
        if at < end and template[at] == ".":
            index, at, found = _arg_index(template, at + 1, len(args))
            if found:
                reordered, good_index = True, index is not None
                used = index if index is not None else used
            precision, at, used, bad_precision = _number_or_star(template, at, args, used)
            if precision is None and not bad_precision:
                precision = 0
            elif precision is not None and precision < 0:
                precision = None
        index, at, found = _arg_index(template, at, len(args))
        if found:
            reordered, good_index = True, index is not None
            used = index if index is not None else used
        if bad_width:
            out.append("%!(BADWIDTH)")
        if bad_precision:
            out.append("%!(BADPREC)")
        if at >= end:
            out.append("%!(NOVERB)")
            break
        verb = template[at]
        at += 1
        spec = _Spec(width=width, precision=precision, **flags)
        if verb == "%":
            out.append("%")
        elif not good_index:
            out.append(f"%!{verb}(BADINDEX)")
        elif used >= len(args):
            out.append(f"%!{verb}(MISSING)")
        else:
            out.append(_format(args[used], verb, spec))
            used += 1
    if not reordered and used < len(args):
        extra = ", ".join(
            "<nil>" if arg is None else f"{type_name(arg)}={format_value(arg)}"
            for arg in args[used:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _arg_index(template: str, at: int, count: int) -> tuple[int | None, int, bool]:
    # An explicit argument index, [n] (1-based): (index or None if bad, position, found).
    if at >= len(template) or template[at] != "[":
        return None, at, False
    close = template.find("]", at)
    if close < 0:
        return None, len(template), True
    digits = template[at + 1 : close]
    if not digits.isdigit() or not 1 <= int(digits) <= count:
        return None, close + 1, True
    return int(digits) - 1, close + 1, True


def _number_or_star(
    template: str, at: int, args: Sequence[object], used: int
) -> tuple[int | None, int, int, bool]:
    # A width or precision: digits, or * taking an int argument. (value, at, used, bad)
    if at < len(template) and template[at] == "*":
        if used >= len(args) or type(args[used]) not in (int, Int64):
            return None, at + 1, used + 1, True
        value = args[used]
        assert isinstance(value, int)
        return value, at + 1, used + 1, abs(value) > _MAX_WIDTH
    start = at
    while at < len(template) and template[at] in "0123456789":
        at += 1
    if at == start:
        return None, at, used, False
    value = int(template[start:at])
    return (None, at, used, True) if value > _MAX_WIDTH else (value, at, used, False)


def _format(value: object, verb: str, spec: _Spec) -> str:
    if verb == "T":
        return _pad(type_name(value), spec)
    if verb == "v" and spec.sharp:
        return _pad("<nil>" if value is None else _go_syntax(value), spec)
    if value is None:
        return _pad("<nil>", spec) if verb == "v" else _bad(value, verb, spec)
    if isinstance(value, bool):
        return _pad("true" if value else "false", spec) if verb in "tv" else _bad(value, verb, spec)
    if isinstance(value, int):
        return _integer(value, verb, spec)
    if isinstance(value, float):
        return _float(value, verb, spec)
    if isinstance(value, str):
        return _string(value, verb, spec)
    if isinstance(value, GoTime):
        return _string(str(value), verb, spec) if verb in "vsqxX" else _bad(value, verb, spec)
    if isinstance(value, list):
        return "[" + " ".join(_format(item, verb, spec) for item in value) + "]"
    if isinstance(value, Mapping):
        pairs = (
            f"{_format(key, verb, spec)}:{_format(value[key], verb, spec)}" for key in sorted(value)
        )
        return "map[" + " ".join(pairs) + "]"
    return _bad(value, verb, spec)


def _bad(value: object, verb: str, spec: _Spec) -> str:
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(value)}={_format(value, 'v', spec)})"


def _pad(text: str, spec: _Spec, *, zero: bool = False) -> str:
    if spec.width is None or len(text) >= spec.width:
        return text
    if spec.minus:
        return text.ljust(spec.width)
    return text.rjust(spec.width, "0" if zero else " ")


def _sign(negative: bool, spec: _Spec) -> str:
    return "-" if negative else "+" if spec.plus else " " if spec.space else ""


def _integer(value: int, verb: str, spec: _Spec) -> str:
    if verb == "c":
        return _pad(_rune(value), spec)
    if verb == "q":
        return _pad(quote(_rune(value), ascii_only=spec.plus, quote_mark="'"), spec)
    if verb == "U":
        text = f"U+{value:04X}"
        if spec.sharp and 0 <= value <= 0x10FFFF and _rune(value).isprintable():
            text += f" '{_rune(value)}'"
        return _pad(text, spec)
    base = {"d": "d", "v": "d", "b": "b", "o": "o", "O": "o", "x": "x", "X": "X"}.get(verb)
    if base is None:
        return _bad(value, verb, spec)
    digits = format(abs(value), base)
    sign = _sign(value < 0, spec)
    if spec.precision is not None:
        digits = "" if spec.precision == 0 and value == 0 else digits.rjust(spec.precision, "0")
    elif spec.zero and not spec.minus and spec.width is not None:
        digits = digits.rjust(spec.width - len(sign), "0")  # Go counts the sign, not 0x
    prefix = ""
    if verb == "O" or (spec.sharp and verb == "o" and not digits.startswith("0")):
        prefix = "0o" if verb == "O" else "0"
    elif spec.sharp and verb in "xXb":
        prefix = {"x": "0x", "X": "0X", "b": "0b"}[verb]
    return _pad(sign + prefix + digits, spec)


def _rune(value: int) -> str:
    valid = 0 <= value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF
    return chr(value) if valid else "\ufffd"


def _float(value: float, verb: str, spec: _Spec) -> str:
    if verb not in "vbeEfFgGxX":
        return _bad(value, verb, spec)
    if math.isnan(value) or math.isinf(value):
        text = "NaN" if math.isnan(value) else "Inf"
        sign = _sign(value < 0, spec) if math.isinf(value) else _sign(False, spec)
        if math.isinf(value) and not sign:
            sign = "+"
        return _pad(sign + text, spec)
    negative = math.copysign(1.0, value) < 0
    magnitude = abs(value)
    precision = spec.precision
    if verb in "eEfF" and precision is None:
        precision = 6
    if verb in "vgG":
        text = format_float(magnitude) if precision is None else f"{magnitude:.{precision}g}"
        text = text.upper() if verb == "G" else text
    elif verb in "eE":
        text = f"{magnitude:.{precision}{verb}}"
    elif verb in "fF":
        text = f"{magnitude:.{precision}f}"
    elif verb == "b":
        mantissa, exponent = math.frexp(magnitude)
        text = f"{int(mantissa * 2**53)}p{exponent - 53:+d}" if magnitude else "0p-1074"
    else:
        text = _hex_float(magnitude, upper=verb == "X")
    sign = _sign(negative, spec)
    if spec.zero and not spec.minus and spec.width is not None:
        return sign + text.rjust(spec.width - len(sign), "0")
    return _pad(sign + text, spec)


def _hex_float(magnitude: float, *, upper: bool) -> str:
    if magnitude == 0:
        text = "0x0p+00"
    else:
        mantissa, _, exponent = magnitude.hex().partition("p")
        mantissa = mantissa.rstrip("0").rstrip(".")
        power = int(exponent)
        text = f"{mantissa}p{'-' if power < 0 else '+'}{abs(power):02d}"
    return text.upper() if upper else text


def _string(value: str, verb: str, spec: _Spec) -> str:
    if spec.precision is not None and verb in "svq":
        value = value[: spec.precision]
    if verb in "sv":
        return _pad(value, spec)
    if verb == "q":
        if spec.sharp and "`" not in value and all(c == "\t" or c.isprintable() for c in value):
            return _pad(f"`{value}`", spec)
        return _pad(quote(value, ascii_only=spec.plus), spec)
    if verb in "xX":
        data = value.encode("utf-8", "surrogatepass")
        if spec.precision is not None:
            data = data[: spec.precision]
        digits = [f"{byte:02{verb}}" for byte in data]
        prefix = ("0x" if verb == "x" else "0X") if spec.sharp else ""
        if spec.space:
            return _pad(" ".join(prefix + digit for digit in digits), spec)
        return _pad(prefix + "".join(digits), spec)
    return _bad(value, verb, spec)


def _go_syntax(value: object) -> str:
    # %#v: the value as Go source would spell it.
    if value is None:
        return "interface {}(nil)"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, bool | int):
        return _format(value, "v", _PLAIN)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, GoTime):
        zone = {"UTC": "time.UTC"}.get(value.zone.name, f"time.Location({quote(value.zone.name)})")
        parts = format_time(value, "2006, 1, 2, 15, 4, 5").split(", ")
        month = format_time(value, "January")
        nanos = value.unix_ns % 1_000_000_000
        return f"time.Date({parts[0]}, time.{month}, {', '.join(parts[2:])}, {nanos}, {zone})"
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(_go_syntax(item) for item in value) + "}"
    if isinstance(value, Mapping):
        kind = "interface {}" if isinstance(value, JsonObject) else "string"
        pairs = ", ".join(f"{quote(key)}:{_go_syntax(value[key])}" for key in sorted(value))
        return f"map[string]{kind}{{{pairs}}}"
    return format_value(value)
