"""RE2 regexes run by Python's ``re`` with RE2's meaning, beyond the translation's cases
in ``test_logql_template_regex``: each row is a pattern, a text, and whether RE2 (Go's
``regexp``) finds a match in it; and which refusals are RE2's own and which only say that
Python lacks what RE2 has (the database still runs those)."""

from __future__ import annotations

import pytest

from otelite.query.logql import RegexError
from otelite.query.logql._regex import Unsupported, compile_re2


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        ("\\bcat\\b", "a cat!", True),
        ("\\bcat\\b", "écat", True),  # é is not a word character for RE2
        ("\\Bat", "cat", True),
        ("[[:upper:]]", "abc", False),
        ("[^\\s]+", "abc", True),
        ("\\x41\\x{42}", "AB", True),
        ("[a-c&&b]", "&", True),  # && is literal in a class
        ("x(?i)ab", "XAB", False),  # the flag starts where it stands
        ("(?i:A)(?-i:b)", "aB", False),
    ],
)
def test_re2_meaning(pattern: str, text: str, found: bool) -> None:
    assert (compile_re2(pattern).search(text) is not None) is found


@pytest.mark.parametrize("pattern", ["a**", "\\e", "(?P=x)", "(?#x)"])
def test_what_re2_refuses(pattern: str) -> None:
    with pytest.raises(RegexError) as refused:
        compile_re2(pattern)
    assert not isinstance(refused.value, Unsupported)
    assert str(refused.value).startswith("error parsing regexp: ")


@pytest.mark.parametrize("pattern", ["\\pL", "\\p{Greek}", "(?U)a+", "\\C", "[[:^alpha:]]"])
def test_what_python_cannot_run_says_so(pattern: str) -> None:
    with pytest.raises(Unsupported, match="supported by otelite"):
        compile_re2(pattern)
