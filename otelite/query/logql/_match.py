"""Tests on text that LogQL shares between line filters and label filters: substrings,
RE2 regexes, patterns and ``ip()``, each as Loki runs it (``pkg/logql/log/filter.go``,
``ip.go``, ``pattern/pattern.go``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache

from otelite.errors import InvalidRequest
from otelite.query.logql._ast import IP, LineFilter, Matcher
from otelite.query.logql._enums import LineOp, MatchOp
from otelite.query.logql._pattern import Capture, parse_pattern
from otelite.query.logql._regex import compile_re2

__all__ = [
    "TextTest",
    "ip_test",
    "line_test",
    "matcher_test",
    "pattern_captures",
    "pattern_test",
]

TextTest = Callable[[str], bool]
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPV4_CHARS = frozenset("0123456789.")
_IPV6_CHARS = frozenset("0123456789abcdefABCDEF:.")
_HEX = frozenset("0123456789abcdefABCDEF")
_DIGITS = frozenset("0123456789")


def matcher_test(matcher: Matcher) -> TextTest:
    """Whether a label's value (``""`` when missing) satisfies ``matcher``; regexes
    match the whole value, as in Prometheus."""
    value = matcher.value
    match matcher.op:
        case MatchOp.EQ:
            return value.__eq__
        case MatchOp.NE:
            return value.__ne__
        case MatchOp.RE:
            full = compile_re2(value).fullmatch
            return lambda text: full(text) is not None
    full = compile_re2(value).fullmatch
    return lambda text: full(text) is None


def line_test(line_filter: LineFilter) -> TextTest:
    """Whether a line passes ``line_filter``: for a positive one, some value matches;
    for a negated one (``!=``, ``!~``, ``!>``), none does."""
    tests = [_value_test(line_filter.op, value) for value in line_filter.values]
    if len(tests) == 1:
        [test] = tests
    else:

        def test(line: str) -> bool:
            return any(t(line) for t in tests)

    if line_filter.op.negated:
        return lambda line: not test(line)
    return test


def _value_test(op: LineOp, value: str | IP) -> TextTest:
    if isinstance(value, IP):
        return ip_test(value.pattern)
    if op in (LineOp.CONTAINS, LineOp.NOT_CONTAINS):
        return lambda line: value in line
    if op in (LineOp.MATCHES, LineOp.NOT_MATCHES):
        search = compile_re2(value).search
        return lambda line: search(line) is not None
    return pattern_test(value)


# --- Patterns ---------------------------------------------------------------------------


def pattern_test(pattern: str) -> TextTest:
    """Loki's pattern line filter (``Matcher.Test``): each literal found at its first
    occurrence after the previous one, a capture before a literal taking at least one
    character, and the line ending exactly where the pattern does."""
    parts = parse_pattern(pattern)
    if not parts:
        return lambda line: line == ""
    ends_in_capture = isinstance(parts[-1], Capture)
    literals = [(i, p) for i, p in enumerate(parts) if isinstance(p, str)]

    def test(line: str) -> bool:
        if not line:
            return False
        offset = 0
        for index, literal in literals:
            found = line.find(literal, offset)
            if found < 0 or (index != 0 and found == offset):
                return False
            offset = found + len(literal)
        return ends_in_capture == (offset != len(line))

    return test


def pattern_captures(pattern: str) -> Callable[[str], list[tuple[str, str]]]:
    """Loki's pattern parser (``Matcher.Matches``): the named captures of a line, in
    order, as far as the line matches; nothing when its start does not."""
    parts = list(parse_pattern(pattern))

    def matches(line: str) -> list[tuple[str, str]]:
        if not line or not parts:
            return []
        found: list[tuple[str, str]] = []
        rest, expr = line, parts
        if isinstance(expr[0], str):
            if not rest.startswith(expr[0]):
                return []
            rest, expr = rest[len(expr[0]) :], expr[1:]
        if not expr:
            return []
        while expr:
            capture = expr[0]
            assert isinstance(capture, Capture)
            if len(expr) == 1:
                if capture.named:
                    found.append((capture.name, rest))
                return found
            literal = expr[1]
            assert isinstance(literal, str)
            expr = expr[2:]
            at = rest.find(literal)
            if at < 0:
                if capture.named:
                    found.append((capture.name, rest))
                return found
            if capture.named:
                found.append((capture.name, rest[:at]))
            rest = rest[at + len(literal) :]
        return found

    return matches


# --- IP addresses -----------------------------------------------------------------------


@lru_cache(maxsize=64)
def _ip_matcher(pattern: str) -> Callable[[_Address], bool]:
    """A single address, a CIDR prefix or a ``from-to`` range, as Loki reads them."""
    try:
        address = ipaddress.ip_address(pattern)
        return address.__eq__
    except ValueError:
        pass
    try:
        network = ipaddress.ip_network(pattern, strict=False)
        return lambda ip: ip.version == network.version and ip in network
    except ValueError:
        pass
    low_text, dash, high_text = pattern.partition("-")
    try:
        low, high = ipaddress.ip_address(low_text), ipaddress.ip_address(high_text)
    except ValueError:
        raise InvalidRequest(f'ip: invalid pattern: "{pattern}"') from None
    span = ((low.version, int(low)), (high.version, int(high)))
    if not dash or low.version != high.version or span[1] < span[0]:
        raise InvalidRequest(f'ip: invalid pattern: "{pattern}"')
    return lambda ip: span[0] <= (ip.version, int(ip)) <= span[1]


def ip_test(pattern: str) -> TextTest:
    """Whether some address in the text is one ``pattern`` covers: Loki's scan, which
    looks for address-like runs of characters from left to right."""
    covers = _ip_matcher(pattern)

    def candidate(text: str, start: int, chars: frozenset[str]) -> tuple[bool, int]:
        end = start
        while end < len(text) and text[end] in chars:
            end += 1
        try:
            address = ipaddress.ip_address(text[start:end])
        except ValueError:
            return False, end - start
        return covers(address), end - start

    def test(text: str) -> bool:
        n, i = len(text), 0
        while i < n:
            if i + 3 < n and text[i] in _DIGITS and "." in text[i + 1 : i + 4]:
                ok, length = candidate(text, i, _IPV4_CHARS)
                if ok:
                    return True
                i += length + 1
                continue
            if _ipv6_hint(text, i):
                ok, length = candidate(text, i, _IPV6_CHARS)
                if ok:
                    return True
                i += length + 1
                continue
            i += 1
        return False

    return test


def _ipv6_hint(text: str, i: int) -> bool:
    window = text[i : i + 5]
    if window[:2] == "::" and window[2:3] in _HEX and len(window) > 2:
        return True
    hex_run = 0
    while hex_run < len(window) and hex_run < 4 and window[hex_run] in _HEX:
        hex_run += 1
    return hex_run > 0 and window[hex_run : hex_run + 1] == ":"
