"""A stream's labels in Prometheus's text form, ``{app="api", env="prod"}``: how Loki's
push API names a stream (the ``labels`` of a protobuf ``StreamAdapter``).

Loki reads it with Prometheus's metric parser; this reads it with LogQL's lexer, whose
strings are Go's (``"..."`` with Go's escapes, or raw between backticks), so a value
unescapes exactly as it does in a query. Like Loki, a pair with an empty value is the
same as no pair; unlike a selector, a label may be named after a LogQL keyword (``by``,
``json``): only Prometheus's rule for names applies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from otelite.query._strings import quote_string
from otelite.query.logql._lexer import TokenKind
from otelite.query.logql._stream import TokenStream

__all__ = ["format_labels", "is_label_name", "parse_labels"]

_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAME_KINDS = (TokenKind.IDENT, TokenKind.KEYWORD, TokenKind.FUNCTION)


def is_label_name(name: str) -> bool:
    """Whether ``name`` is a Prometheus label name, ``[A-Za-z_][A-Za-z0-9_]*``: what Loki
    takes as a stream label's name."""
    return _LABEL_NAME.fullmatch(name) is not None


def parse_labels(text: str) -> dict[str, str]:
    """The labels written as ``{name="value", ...}`` in ``text``, without those whose
    value is empty; :class:`ParseError` when ``text`` is not that form, a name is not a
    label name (``is_label_name``) or a name comes twice."""
    tokens = TokenStream(text)
    tokens.expect("{")
    labels: dict[str, str] = {}
    while not tokens.accept("}"):
        name = tokens.peek()
        if name.kind not in _NAME_KINDS or not is_label_name(name.text):
            raise tokens.unexpected("a label name or }")
        tokens.next()
        if name.text in labels:
            raise tokens.error(f"duplicate label name {name.text!r}", name)
        tokens.expect("=")
        value = tokens.expect_kind(TokenKind.STRING)
        labels[name.text] = str(value.value)
        if not tokens.at("}"):
            tokens.expect(",", "} or ,")
    if not tokens.at_kind(TokenKind.EOF):
        raise tokens.unexpected("the end of the labels")
    return {name: value for name, value in labels.items() if value}


def format_labels(labels: Iterable[tuple[str, str]]) -> str:
    """Labels in the text form :func:`parse_labels` reads, as Prometheus writes them
    (``{app="api", env="prod"}``, in the order given): how Loki names a series."""
    return "{" + ", ".join(f"{name}={quote_string(value)}" for name, value in labels) + "}"
