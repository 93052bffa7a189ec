"""The functions every Go template has: ``and or not len index slice print printf
println html js urlquery`` and the comparisons ``eq ne lt le gt ge``.

Comparisons follow Go's rules, stricter than Python's: the two sides must be of the
same basic kind (``eq "200" 200`` is an error, "incompatible types for comparison",
since labels are strings), ``eq`` takes several right-hand sides (true if any is equal),
and only ``eq``/``ne`` compare anything but booleans, numbers and strings. ``and`` and
``or`` are here for their signatures; evaluation short-circuits them.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote_plus

from otelite.query.logql._template_fmt import format_value, sprint, sprintf, sprintln
from otelite.query.logql._template_values import (
    ANY,
    Function,
    GoError,
    JsonObject,
    truth,
    type_name,
)

__all__ = ["BUILTINS"]


def _basic_kind(value: object) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return None  # nil, lists, maps and times: no basic kind


def _eq(first: object, *others: object) -> bool:
    if not others:
        raise GoError("missing argument for comparison")
    first_kind = _basic_kind(first)
    for other in others:
        other_kind = _basic_kind(other)
        if first_kind != other_kind:
            if first is not None and other is not None:
                raise GoError("incompatible types for comparison")
            equal = False  # nil is unequal to anything but nil
        elif first_kind is not None:
            equal = first == other
        else:
            equal = _eq_composite(first, other)
        if equal:
            return True
    return False


def _eq_composite(first: object, other: object) -> bool:
    # Neither is a bool, number or string: nil, lists, maps, times. Of these only nil
    # and times compare.
    if first is None or other is None:
        return first is None and other is None
    if _composite_kind(first) != _composite_kind(other):
        raise GoError(
            f"non-comparable types {format_value(first)}: {type_name(first)}, "
            f"{type_name(other)}: {format_value(other)}"
        )
    if isinstance(other, list | Mapping):
        raise GoError(f"non-comparable type {format_value(other)}: {type_name(other)}")
    return first == other


def _composite_kind(value: object) -> str:
    return "slice" if isinstance(value, list) else "map" if isinstance(value, Mapping) else "struct"


def _lt(first: object, second: object) -> bool:
    first_kind, second_kind = _basic_kind(first), _basic_kind(second)
    if first_kind is None or second_kind is None:
        raise GoError("invalid type for comparison")
    if first_kind != second_kind:
        raise GoError("incompatible types for comparison")
    if first_kind == "bool":
        raise GoError("invalid type for comparison")
    return bool(first < second)  # type: ignore[operator]  # of one basic kind: ordered


def _le(first: object, second: object) -> bool:
    return _lt(first, second) or _eq(first, second)


def _length(value: object) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))  # Go counts bytes
    if isinstance(value, list | Mapping):
        return len(value)
    if value is None:
        raise GoError("len of untyped nil")
    raise GoError(f"len of type {type_name(value)}")


def _position(index: object, length: int, *, allow_end: bool) -> int:
    if index is None:
        raise GoError("cannot index slice/array with nil")
    if not isinstance(index, int) or isinstance(index, bool):
        raise GoError(f"cannot index slice/array with type {type_name(index)}")
    if index < 0 or index > length or (index == length and not allow_end):
        raise GoError(f"index out of range: {index}")
    return index


def _index(item: object, *indexes: object) -> object:
    if item is None:
        raise GoError("index of untyped nil")
    for index in indexes:
        if isinstance(item, str):
            data = item.encode("utf-8", "surrogatepass")
            item = data[_position(index, len(data), allow_end=False)]  # a byte, as in Go
        elif isinstance(item, list):
            item = item[_position(index, len(item), allow_end=False)]
        elif isinstance(item, Mapping):
            if not isinstance(index, str):
                if index is None:
                    raise GoError("value is nil; should be of type string")
                raise GoError(f"value has type {type_name(index)}; should be string")
            # A missing key gives the zero value: nil in JSON, "" among labels.
            item = item.get(index) if isinstance(item, JsonObject) else item.get(index, "")
        elif item is None:
            raise GoError("index of nil pointer")
        else:
            raise GoError(f"can't index item of type {type_name(item)}")
    return item


def _slice(item: object, *indexes: object) -> object:
    if item is None:
        raise GoError("slice of untyped nil")
    if len(indexes) > 3:
        raise GoError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise GoError("cannot 3-index slice a string")
        data = item.encode("utf-8", "surrogatepass")
        start, end = _bounds(indexes, len(data))
        return data[start:end].decode("utf-8", "replace")
    if isinstance(item, list):
        start, end = _bounds(indexes[:2], len(item))
        if len(indexes) == 3:
            _position(indexes[2], len(item), allow_end=True)
        return item[start:end]
    raise GoError(f"can't slice item of type {type_name(item)}")


def _bounds(indexes: tuple[object, ...], length: int) -> tuple[int, int]:
    start = _position(indexes[0], length, allow_end=True) if indexes else 0
    end = _position(indexes[1], length, allow_end=True) if len(indexes) > 1 else length
    if start > end:
        raise GoError(f"invalid slice index: {start} > {end}")
    return start, end


def _text_of(args: tuple[object, ...]) -> str:
    # Go's evalArgs: a lone string as it is, anything else as fmt.Sprint writes it.
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(args)


_JS_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}
_HTML_ESCAPES = str.maketrans(
    {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}
)


def _js(*args: object) -> str:
    out = []
    for ch in _text_of(args):
        if ch in _JS_ESCAPES:
            out.append(_JS_ESCAPES[ch])
        elif ch < " " or (not ch.isascii() and not ch.isprintable()):
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


BUILTINS: dict[str, Function] = {
    "and": Function(lambda *values: values[-1], (ANY,), ANY),
    "or": Function(lambda *values: values[-1], (ANY,), ANY),
    "not": Function(lambda value: not truth(value), (ANY,)),
    "len": Function(_length, (ANY,)),
    "index": Function(_index, (ANY,), ANY),
    "slice": Function(_slice, (ANY,), ANY),
    "print": Function(lambda *args: sprint(args), (), ANY),
    "printf": Function(lambda template, *args: sprintf(template, args), ("string",), ANY),
    "println": Function(lambda *args: sprintln(args), (), ANY),
    "html": Function(lambda *args: _text_of(args).translate(_HTML_ESCAPES), (), ANY),
    "js": Function(_js, (), ANY),
    "urlquery": Function(lambda *args: quote_plus(_text_of(args), safe=""), (), ANY),
    "eq": Function(_eq, (ANY,), ANY),
    "ne": Function(lambda a, b: not _eq(a, b), (ANY, ANY)),
    "lt": Function(_lt, (ANY, ANY)),
    "le": Function(_le, (ANY, ANY)),
    "gt": Function(lambda a, b: not _le(a, b), (ANY, ANY)),
    "ge": Function(lambda a, b: not _lt(a, b), (ANY, ANY)),
}
