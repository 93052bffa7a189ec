"""How LogQL templates fail, in Go's words: templates that do not parse (the query is
refused), and templates that fail on a line (Loki keeps the line and sets
``__error__=TemplateFormatErr`` with this message in ``__error_details__``).

Messages are Go text/template's; rows from Loki's tests (pkg/logql/log/fmt_test.go) say
so. ``line`` and ``column`` count from 1, in characters; Go's own execution messages
count the column from 0, in bytes.
"""

from __future__ import annotations

import pytest

from otelite.query.logql._template import TemplateError, compile_template
from otelite.query.logql._template_parser import MAX_DEPTH


@pytest.mark.parametrize(
    ("template", "message", "line", "column"),
    [
        ("{{ .a", "unclosed action", 1, 6),
        ("{{ .a }", 'unexpected "}" in operand', 1, 7),  # the parser meets "}" first
        ("{{ (.a }}", "unclosed left paren", 1, 8),
        ("{{ .a) }}", 'unexpected ")" in command', 1, 6),
        ("{{ .a-b }}", "bad character U+002D '-'", 1, 4),
        ("{{ $x-1 }}", "bad character U+002D '-'", 1, 4),
        ("{{ 3abc }}", 'bad number syntax: "3a"', 1, 4),
        ("{{ 089 }}", 'integer overflow: "089"', 1, 4),  # not octal, not a float either
        ("{{ 99999999999999999999 }}", 'integer overflow: "99999999999999999999"', 1, 4),
        ('{{ "abc }}', "unterminated quoted string", 1, 4),
        ("{{ `abc }}", "unterminated raw quoted string", 1, 4),
        ("{{ 'ab' }}", "malformed character constant: 'ab'", 1, 4),
        ('{{ "\\q" }}', "invalid syntax", 1, 4),
        ("{{ # }}", 'unexpected "#" in command', 1, 4),
        ("{{ .a # }}", 'unexpected "#" in operand', 1, 7),
        ("{{ é }}", "function \"é\" not defined", 1, 4),
        ("{{ \u00a7 }}", "unrecognized character in action: U+00A7 '§'", 1, 4),
        ("{{ : }}", "expected :=", 1, 4),
        ("{{/* open", "unclosed comment", 1, 5),
        ("{{/* c */ }}", "comment ends before closing delimiter", 1, 10),
        ("{{ }}", "missing value for command", 1, 4),
        ("{{ if }}{{ end }}", "missing value for if", 1, 7),
        ("{{ () }}", "missing value for parenthesized pipeline", 1, 5),
        ("{{ foo }}", 'function "foo" not defined', 1, 4),
        ("{{ .a | upper | nope }}", 'function "nope" not defined', 1, 17),
        ("{{ $x }}", 'undefined variable "$x"', 1, 4),
        ("{{ if 1 }}{{ $x := 1 }}{{ end }}{{ $x }}", 'undefined variable "$x"', 1, 36),
        ("{{ end }}", "unexpected {{end}}", 1, 8),
        ("{{ else }}", "unexpected {{else}}", 1, 9),
        ("{{ if 1 }}x", "unexpected EOF", 1, 12),
        ("{{ if 1 }}{{ else }}{{ else }}{{ end }}", "expected end; found {{else}}", 1, 29),
        ("{{ range 1 }}{{ else if 1 }}{{ end }}", "unexpected <if> in input", 1, 22),
        ("{{ break }}", "{{break}} outside {{range}}", 1, 10),
        ("{{ range 1 }}{{ continue 1 }}{{ end }}", 'unexpected "1" in {{continue}}', 1, 26),
        ("{{ 1 | 2 }}", "non executable command in pipeline stage 2", 1, 10),
        ('{{ .a | "x" }}', "non executable command in pipeline stage 2", 1, 13),
        ('{{ "a".b }}', 'unexpected . after term "\\"a\\""', 1, 7),
        ("{{ $x, $y := 1 }}", "too many declarations in command", 1, 6),
        ("{{ range $i, 1 }}{{ end }}", "range can only initialize variables", 1, 12),
        ('{{ "a""b" }}', 'unexpected "\\"b\\"" in operand', 1, 7),
        ("{{ 1+2i }}", "complex constants are not supported: 1+2i", 1, 4),
        ('{{ define "x" }}{{ end }}', "{{define}} is not supported: a LogQL template stands alone",
         1, 4),
        ('{{ template "x" }}', "{{template}} is not supported: a LogQL template stands alone",
         1, 4),
        ("line 1\nline 2 {{ .a", "unclosed action", 2, 13),
        ("{{ .a\n\n| nope }}", 'function "nope" not defined', 3, 3),
        ("{{ if 1 }}\n{{ else }}\n", "unexpected EOF", 3, 1),
    ],
)  # fmt: skip
def test_templates_that_do_not_parse(template: str, message: str, line: int, column: int) -> None:
    with pytest.raises(TemplateError) as raised:
        compile_template(template)
    error = raised.value
    assert error.message == f"template: line:{line}: {message}"
    assert (error.line, error.column) == (line, column)
    assert not error.executing


def test_nesting_is_bounded() -> None:
    compile_template("{{ " + "(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH + " }}")
    with pytest.raises(TemplateError, match="max expression depth exceeded"):
        compile_template("{{ " + "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1) + " }}")
    deep_ifs = "{{ if 1 }}" * (MAX_DEPTH + 1) + "{{ end }}" * (MAX_DEPTH + 1)
    with pytest.raises(TemplateError, match="max expression depth exceeded"):
        compile_template(deep_ifs)


def test_label_format_names_the_template_label() -> None:
    # Loki parses label_format templates under the name "label".
    with pytest.raises(TemplateError) as raised:
        compile_template("{{ .a", name="label")
    assert raised.value.message == "template: label:1: unclosed action"


@pytest.mark.parametrize(
    ("template", "labels", "message"),
    [
        # Loki's tests.
        ("{{.foo | now}}", {"foo": "blip"},
         'template: line:1:9: executing "line" at <now>: wrong number of args for now: '
         "want 0 got 1"),
        ('{{replace "test" .foo}}', {"foo": "blip"},
         'template: line:1:2: executing "line" at <replace>: wrong number of args for replace: '
         "want 3 got 2"),
        # Arguments Go checks when it runs: counts, types, constants.
        ("{{ upper }}", {}, "at <upper>: wrong number of args for upper: want 1 got 0"),
        ("{{ max }}", {}, "at <max>: wrong number of args for max: want at least 1 got 0"),
        ("{{ __line__ 1 }}", {}, "at <__line__>: wrong number of args for __line__: want 0 got 1"),
        ("{{ upper 1 }}", {}, "at <1>: expected string; found 1"),
        ('{{ trunc "2" .a }}', {}, 'at <"2">: expected integer; found "2"'),
        ("{{ trunc 1.5 .a }}", {}, "at <1.5>: expected integer; found 1.5"),
        ("{{ round 1.5 1 true }}", {}, "at <true>: expected float; found true"),
        ("{{ upper nil }}", {}, "at <nil>: cannot assign nil to string"),
        ("{{ unixEpoch 1 }}", {}, "at <1>: can't handle 1 for arg of type time.Time"),
        ("{{ trunc .n .a }}", {"n": "2"},
         "at <.n>: wrong type for value; expected int; got string"),
        ("{{ trunc (add 1 1) .a }}", {},
         "at <(add 1 1)>: wrong type for value; expected int; got int64"),
        ("{{ 3 | upper }}", {}, "at <upper>: wrong type for value; expected string; got int"),
        ("{{ upper (fromJson `x`) }}", {},
         "at <(fromJson `x`)>: invalid value; expected string"),
        ("{{ unixEpoch .a }}", {"a": "1"},
         "at <.a>: wrong type for value; expected time.Time; got string"),
        ("{{ 18446744073709551615 }}", {}, "at <18446744073709551615>: "
         "18446744073709551615 overflows int"),
        # Comparisons: labels are strings, and Go does not compare a string with a number.
        ("{{ if eq .status 200 }}ok{{ end }}", {"status": "200"},
         "at <eq .status 200>: error calling eq: incompatible types for comparison"),
        ("{{ lt 1 1.5 }}", {},
         "at <lt 1 1.5>: error calling lt: incompatible types for comparison"),
        ("{{ lt true false }}", {}, "error calling lt: invalid type for comparison"),
        ("{{ lt nil 1 }}", {}, "error calling lt: invalid type for comparison"),
        ("{{ eq 1 }}", {}, "error calling eq: missing argument for comparison"),
        ("{{ eq (fromJson `[1]`) (fromJson `[1]`) }}", {},
         "error calling eq: non-comparable type [1]: []interface {}"),
        ("{{ eq (fromJson `[1]`) (fromJson `{}`) }}", {},
         "error calling eq: non-comparable types [1]: []interface {}, "
         "map[string]interface {}: map[]"),
        # Other builtins.
        ("{{ len 3 }}", {}, "error calling len: len of type int"),
        ("{{ index .a 5 }}", {"a": "abc"}, "error calling index: index out of range: 5"),
        ('{{ index . 1 }}', {}, "error calling index: value has type int; should be string"),
        ("{{ index 1 1 }}", {}, "error calling index: can't index item of type int"),
        ("{{ slice .a 2 1 }}", {"a": "abc"}, "error calling slice: invalid slice index: 2 > 1"),
        # Loki's and sprig's functions.
        ("{{ div 1 0 }}", {}, "at <div 1 0>: error calling div: runtime error: integer divide "
         "by zero"),
        ("{{ mod 1 0 }}", {}, "error calling mod: runtime error: integer divide by zero"),
        ("{{ divf 1 0 }}", {}, "error calling divf: decimal division by zero"),
        ('{{ repeat -1 "x" }}', {}, "error calling repeat: strings: negative Repeat count"),
        ('{{ repeat 99999999 "xy" }}', {},
         "error calling repeat: the result would be 199999998 characters, over otelite's "
         "16777216"),
        ('{{ duration "1d" }}', {}, 'error calling duration: time: invalid duration "1d"'),
        ('{{ bytes "12 parsecs" }}', {}, "error calling bytes: unhandled size name: parsecs"),
        ('{{ bytes "MB" }}', {},
         'error calling bytes: strconv.ParseFloat: parsing "": invalid syntax'),
        ('{{ urldecode "100%" }}', {}, 'error calling urldecode: invalid URL escape "%"'),
        ('{{ urldecode "%zz" }}', {}, 'error calling urldecode: invalid URL escape "%zz"'),
        ('{{ unixToTime "123" }}', {},
         "error calling unixToTime: unable to parse time '123': %!w(<nil>)"),
        ('{{ unixToTime "abc" }}', {},
         "error calling unixToTime: unable to parse time 'abc': strconv.ParseInt: parsing "
         '"abc": invalid syntax'),
        ('{{ regexReplaceAll "(" .a "x" }}', {},
         "error calling regexReplaceAll: error parsing regexp: missing closing ): `(`"),
        ('{{ count "a{2000}" .a }}', {},
         "error calling count: error parsing regexp: invalid repeat count: `{2000}`: "
         "`a{2000}`"),
        ('{{ addf "NaN" 1 }}', {}, "error calling addf: Cannot create a Decimal from NaN"),
        # Fields, variables, commands.
        ("{{ .a.b }}", {"a": "x"}, "at <.a.b>: can't evaluate field b in type string"),
        ('{{ .a "x" }}', {}, "at <.a>: a is not a method but has arguments"),
        ("{{ __timestamp__.Month }}", {},
         "at <__timestamp__.Month>: can't evaluate field Month in type time.Time"),
        ("{{ __timestamp__.Format }}", {},
         "at <__timestamp__.Format>: wrong number of args for Format: want 1 got 0"),
        ('{{ $x := 1 }}{{ $x "a" }}', {}, "at <$x>: can't give argument to non-function $x"),
        ('{{ (1) "a" }}', {}, "at <(1)>: can't give argument to non-function (1)"),
        ("{{ nil }}", {}, "at <nil>: nil is not a command"),
        ("{{ $y = 1 }}", {}, "at <$y>: undefined variable: $y"),
        ("{{ $x := $x }}", {}, "at <$x>: undefined variable: $x"),
        # range.
        ("{{ range .a }}{{ end }}", {"a": "abc"}, "at <.a>: range can't iterate over abc"),
        ("{{ range $i, $e := 3 }}{{ end }}", {},
         "at <$i, $e := 3>: can't use 3 to iterate over more than one variable"),
        ("{{ range 2000000 }}{{ end }}", {},
         "at <2000000>: more than 1000000 range iterations"),
    ],
)  # fmt: skip
def test_templates_that_fail_on_a_line(template: str, labels: dict[str, str], message: str) -> None:
    compiled = compile_template(template)  # it parses: Go only finds these when it runs
    with pytest.raises(TemplateError) as raised:
        compiled.render(labels, "", 0)
    error = raised.value
    assert error.executing
    assert error.message.startswith("template: line:1:")
    assert error.message.endswith(message)
    assert str(error) == error.message
