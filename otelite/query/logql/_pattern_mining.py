"""Log patterns: a query's lines grouped by their shape, for Grafana Logs Drilldown's
Patterns view (Loki's ``patterns`` endpoint).

A line is split into words, the punctuation between them and its spaces (a run of
whitespace counts as one space). Lines are clustered by Drain (He et al., "Drain: An
Online Log Parsing Approach with Fixed Depth Tree", ICWS 2017), the method Loki's
pattern ingester uses too:

- lines of different token counts never share a cluster;
- a tree over the first ``PREFIX_WORDS`` words narrows the clusters a line is compared
  with; a word that holds a digit takes the tree's wildcard branch, as does any new word
  past ``MAX_CHILDREN`` at one node;
- a line joins the most similar cluster there if at least ``SIMILARITY`` of its words
  agree with the cluster's template; the template's words where they differ become
  ``<_>``. Otherwise the line starts a cluster of its own.

A pattern's text is its template with adjacent ``<_>`` merged. Loki mines as lines
arrive; otelite mines at query time from the lines the query reads (the caller bounds
them), and a pattern's samples count those lines per step, by level.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "MAX_CHILDREN",
    "PARAM",
    "PREFIX_WORDS",
    "SIMILARITY",
    "Pattern",
    "mine_patterns",
    "tokenize",
]

PARAM = "<_>"
SIMILARITY = 0.3
PREFIX_WORDS = 4
MAX_CHILDREN = 15
MAX_TOKENS = 256
"""Tokens past this many become one ``<_>``: a very long line is clustered by its head."""

_TOKEN = re.compile(r"\s+|[=:,;\"'{}\[\]()<>|]|[^\s=:,;\"'{}\[\]()<>|]+")
_SEPARATORS = frozenset(" =:,;\"'{}[]()<>|")
_DIGIT = re.compile(r"\d")
_MERGED = re.compile(r"(?:<_>)+")


def tokenize(line: str) -> list[str]:
    """``line``'s words, punctuation and spaces, in order (whitespace runs as ``" "``)."""
    tokens = [" " if t[0].isspace() else t for t in _TOKEN.findall(line.strip())]
    if len(tokens) > MAX_TOKENS:
        tokens = [*tokens[: MAX_TOKENS - 1], PARAM]
    return tokens


def _is_word(token: str) -> bool:
    return token not in _SEPARATORS


@dataclass(slots=True)
class _Cluster:
    number: int
    """Its place in :attr:`_Drain.clusters`."""
    template: list[str]
    words: tuple[int, ...]
    """The positions of the template's words: the tokens similarity is counted over."""


@dataclass(slots=True)
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    clusters: list[_Cluster] = field(default_factory=list)


class _Drain:
    def __init__(self) -> None:
        self.root = _Node()
        self.clusters: list[_Cluster] = []

    def add(self, tokens: list[str]) -> _Cluster:
        words = tuple(i for i, t in enumerate(tokens) if _is_word(t))
        leaf = self._leaf(tokens, words)
        best, best_similarity = None, -1.0
        for cluster in leaf.clusters:
            similarity = _similarity(cluster, tokens)
            if similarity > best_similarity:
                best, best_similarity = cluster, similarity
        if best is None or best_similarity < SIMILARITY:
            best = _Cluster(len(self.clusters), list(tokens), words)
            leaf.clusters.append(best)
            self.clusters.append(best)
        else:
            template = best.template
            for i, token in enumerate(tokens):
                if template[i] != token:
                    template[i] = PARAM
        return best

    def _leaf(self, tokens: list[str], words: tuple[int, ...]) -> _Node:
        """The node whose clusters a line of ``tokens`` is compared with, made as needed."""
        node = self.root.children.setdefault(str(len(tokens)), _Node())
        for i in words[:PREFIX_WORDS]:
            word = tokens[i]
            found = node.children.get(word)
            if found is None:
                if _DIGIT.search(word) or len(node.children) >= MAX_CHILDREN:
                    word = PARAM
                found = node.children.setdefault(word, _Node())
            node = found
        return node


def _similarity(cluster: _Cluster, tokens: list[str]) -> float:
    """The share of the template's words that ``tokens`` repeats; punctuation and spaces
    must agree exactly (else -1)."""
    template = cluster.template
    same = 0
    for i, token in enumerate(tokens):
        mine = template[i]
        if mine == token:
            same += 1
        elif mine != PARAM and not _is_word(mine):
            return -1.0
    agreeing = same - (len(tokens) - len(cluster.words))
    return agreeing / len(cluster.words) if cluster.words else 1.0


@dataclass(frozen=True, slots=True)
class Pattern:
    """One pattern at one level, and how many of the lines read it matched per step."""

    text: str
    level: str
    samples: tuple[tuple[int, int], ...]
    """(step start in Unix ns, lines), oldest first, steps without lines left out."""

    @property
    def total(self) -> int:
        return sum(count for _, count in self.samples)


def mine_patterns(
    lines: Sequence[str], times: Sequence[int], levels: Iterable[str], *, step_ns: int
) -> list[Pattern]:
    """The patterns of ``lines`` (at ``times``, Unix ns, with these levels), each level's
    samples bucketed by ``step_ns`` from the Unix epoch; the most frequent first."""
    drain = _Drain()
    counts: dict[tuple[int, str], Counter[int]] = {}
    for line, at, level in zip(lines, times, levels, strict=True):
        cluster = drain.add(tokenize(line))
        key = (cluster.number, level)
        counts.setdefault(key, Counter())[at - at % step_ns] += 1
    texts = [_MERGED.sub(PARAM, "".join(c.template)) for c in drain.clusters]
    merged: dict[tuple[str, str], Counter[int]] = {}
    for (number, level), by_step in counts.items():
        merged.setdefault((texts[number], level), Counter()).update(by_step)
    found = [
        Pattern(text, level, tuple(sorted(by_step.items())))
        for (text, level), by_step in merged.items()
    ]
    found.sort(key=lambda p: (-p.total, p.text, p.level))
    return found
