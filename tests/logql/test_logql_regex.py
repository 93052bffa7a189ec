"""RE2 regexes run by Python's ``re`` with RE2's meaning: each row is a pattern, a text,
and whether RE2 (Go's ``regexp``) finds a match in it, from RE2's syntax reference."""

from __future__ import annotations

import pytest

from otelite.query.logql import RegexError
from otelite.query.logql._regex import Unsupported, compile_re2


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        ("(?P<name>a+)b", "xaab", True),
        ("(?<name>a+)b", "xaab", True),  # RE2's other named-group spelling
        ("\\Qa.b*\\E", "a.b*", True),
        ("\\Qa.b*\\E", "axbb", False),
        ("a$", "a\n", False),  # $ is the end of the text, not before a final newline
        ("(?m)a$", "a\nb", True),
        ("a\\z", "a", True),
        ("\\d+", "\u0663", False),  # ASCII digits only: not ARABIC-INDIC THREE
        ("\\w", "é", False),
        ("\\bcat\\b", "a cat!", True),
        ("\\bcat\\b", "écat", True),  # é is not a word character for RE2
        ("[[:alpha:]]+[[:digit:]]", "abc1", True),
        ("[[:upper:]]", "abc", False),
        ("a{,2}", "a{,2}", True),  # not a repeat in RE2: literal text
        ("a{2}", "aa", True),
        ("x(?i)ab|cd", "CD", True),  # the flag reaches across | to the group's end
        ("x(?i)ab", "XAB", False),
        ("x(?i:ab)", "xAB", True),
        ("[^\\s]+", "abc", True),
        ("\\x41\\x{42}", "AB", True),
        ("\\101", "A", True),  # octal
        ("[a-c&&b]", "&", True),  # && is literal in a class
        ("(?s).", "\n", True),
        (".", "\n", False),
    ],
)
def test_re2_meaning(pattern: str, text: str, found: bool) -> None:
    assert (compile_re2(pattern).search(text) is not None) is found


@pytest.mark.parametrize(
    "pattern",
    ["(a", "a)", "a**", "(?=a)", "(?<!a)b", "(a)\\1", "a{1001}", "a++", "[a", "\\e", "(?P=x)"],
)
def test_what_re2_refuses(pattern: str) -> None:
    with pytest.raises(RegexError) as refused:
        compile_re2(pattern)
    assert not isinstance(refused.value, Unsupported)
    assert str(refused.value).startswith("error parsing regexp: ")


@pytest.mark.parametrize("pattern", ["\\pL", "\\p{Greek}", "(?U)a+", "\\C", "[[:^alpha:]]"])
def test_what_python_cannot_run_says_so(pattern: str) -> None:
    with pytest.raises(Unsupported, match="otelite runs this part of a query in Python"):
        compile_re2(pattern)
