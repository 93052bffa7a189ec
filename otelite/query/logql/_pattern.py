"""Loki's pattern language, as ``| pattern "..."`` and ``|> "..."`` take it.

A pattern is literal text and captures: ``<name>`` captures into a label, ``<_>`` matches
without capturing. A name is ASCII letters, digits and ``_``, not starting with a digit;
anything else, ``<`` and ``>`` included, is literal. Two captures may not touch, since
nothing would say where one ends.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

__all__ = ["Capture", "parse_pattern", "pattern_problem"]

_CAPTURE = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")


@dataclass(frozen=True, slots=True)
class Capture:
    """``<name>``; ``<_>`` has the name ``_`` and captures nothing."""

    name: str

    @property
    def named(self) -> bool:
        return self.name != "_"


def parse_pattern(text: str) -> tuple[str | Capture, ...]:
    """The literal texts and captures of ``text``, in order; adjacent literal text is one
    string. Every text is a pattern; :func:`pattern_problem` says if it is a usable one."""
    parts: list[str | Capture] = []
    position = 0
    for match in _CAPTURE.finditer(text):
        if match.start() > position:
            parts.append(text[position : match.start()])
        parts.append(Capture(match.group(1)))
        position = match.end()
    if position < len(text):
        parts.append(text[position:])
    return tuple(parts)


def pattern_problem(text: str, *, line_filter: bool) -> str | None:
    """Why Loki refuses ``text`` as a parser's pattern (``line_filter=False``) or as a
    ``|>`` filter's, in Loki's words; None if it does not."""
    if line_filter and not text:
        return None  # an empty pattern filter matches every line
    parts = parse_pattern(text)
    names = [part.name for part in parts if isinstance(part, Capture) and part.named]
    if not line_filter and not names:
        return "at least one capture is required"
    for first, second in itertools.pairwise(parts):
        if isinstance(first, Capture) and isinstance(second, Capture):
            return f"found consecutive capture '<{first.name}><{second.name}>': invalid expression"
    if line_filter and names:
        return f"named captures are not allowed: found '<{names[0]}>'"
    for index, name in enumerate(names):
        if name in names[:index]:
            return f"duplicate capture name ({name}): invalid expression"
    return None
