"""Go's fmt as LogQL templates print with it: ``%v`` of every value, and ``printf``'s
verbs, flags, widths and precisions, mistakes included (Go writes them into the text).

Expected outputs follow the documentation of Go's fmt package; Loki's own examples (the
``printf`` section of template_functions.md) are marked.
"""

from __future__ import annotations

import pytest

from otelite.query.logql._strconv import format_float, quote, unquote
from otelite.query.logql._template_fmt import format_value, sprint, sprintf, sprintln
from otelite.query.logql._template_time import GoTime
from otelite.query.logql._template_values import Int64, JsonObject


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (1e6, "1e+06"),
        (1e21, "1e+21"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.5e-7, "-2.5e-07"),
        (1 / 3, "0.3333333333333333"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
        (float("nan"), "NaN"),
    ],
)
def test_floats_print_as_go_does(value: float, expected: str) -> None:
    assert format_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        (3, "3"),
        (Int64(-4), "-4"),
        (True, "true"),
        (None, "<nil>"),
        ([1.0, "a", None, [True]], "[1 a <nil> [true]]"),
        (JsonObject(b=2.0, a="x"), "map[a:x b:2]"),
        ({"z": "1", "y": "2"}, "map[y:2 z:1]"),
        (GoTime(1_500_000_001), "1970-01-01 00:00:01.500000001 +0000 UTC"),
    ],
)
def test_values_print_as_percent_v(value: object, expected: str) -> None:
    assert format_value(value) == expected


@pytest.mark.parametrize(
    ("template", "args", "expected"),
    [
        # Loki's documentation, printf.
        ("The IP address was %s", ["129.168.1.1"], "The IP address was 129.168.1.1"),
        ("%-40.40s", ["/a/509965767/alternative-to-my-mtg.html"],
         "/a/509965767/alternative-to-my-mtg.html "),
        ("%-5.5s", ["GET"], "GET  "),
        ("%15.15s", ["host"], "           host"),
        # Strings.
        ("%s|%v|%q|%x|%X|% x", ["hé", "hé", 'a"b', "hi", "hi", "hi"],
         'hé|hé|"a\\"b"|6869|6869|68 69'),
        ("%5s|%-5s|%.2s|%05s", ["ab", "ab", "abc", "ab"], "   ab|ab   |ab|   ab"),
        ("%q|%+q|%#q", ["é\n", "é", "back`tick"], '"é\\n"|"\\u00e9"|"back`tick"'),
        ("%#q", ["raw"], "`raw`"),
        # Integers.
        ("%d|%5d|%-5d|%05d|%+d|% d", [42, 42, 42, -42, 42, 42], "42|   42|42   |-0042|+42| 42"),
        ("%x|%X|%#x|%o|%#o|%O|%b|%08b", [255, 255, 255, 8, 8, 8, 5, 5],
         "ff|FF|0xff|10|010|0o10|101|00000101"),
        ("%c|%q|%U|%#U", [65, 97, 0x1F600, 65], "A|'a'|U+1F600|U+0041 'A'"),
        ("%.3d|%.0d|%v", [7, 0, Int64(9)], "007||9"),
        # Floats.
        ("%f|%.2f|%8.3f|%-8.1f|%08.3f", [3.14159, 2.345, 3.14159, 2.25, -3.14159],
         "3.141590|2.35|   3.142|2.2     |-003.142"),
        ("%e|%.2E|%g|%G|%.3g", [123456.789, 0.000123, 1e-7, 1e21, 3.14159],
         "1.234568e+05|1.23E-04|1e-07|1E+21|3.14"),
        ("%v|%6.2v|%+.1f|%x", [0.5, 3.14159, 2.0, 3.0], "0.5|   3.1|+2.0|0x1.8p+01"),
        ("%f|%5.1f|%v", [float("nan"), float("inf"), float("-inf")], "NaN| +Inf|-Inf"),
        # Other values.
        ("%t|%v|%T|%T|%T|%T", [True, None, "s", 1, Int64(1), 1.0],
         "true|<nil>|string|int|int64|float64"),
        ("%v|%d|%s", [[1, 2], [1, 2], ["a", "b"]], "[1 2]|[1 2]|[a b]"),
        ("%T|%T|%T", [[1], JsonObject(), {"a": "b"}],
         "[]interface {}|map[string]interface {}|map[string]string"),
        ("%#v|%#v|%#v|%#v", ["s", [1.0, "a"], JsonObject(k=None), None],
         '"s"|[]interface {}{1, "a"}|map[string]interface {}{"k":interface {}(nil)}|<nil>'),
        ("%s", [GoTime(0)], "1970-01-01 00:00:00 +0000 UTC"),
        ("%%|%5%", [], "%|%"),
        # Argument indexes and * widths.
        ("%[2]s %[1]s", ["a", "b"], "b a"),
        ("%*d|%-*d|%.*f", [4, 1, 3, 2, 1, 3.14159], "   1|2  |3.1"),
    ],
)  # fmt: skip
def test_printf(template: str, args: list[object], expected: str) -> None:
    assert sprintf(template, args) == expected


@pytest.mark.parametrize(
    ("template", "args", "expected"),
    [
        ("%d", ["x"], "%!d(string=x)"),
        ("%s", [1], "%!s(int=1)"),
        ("%d", [1.5], "%!d(float64=1.5)"),
        ("%d", [None], "%!d(<nil>)"),
        ("%5d", ["ab"], "%!d(string=   ab)"),  # the value keeps the width
        ("%s %s", ["a"], "a %!s(MISSING)"),
        ("%s", ["a", 1, None], "a%!(EXTRA int=1, <nil>)"),
        ("%", [], "%!(NOVERB)"),
        ("%z", [1], "%!z(int=1)"),
        ("%*d", ["x", 1], "%!(BADWIDTH)1"),
        ("%.*d", ["x", 1], "%!(BADPREC)1"),
        ("%[3]d", [1], "%!d(BADINDEX)"),
        ("%2000000d", [1], "%!(BADWIDTH)1"),  # otelite's limit; Go would pad to 2,000,000
    ],
)
def test_printf_mistakes_are_written_into_the_text(
    template: str, args: list[object], expected: str
) -> None:
    assert sprintf(template, args) == expected


def test_print_and_println_space_as_go_does() -> None:
    # Sprint: a space between operands when neither is a string; Sprintln: always.
    assert sprint(["a", 1, 2, "b", None, 3.5, True]) == "a1 2b<nil> 3.5 true"
    assert sprintln(["a", 1, "b"]) == "a 1 b\n"


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", '"plain"'),
        ('say "hi"\\', '"say \\"hi\\"\\\\"'),
        ("\a\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'),
        ("\x00\x7f", '"\\x00\\x7f"'),
        ("é\u200b😀", '"é\\u200b😀"'),
    ],
)
def test_quote_is_strconv_quote(text: str, quoted: str) -> None:
    assert quote(text) == quoted
    assert unquote(quoted) == text


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ('"\\101\\x42\\u0043\\U00000044"', "ABCD"),
        ('"\\xff"', "\ufffd"),  # not UTF-8 on its own
        ("`a\\n\r\nb`", "a\\n\nb"),  # raw: no escapes, carriage returns dropped
        ('"bad \\q"', None),
        ('"\\400"', None),
        ('"\\ud800"', None),
        ("'x'", None),
    ],
)
def test_unquote_is_strconv_unquote(literal: str, value: str | None) -> None:
    assert unquote(literal) == value
