"""The one error the LogQL package raises for bad input."""

from __future__ import annotations

from otelite.query._text import QuerySyntaxError

__all__ = ["ParseError"]


class ParseError(QuerySyntaxError):
    """A query that is not valid LogQL: ``line``, ``column``, ``excerpt`` and ``message``
    say where and why, and ``str(error)`` starts like Loki's message (``parse error at
    line 1, col 14: syntax error: unexpected ...``) so that clients which match on it keep
    working."""
