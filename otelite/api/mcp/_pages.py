"""Answers that fit an agent's context: a size budget per answer, a cursor for the rest.

A tool builds its whole answer (already bounded by the API it calls) as a head (what was
asked, totals) and a list of items. ``page`` renders it as compact JSON within a budget of
characters: it keeps as many items as fit, from the cursor's offset, and when some are
left it says so (``more``: how many, and the cursor that continues). Strings longer than
``MAX_TEXT`` are shortened first (marked with ``…`` and said in ``cut``), so that one huge
attribute or log line cannot crowd everything else out.

A cursor is the tool's own arguments and the offset to resume at, encoded (base64url
JSON), with relative times already pinned to absolute ones: the continuation asks the
same question about the same period and is answered from the same API, so it works in
stateless HTTP and across restarts. It is not a secret: it says nothing the caller did
not send, and the API checks the caller's rights on every call.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from mcp.server.mcpserver.exceptions import ToolError

__all__ = [
    "DEFAULT_BUDGET",
    "MAX_BUDGET",
    "MAX_TEXT",
    "MIN_BUDGET",
    "Cursor",
    "budget_of",
    "page",
    "shortened",
]

DEFAULT_BUDGET = 12_000
"""Characters an answer holds by default: about 3,000 tokens."""
MIN_BUDGET = 1_000
MAX_BUDGET = 100_000
MAX_TEXT = 500
"""Characters of one string value kept in an answer (attribute values, log lines)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a paged answer resumes: the tool, its arguments, and the item offset."""

    tool: str
    args: Mapping[str, Any]
    offset: int

    def encode(self) -> str:
        raw = orjson.dumps({"tool": self.tool, "args": self.args, "offset": self.offset})
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, tool: str) -> Cursor:
        """The cursor ``text`` of ``tool``; a ``ToolError`` for anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = orjson.loads(raw)
            found = cls(str(data["tool"]), dict(data["args"]), int(data["offset"]))
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise ToolError(
                "cursor: not a cursor this server gave; pass the `cursor` of an earlier "
                "answer's `more` unchanged, or leave it out"
            ) from None
        if found.tool != tool or found.offset < 0:
            raise ToolError(f"cursor: it continues {found.tool}, not {tool}")
        return found


def budget_of(max_chars: int | None) -> int:
    """The budget asked for, checked: ``max_chars`` or the default."""
    if max_chars is None:
        return DEFAULT_BUDGET
    if not MIN_BUDGET <= max_chars <= MAX_BUDGET:
        raise ToolError(f"max_chars: from {MIN_BUDGET} to {MAX_BUDGET}, got {max_chars}")
    return max_chars


def shortened(value: Any, limit: int = MAX_TEXT) -> tuple[Any, bool]:
    """``value`` with every string longer than ``limit`` cut to it (ending in ``…``), and
    whether any was."""
    if isinstance(value, str):
        return (value[: limit - 1] + "…", True) if len(value) > limit else (value, False)
    if isinstance(value, Mapping):
        cut = False
        out = {}
        for key, item in value.items():
            out[key], was = shortened(item, limit)
            cut |= was
        return out, cut
    if isinstance(value, list | tuple):
        found = [shortened(item, limit) for item in value]
        return [item for item, _ in found], any(was for _, was in found)
    return value, False


def page(
    head: Mapping[str, Any],
    key: str,
    items: Sequence[Any],
    *,
    budget: int,
    cursor: Cursor,
    notes: Sequence[str] = (),
) -> str:
    """``head`` and the items from ``cursor.offset`` under ``key``, as JSON of at most
    ``budget`` characters: as many items as fit, then ``more`` with the cursor of the next
    ones. ``notes`` say what the tool itself left out (the API's own bounds)."""
    trimmed, cut_text = shortened(list(items[cursor.offset :]))
    said = list(notes)
    if cut_text:
        said.append(f"strings longer than {MAX_TEXT} characters are shortened, ending in …")
    answer: dict[str, Any] = {**head, key: [], "total": len(items)}
    if cursor.offset:
        answer["offset"] = cursor.offset
    if said:
        answer["cut"] = said
    # Room for the `more` entry a cut answer carries.
    reserve = len(_more(Cursor(cursor.tool, cursor.args, len(items)), len(items), key)) + 40
    used = len(_text(answer)) + reserve
    kept = 0
    for item in trimmed:
        size = len(_text(item)) + 1
        # The first item always goes, so that a continuation always moves on.
        if used + size > budget and kept:
            break
        answer[key].append(item)
        used += size
        kept += 1
    left = len(trimmed) - kept
    if left:
        after = Cursor(cursor.tool, cursor.args, cursor.offset + kept)
        answer["more"] = orjson.loads(_more(after, left, key))
    return _text(answer)


def _more(cursor: Cursor, left: int, key: str) -> str:
    return _text(
        {
            "left": left,
            "cursor": cursor.encode(),
            "how": f"call {cursor.tool} with only this cursor for the next {key}",
        }
    )


def _text(value: Any) -> str:
    return orjson.dumps(value).decode()
