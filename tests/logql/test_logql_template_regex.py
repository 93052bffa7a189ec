"""RE2, the regular expressions of Go and Loki, on Python's re: what is translated,
what is refused and why, and Go's replacement and match-all rules."""

from __future__ import annotations

import pytest

from otelite.query.logql._template_regex import compile_re2, count_matches, replace_all
from otelite.query.logql._template_values import GoError


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("a$", "a\n", False),  # RE2's $ is the end of the text; Python's allows a final \n
        ("(?m)a$", "a\nb", True),
        ("^b", "a\nb", False),
        ("(?m)^b", "a\nb", True),
        ("a\\z", "a", True),
        ("(?i)abc", "xABCx", True),
        ("a(?i)b|c", "C", True),  # the flag holds for the rest of the group, across |
        ("a(?i)b|c", "aB", True),
        ("x(?i:a)b", "xAb", True),
        ("x(?i:a)b", "xAB", False),
        ("(?s)a.b", "a\nb", True),
        ("a.b", "a\nb", False),
        ("\\d+", "٣", False),  # \d, \s and \w are ASCII in RE2
        ("\\w", "é", False),
        ("\\s", "\v", False),  # RE2's \s has no vertical tab
        ("[[:alpha:]]+[[:digit:]]", "ab1", True),
        ("\\Qa.b\\E", "axb", False),
        ("\\Qa.b\\E", "a.b", True),
        ("\\101", "A", True),  # octal, not a backreference
        ("\\x{1F600}", "😀", True),
        ("x{,2}", "x{,2}", True),  # not a repetition in RE2: literal text
        ("[a[]", "[", True),
        ("(?P<year>\\d{4})-(?<month>\\d\\d)", "2024-05", True),
    ],
)
def test_patterns_match_as_in_go(pattern: str, text: str, matches: bool) -> None:
    assert (compile_re2(pattern).search(text) is not None) is matches


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("\\1", "invalid escape sequence: `\\1`"),
        ("(a)\\1", "invalid escape sequence: `\\1`"),
        ("(?=a)", "invalid or unsupported Perl syntax: `(?=`"),
        ("(?<!a)b", "invalid or unsupported Perl syntax: `(?<`"),
        ("(?>a)", "invalid or unsupported Perl syntax: `(?>`"),
        ("a++", "invalid nested repetition operator: `++`"),
        ("a{2}+", "invalid nested repetition operator: `{2}+`"),
        ("a{1001}", "invalid repeat count: `{1001}`"),
        ("a{3,2}", "invalid repeat count: `{3,2}`"),
        ("\\Z", "invalid escape sequence: `\\Z`"),
        ("\\pL", "Unicode classes (\\p) are not supported by otelite"),
        ("(?U)a+", "ungreedy mode (?U) is not supported by otelite"),
        ("[[:^alpha:]]", "negated class [:^alpha:] is not supported by otelite"),
        ("[\\D]", "\\D inside a character class is not supported by otelite"),
        ("(a", "missing closing )"),
        ("a)", "unexpected )"),
        ("[a", "missing closing ]"),
        ("a\\", "trailing backslash at end of expression"),
    ],
)
def test_refusals_say_why(pattern: str, reason: str) -> None:
    with pytest.raises(GoError) as raised:
        compile_re2(pattern)
    assert str(raised.value) == f"error parsing regexp: {reason}: `{pattern}`"


@pytest.mark.parametrize(
    ("pattern", "text", "replacement", "expected"),
    [
        # Loki's documentation, regexReplaceAll.
        ("(a*)bc", "xxabcxx", "${1}a", "xxaaxx"),
        ("(?P<k>\\w+)=(\\w+)", "a=1 b=2", "$2:$k", "1:a 2:b"),
        ("(\\w+)", "ab", "$1x|${1}x|$$|$9|$", "|abx|$||$"),  # $1x names group "1x"
        ("x*", "abxd", "-", "-a-b-d-"),  # no empty match right after a match
        ("", "ab", "-", "-a-b-"),
    ],
)
def test_replace_all_expands_as_go(
    pattern: str, text: str, replacement: str, expected: str
) -> None:
    assert replace_all(pattern, text, replacement, literal=False) == expected


def test_replace_all_literal_and_count() -> None:
    # Loki's documentation, regexReplaceAllLiteral and count.
    replaced = replace_all("(ts=)", "ts=1 ts=2", "timestamp=", literal=True)
    assert replaced == "timestamp=1 timestamp=2"
    assert replace_all("a", "aa", "$1", literal=True) == "$1$1"
    assert count_matches("a|b", "abab") == 4
    assert count_matches("o", "foo") == 2
    assert count_matches("x*", "abxd") == 4
