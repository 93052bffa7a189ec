"""Reading logfmt (``a=1 b="two words" flag``) as Loki's decoder does
(``pkg/logql/log/logfmt/decode.go``, after go-logfmt): a key without ``=`` has no value,
a quoted value may hold JSON-style escapes, and a malformed pair is skipped with an error
that only ``logfmt --strict`` reports."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

__all__ = ["LogfmtError", "decoded", "pairs"]

# Bytes at or below the space are separators ("garbage" to the decoder).
_SPACE = r"\x00- "
_GARBAGE = re.compile(f"[{_SPACE}]*")
_KEY = re.compile(f'[^={_SPACE}"]*')
_TO_SPACE = re.compile(f"[^{_SPACE}]*")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
# Lines without escapes or stray quotes and equals signs, the usual kind, read in one
# pass: where the whole line is such pairs, each pair is what the decoder would read.
# The runs are possessive (a key or a value is never split), so a line of another kind
# fails in one pass too.
_PAIR = f'([^={_SPACE}"]++)(=(?:"([^"\\\\]*+)"|([^={_SPACE}"]*+)))?'
_PLAIN_LINE = re.compile(f"[{_SPACE}]*+(?:{_PAIR}[{_SPACE}]*+)*+")
_PLAIN_PAIR = re.compile(_PAIR)


class LogfmtError(ValueError):
    """Where and why a line is not logfmt, as Loki says it."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(f"logfmt syntax error at pos {position} : {message}")


def pairs(line: str) -> Iterator[tuple[str, str | None] | LogfmtError]:
    """Each pair of ``line`` in order: (key, value), value None for a bare key; a pair
    the decoder cannot read is an error in the stream, after which decoding goes on
    (``--strict`` stops there)."""
    if _PLAIN_LINE.fullmatch(line):
        for key, equals, quoted, bare in _PLAIN_PAIR.findall(line):
            yield key, (quoted or bare) if equals else None
    else:
        yield from decoded(line)


def decoded(line: str) -> Iterator[tuple[str, str | None] | LogfmtError]:
    """:func:`pairs` the decoder's way, character after character."""
    at, end = 0, len(line)
    while True:
        at = _end(_GARBAGE, line, at)
        if at >= end:
            return
        key_end = _end(_KEY, line, at)
        key = line[at:key_end]
        if key_end >= end or line[key_end] <= " ":
            at = key_end
            yield key, None
            continue
        stop = line[key_end]
        if stop == '"' or not key:
            yield LogfmtError(key_end + 1, f"unexpected {_go_quote(stop)}")
            at = _end(_TO_SPACE, line, key_end)
            continue
        # key=
        at = key_end + 1
        if at >= end or line[at] <= " ":
            yield key, ""
            continue
        if line[at] == '"':
            quoted = _QUOTED.match(line, at)
            if quoted is None:
                yield LogfmtError(end + 1, "unterminated quoted value")
                return
            at = quoted.end()
            text = quoted.group(1)
            if "\\" in text:
                try:
                    value = json.loads(quoted.group(0), strict=False)
                except ValueError:
                    yield LogfmtError(at + 1, "invalid quoted value")
                    continue
                yield key, value
            else:
                yield key, text
            continue
        value_end = _end(_KEY, line, at)
        if value_end < end and line[value_end] > " ":
            yield LogfmtError(value_end + 1, f"unexpected {_go_quote(line[value_end])}")
            at = _end(_TO_SPACE, line, value_end)
            continue
        yield key, line[at:value_end]
        at = value_end


def _end(run: re.Pattern[str], line: str, at: int) -> int:
    """Where the run of ``run`` (which matches the empty text) from ``at`` ends."""
    match = run.match(line, at)
    return at if match is None else match.end()


def _go_quote(ch: str) -> str:
    """Go's ``%q`` of a byte: ``'"'``, ``'='``."""
    return "'\"'" if ch == '"' else f"'{ch}'"
