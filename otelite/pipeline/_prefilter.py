"""A first look at a request's bytes: could redaction change anything in it?

Walking every attribute of every span in Python costs several microseconds a span, far
more than the rest of ingest can spare, while almost every request holds nothing to
redact. So the rules' patterns are first run over the serialized request as it arrived
(the protobuf bytes, in which every string, key and value, lies whole), all at once, by
RE2 (linear time, in C); only a request where one could match is walked.

The scan must never miss what the walk would change, so each pattern is widened for it:
anchors and word boundaries are dropped (in the bytes, a string's neighbours are the
protobuf framing, not what the walk sees), and the patterns are read with ASCII classes
on both sides (``re.ASCII`` for the walk). A pattern RE2 cannot take (lookarounds,
backreferences, atomic groups) or holding non-ASCII characters leaves the rules without a
scan: every request is walked. So does the allow-list mode, which changes almost every
record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import re2

__all__ = ["Scan", "scan_for"]

_UNSUPPORTED = ("(?=", "(?!", "(?<=", "(?<!", "(?P=", "(?(", "(?>", "*+", "++", "?+", "}+")
_BACKREFERENCE = re.compile(r"\\[1-9]")
_DROPPED_ESCAPES = frozenset("bBAZz")


class Scan:
    """``may_match(data)``: whether any of the patterns matches somewhere in ``data``."""

    def __init__(self, pattern: str) -> None:
        options = re2.Options()
        options.encoding = re2.Options.Encoding.LATIN1
        self._pattern = re2.compile(pattern.encode("ascii"), options=options)

    def may_match(self, data: bytes) -> bool:
        return self._pattern.search(data) is not None


def scan_for(keys: Iterable[str], patterns: Iterable[str]) -> Scan | None:
    """The scan for exact ``keys`` and regular expressions ``patterns`` (Python syntax);
    None when one of them cannot be scanned for (non-ASCII, or beyond RE2)."""
    parts = []
    for key in keys:
        if not key.isascii():
            return None
        parts.append(re.escape(key))
    for pattern in patterns:
        widened = widen(pattern)
        if widened is None:
            return None
        parts.append(widened)
    if not parts:
        return None
    try:
        return Scan("|".join(f"(?:{part})" for part in parts))
    except re2.error:
        return None


def widen(pattern: str) -> str | None:
    """``pattern`` without its anchors and word boundaries (outside character classes),
    so that it matches wherever it did and maybe more; None when RE2 cannot take it."""
    if not pattern.isascii() or any(s in pattern for s in _UNSUPPORTED):
        return None
    if _BACKREFERENCE.search(pattern):
        return None
    out: list[str] = []
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            escaped = pattern[index + 1 : index + 2]
            if not in_class and escaped in _DROPPED_ESCAPES:
                index += 2
                continue
            out.append(pattern[index : index + 2])
            index += 2
        elif char == "[" and not in_class:
            in_class = True
            out.append(char)
            index += 1
            # A class's leading ^ negates, and a ] right after [ or [^ is a literal.
            for literal in ("^", "]"):
                if pattern[index : index + 1] == literal:
                    out.append(literal)
                    index += 1
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
            index += 1
        elif char in "^$" and not in_class:
            index += 1
        else:
            out.append(char)
            index += 1
    return "".join(out)
