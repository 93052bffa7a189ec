"""Go's ``regexp`` for the template functions ``regexReplaceAll``,
``regexReplaceAllLiteral`` and ``count``: patterns read as RE2 (``_regex``), errors as
Go's, replacements as Go's ``Regexp.Expand`` (``$1``, ``${1}``, ``$name``, ``$$``), and
"replace all" and "find all" skipping an empty match right after a match, as Go does.
"""

from __future__ import annotations

import functools
import re

from otelite.query.logql import _regex
from otelite.query.logql._template_values import GoError

__all__ = ["compile_re2", "count_matches", "replace_all"]


@functools.lru_cache(maxsize=256)
def compile_re2(pattern: str) -> re.Pattern[str]:
    """``pattern`` read as RE2 reads it; raises :class:`GoError` with Go's wording."""
    try:
        return _regex.compile_re2(pattern)
    except _regex.RegexError as error:
        raise GoError(str(error)) from None


def _matches(regex: re.Pattern[str], text: str) -> list[re.Match[str]]:
    # Go's "all" matching: an empty match right after the previous match is skipped.
    found: list[re.Match[str]] = []
    previous_end = -1
    for match in regex.finditer(text):
        if match.start() == match.end() == previous_end:
            continue
        found.append(match)
        previous_end = match.end()
    return found


def count_matches(pattern: str, text: str) -> int:
    """Loki's ``count``: how many matches ``FindAllStringIndex`` finds."""
    return len(_matches(compile_re2(pattern), text))


def replace_all(pattern: str, text: str, replacement: str, *, literal: bool) -> str:
    """``ReplaceAllString`` (``$`` expanded) or ``ReplaceAllLiteralString``."""
    regex = compile_re2(pattern)
    out: list[str] = []
    at = 0
    for match in _matches(regex, text):
        out.append(text[at : match.start()])
        out.append(replacement if literal else _expand(replacement, match))
        at = match.end()
    out.append(text[at:])
    return "".join(out)


_REFERENCE = re.compile(r"\$(?:\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


def _expand(template: str, match: re.Match[str]) -> str:
    # Go's Regexp.Expand: $name takes the longest run of letters, digits and _ ("$1x"
    # is the group named 1x); a group that does not exist or did not match gives "".
    def reference(found: re.Match[str]) -> str:
        name = found.group(1) or found.group(2)
        if name is None:
            return "$"
        try:
            group = match.group(int(name) if name.isdigit() else name)
        except IndexError:  # no such group
            return ""
        return group or ""

    return _REFERENCE.sub(reference, template)
