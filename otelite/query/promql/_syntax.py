"""PromQL text as ``promql-parser``'s syntax tree, and the parts of the tree otelite
reads as its own values: a selector's matchers, a binary operator's vector matching.

Parse errors carry their place where the parser's reason names one (``_errors``).
"""

from __future__ import annotations

from typing import Any

import promql_parser as pp

from otelite.errors import InvalidRequest
from otelite.query.promql._binary import Matching
from otelite.query.promql._errors import parse_error
from otelite.query.promql._selection import Matcher
from otelite.query.promql._series import NAME

__all__ = ["matching", "parse", "query_selectors", "selector", "selector_matchers"]


def parse(text: str) -> Any:
    """The expression's syntax tree; ``ParseError`` with the parser's reason and, where
    the reason names one, its place."""
    try:
        return pp.parse(text)
    except ValueError as error:
        raise parse_error(text, str(error)) from None


def selector_matchers(text: str) -> list[Matcher]:
    """The matchers of a series selector (``match[]``: ``up{job="a"}``)."""
    node = parse(text)
    if not isinstance(node, pp.VectorSelector):
        raise InvalidRequest(f'invalid parameter "match[]": {text!r} is not a series selector')
    return selector(node)


def query_selectors(expr: Any) -> list[list[Matcher]]:
    """The matchers of every series selector in an expression."""
    found: list[list[Matcher]] = []

    def visit(node: Any) -> bool:
        if isinstance(node, pp.VectorSelector):
            found.append(selector(node))
        return True

    pp.walk(expr, visit)
    return found


def selector(node: Any) -> list[Matcher]:
    """The matchers of a vector selector node, its name among them."""
    if node.matchers.or_matchers:
        raise InvalidRequest("selectors with `or` between matchers are not supported yet")
    matchers = [_matcher(m) for m in node.matchers.matchers]
    if node.name:
        matchers.append(Matcher(NAME, "=", node.name))
    if not any(m.op in ("=", "=~") and not m.matches("") for m in matchers):
        raise InvalidRequest(
            "vector selector must contain at least one matcher that does not match the empty string"
        )
    return matchers


def _matcher(matcher: Any) -> Matcher:
    op = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}[
        str(matcher.op).rsplit(".", 1)[-1]
    ]
    return Matcher(matcher.name, op, matcher.value)


def matching(modifier: Any) -> Matching:
    """A binary operator's vector matching (``on``, ``ignoring``, ``group_left``...)."""
    if modifier is None:
        return Matching()
    card = {
        "OneToOne": "one-to-one",
        "ManyToOne": "many-to-one",
        "OneToMany": "one-to-many",
        "ManyToMany": "many-to-many",
    }[str(modifier.card).rsplit(".", 1)[-1]]
    on, labels = False, ()
    if modifier.matching is not None:
        on = str(modifier.matching.type).endswith("Include")
        labels = tuple(modifier.matching.labels)
    return Matching(card, on, labels, tuple(modifier.group_labels or ()))
