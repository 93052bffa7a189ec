"""LogQL's parser stages ``logfmt``, ``regexp`` and ``pattern`` (``json`` and ``unpack``
are ``_json_parsers``'), and the naming rules every parser keeps, as Loki runs them
(``pkg/logql/log/parser.go``).

Each turns parts of the line into parsed labels and never drops a line: a line it cannot
read gets ``__error__`` (``JSONParserErr``, ``LogfmtParserErr``) and the reason in
``__error_details__``. Extracted names are sanitised (characters outside
``[A-Za-z0-9_]`` become ``_``, a leading digit gets ``_``), a name a stream label or a
metadata field already has becomes ``name_extracted``, and a label an earlier parser set
on the entry is not overwritten.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

from otelite.errors import InvalidRequest
from otelite.query.logql._ast import (
    Extraction,
    LogfmtParser,
    PatternParser,
    RegexpParser,
)
from otelite.query.logql._entries import EXTRACTED, Entries, EntryLabels
from otelite.query.logql._logfmt import LogfmtError, pairs
from otelite.query.logql._match import pattern_captures
from otelite.query.logql._regex import compile_re2

__all__ = [
    "LOGFMT_ERROR",
    "StageRun",
    "claim",
    "logfmt_stage",
    "pattern_stage",
    "regexp_stage",
    "sanitize_key",
]

LOGFMT_ERROR = "LogfmtParserErr"
_INVALID = re.compile(r"[^A-Za-z0-9_]")

StageRun = Callable[[Entries], Entries]
"""A stage over a batch: the entries that pass it, lines and labels as it leaves them."""


def sanitize_key(key: str, *, first: bool = True) -> str:
    """An extracted key as a label name (Loki's ``sanitizeLabelKey``); a part of a name
    after the ``first`` keeps a leading digit."""
    return _sanitized(key) if first else _INVALID.sub("_", key.strip())


@lru_cache(maxsize=4096)
def _sanitized(key: str) -> str:
    # Remembered: the same keys come back line after line.
    key = key.strip()
    if key and "0" <= key[0] <= "9":
        key = "_" + key
    return _INVALID.sub("_", key)


def claim(labels: EntryLabels, name: str) -> str | None:
    """The name a parser sets ``name`` under, None when it must leave it."""
    if labels.clashes(name):
        name += EXTRACTED
    return None if name in labels.extracted else name


# --- logfmt ------------------------------------------------------------------------------


def logfmt_stage(stage: LogfmtParser) -> StageRun:
    """``| logfmt``: every pair, or only ``stage.extractions``' keys."""
    if stage.extractions:
        return _logfmt_keys(stage.extractions, strict=stage.strict)
    strict, keep_empty = stage.strict, stage.keep_empty

    def run(entries: Entries) -> Entries:
        for line, labels in zip(entries.lines, entries.labels, strict=True):
            for key, value in _pairs(line, labels, strict=strict):
                name = sanitize_key(key)
                claimed = claim(labels, name) if name else None
                if claimed is None or (not keep_empty and not value):
                    continue
                labels.set_parsed(claimed, value or "")
        return entries

    return run


def _pairs(line: str, labels: EntryLabels, *, strict: bool) -> Iterator[tuple[str, str | None]]:
    """The pairs of ``line``; one that does not read is skipped, or with ``strict`` ends
    the line and leaves its error on the entry."""
    for pair in pairs(line):
        if isinstance(pair, LogfmtError):
            if strict:
                labels.set_error(LOGFMT_ERROR, str(pair))
                return
            continue
        yield pair


def _logfmt_keys(extractions: Sequence[Extraction], *, strict: bool) -> StageRun:
    for extraction in extractions:
        key = extraction.expression
        if not key or sanitize_key(key) != key:
            raise InvalidRequest(
                f"cannot parse expression [{extraction.expression}]: logfmt extractions name a key"
            )
    wanted = {e.expression: e.label for e in reversed(extractions)}
    ids = [e.label for e in extractions]

    def run(entries: Entries) -> Entries:
        for line, labels in zip(entries.lines, entries.labels, strict=True):
            for label in ids:
                if not labels.clashes(label):
                    labels.set_parsed(label, "")
            for key, value in _pairs(line, labels, strict=strict):
                found = wanted.get(sanitize_key(key))
                if found is None:
                    continue
                label = found
                if labels.clashes(label):
                    label += EXTRACTED
                    if label in labels.extracted:
                        break
                labels.set_parsed(label, value or "")
        return entries

    return run


# --- regexp and pattern ----------------------------------------------------------------


def regexp_stage(stage: RegexpParser) -> StageRun:
    """``| regexp "(?P<name>...)"``: the named groups of the first match; a line that
    does not match keeps its labels."""
    regex = compile_re2(stage.regex)
    names = list(regex.groupindex)
    if not names:
        raise InvalidRequest("at least one named capture must be supplied")
    keys = [(name, sanitize_key(name)) for name in names]

    def run(entries: Entries) -> Entries:
        search = regex.search
        for line, labels in zip(entries.lines, entries.labels, strict=True):
            match = search(line)
            if match is None:
                continue
            for group, key in keys:
                name = claim(labels, key)
                if name is not None:
                    labels.set_parsed(name, match.group(group) or "")
        return entries

    return run


def pattern_stage(stage: PatternParser) -> StageRun:
    """``| pattern "<ip> - <_> <method>"``: the named captures, as far as the line
    matches from its start."""
    captures = pattern_captures(stage.pattern)

    def run(entries: Entries) -> Entries:
        for line, labels in zip(entries.lines, entries.labels, strict=True):
            for name, value in captures(line):
                claimed = claim(labels, name)
                if claimed is not None:
                    labels.set_parsed(claimed, value)
        return entries

    return run
