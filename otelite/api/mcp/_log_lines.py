"""Log lines as an agent reads them: grouped by stream, each label said once.

The Loki API answers a log query with its labels by category (``categorize-labels``):
a stream's own labels (what a ``{...}`` selector matches), and per line its structured
metadata and the labels a parser stage added. Lines are taken in the order asked (newest
first unless ``forward``), then grouped by stream into groups of a few lines (so that
one busy stream cannot make one item larger than an answer), ordered by the place of
their first line: reading the groups in order goes through time as asked. In a group,
the labels all its lines share with one value are said once (``shared``); a line keeps
only its own. Left out are the labels that say nothing about what happened:
``observed_timestamp`` (when the record was seen, nearly always its time), ``flags``,
``severity_number`` (``detected_level`` and ``severity_text`` say it in words), the SDK's
name, language and version, and the scope's version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["CATEGORIZED", "line_groups", "lines_per_group"]

CATEGORIZED = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}
"""The header that asks Loki's API for labels by category."""
_LEFT_OUT = frozenset(
    {
        "observed_timestamp",
        "flags",
        "severity_number",
        "telemetry_sdk_language",
        "telemetry_sdk_name",
        "telemetry_sdk_version",
        "scope_version",
    }
)
_LINES_PER_GROUP = 20
_GROUP_CHARS = 1_000


def lines_per_group(budget: int) -> int:
    """How many lines a group holds under an answer's ``budget``: about one per
    thousand characters, so that a group of long lines still fits."""
    return max(1, min(_LINES_PER_GROUP, budget // _GROUP_CHARS))


def line_groups(
    streams: list[Mapping[str, Any]], *, forward: bool, per_group: int
) -> list[dict[str, Any]]:
    """The ``streams`` result of a categorized log query as groups of lines."""
    entries = [
        (int(value[0]), index, value[1], _labels(value[2] if len(value) > 2 else {}))
        for index, stream in enumerate(streams)
        for value in stream["values"]
    ]
    entries.sort(key=lambda entry: entry[0], reverse=not forward)
    groups: list[dict[str, Any]] = []
    open_group: dict[int, dict[str, Any]] = {}
    for at, index, line, labels in entries:
        group = open_group.get(index)
        if group is None or len(group["lines"]) >= per_group:
            group = {"stream": dict(streams[index]["stream"]), "lines": []}
            open_group[index] = group
            groups.append(group)
        group["lines"].append({"time": _time(at), "line": line, "labels": labels})
    for group in groups:
        _share(group)
    return groups


def _labels(categories: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    found = {**categories.get("structuredMetadata", {}), **categories.get("parsed", {})}
    return {k: v for k, v in found.items() if k not in _LEFT_OUT}


def _share(group: dict[str, Any]) -> None:
    """Move the labels every line of ``group`` has, with one value, to ``shared``."""
    lines = group.pop("lines")
    first = lines[0]["labels"]
    shared = {k: v for k, v in first.items() if all(ln["labels"].get(k) == v for ln in lines)}
    if shared and len(lines) > 1:
        group["shared"] = shared
    else:
        shared = {}
    for line in lines:
        own = {k: v for k, v in line.pop("labels").items() if k not in shared}
        if own:
            line["labels"] = own
    group["lines"] = lines


def _time(ns: int) -> str:
    seconds, part = divmod(ns, 10**9)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{part:09d}Z"
