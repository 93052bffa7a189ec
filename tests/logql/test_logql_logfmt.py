"""Reading logfmt: the decoder's answers for lines of every kind (Loki's decoder tests'
cases, written out), and the one-pass reading of plain lines giving the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otelite.query.logql._logfmt import LogfmtError, decoded, pairs


def _shown(line: str) -> list[object]:
    return [str(p) if isinstance(p, LogfmtError) else p for p in pairs(line)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("a=1 b=2", [("a", "1"), ("b", "2")]),
        ('a="x y" b', [("a", "x y"), ("b", None)]),
        ("a= b=", [("a", ""), ("b", "")]),
        ('a="q\\"uote" z=\\n', [("a", 'q"uote'), ("z", "\\n")]),
        ('a="b"c=d', [("a", "b"), ("c", "d")]),
        ("=x k=v", ["logfmt syntax error at pos 1 : unexpected '='", ("k", "v")]),
        ('k"x=1 a=2', ["logfmt syntax error at pos 2 : unexpected '\"'", ("a", "2")]),
        ("k=v=w", ["logfmt syntax error at pos 4 : unexpected '='"]),
        ('k="open', ["logfmt syntax error at pos 8 : unterminated quoted value"]),
        ('k="\\x" n=1', ["logfmt syntax error at pos 7 : invalid quoted value", ("n", "1")]),
        ("  \t", []),
    ],
)
def test_decoder(line: str, expected: list[object]) -> None:
    assert _shown(line) == expected


_CHARS = st.sampled_from(list('ab=" \\\tx1é'))


@given(st.text(_CHARS, max_size=30))
def test_the_fast_reading_gives_what_the_decoder_gives(line: str) -> None:
    def shown(found: object) -> list[object]:
        return [str(p) if isinstance(p, LogfmtError) else p for p in found]  # type: ignore[attr-defined]

    assert shown(pairs(line)) == shown(decoded(line))
