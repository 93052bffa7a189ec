"""The functions Loki gives its templates, each run in a template: Loki's documented
examples (docs/sources/query/template_functions.md, cited per row, with the output Go
really gives where the page is off), rows from Loki's tests (pkg/logql/log/fmt_test.go),
and Go's and sprig's rules for what the page leaves out.
"""

from __future__ import annotations

import pytest

from otelite.query.logql._template import compile_template

INSTANT = 1_678_411_960_340_485_723  # 2023-03-10T01:32:40.340485723Z, a Friday


def render(text: str, labels: dict[str, str] | None = None, line: str = "", ts: int = 0) -> str:
    return compile_template(text).render(labels or {}, line, ts)


@pytest.mark.parametrize(
    ("template", "labels", "expected"),
    [
        # The documentation's examples.
        ('{{ alignLeft 5 "hello world"}}', {}, "hello"),
        ('{{ alignLeft 5 "hi"}}', {}, "hi   "),
        ('{{ alignRight 5 "hello world"}}', {}, "world"),
        ('{{ alignRight 5 "hi"}}', {}, "   hi"),
        ('{{ default "-" "" }}', {}, "-"),
        ('{{ default "-" "foo" }}', {}, "foo"),
        ('{{ .http_request_headers_x_forwarded_for | default "-" }}', {}, "-"),
        ('{{ lower "HELLO"}}', {}, "hello"),
        ("{{ indent 4 .query }}", {"query": "a\nb"}, "    a\n    b"),
        ("{{ nindent 4 .query }}", {"query": "a\nb"}, "\n    a\n    b"),
        ('{{ repeat 3 "hello" }}', {}, "hellohellohello"),
        ('{{ .cluster | replace "-cluster" "" }}', {"cluster": "prod-cluster"}, "prod"),
        ('{{ replace "hello" "world" "hello world" }}', {}, "world world"),
        ("{{ .path | substr 2 5 }}", {"path": "/api/v1"}, "pi/"),
        ('{{ substr 0 5 "hello world"}}', {}, "hello"),
        ('{{ substr 6 11 "hello world"}}', {}, "world"),
        ('{{ title "hello world"}}', {}, "Hello World"),
        ('{{ trim "   hello    " }}', {}, "hello"),
        ('{{ trimAll "$" "$5.00" }}', {}, "5.00"),
        ('{{ trimPrefix "-" "-hello" }}', {}, "hello"),
        ('{{ trimSuffix "-" "hello-" }}', {}, "hello"),
        ('{{ trunc 5 "hello world"}}', {}, "hello"),
        ('{{ trunc -5 "hello world"}}', {}, "world"),
        ('{{ upper "hello"}}', {}, "HELLO"),
        ('{{ if contains "he" "hello" }} yes {{end}}', {}, " yes "),
        ('{{ if eq "hello" "hello" }} yes {{end}}', {}, " yes "),
        ('{{ if hasPrefix "he" "hello" }} yes {{end}}', {}, " yes "),
        ('{{ if hasSuffix "lo" "hello" }} yes {{end}}', {}, " yes "),
        # Loki's tests.
        ("{{ .foo | b64enc }}", {"foo": "i'm a string, encode me!"},
         "aSdtIGEgc3RyaW5nLCBlbmNvZGUgbWUh"),
        ("{{ .foo | b64dec }}", {"foo": "aSdtIGEgc3RyaW5nLCBlbmNvZGUgbWUh"},
         "i'm a string, encode me!"),
        ("{{ .foo | b64dec }} {{ .bar | b64dec }}", {"foo": "Zm9vYmE", "bar": "Zm9vYg"},
         "fooba foob"),  # padding left off
        ("{{ alignLeft 4 .foo }} {{ alignRight 4 .foo }}", {"foo": "hello"}, "hell ello"),
        ("{{.foo | default \"-\" }}{{.bar | default \"-\"}}{{.unknown | default \"-\"}}",
         {"foo": "blip", "bar": ""}, "blip--"),
        # Go's and sprig's rules.
        ('{{ b64dec "!!!" }}', {}, "illegal base64 data at input byte 0"),  # an error as text
        ('{{ b64dec "aGk=\\n" }}', {}, "hi"),  # line breaks are skipped
        ('{{ upper "straße" }} {{ lower "ÀB" }}', {}, "STRAßE àb"),  # one rune for one rune
        ('{{ title "hello_world foo-bar" }}', {}, "Hello_world Foo-Bar"),
        ('{{ trunc 2 "héllo" }} {{ substr 1 3 "héllo" }}', {}, "hé él"),  # characters
        ('{{ substr -1 3 "hello" }} {{ substr 2 -1 "hello" }} {{ substr 4 2 "x" }}', {},
         "hel llo "),
        ('{{ alignLeft -1 "hi" }}|{{ trunc 10 "hi" }}', {}, "hi|hi"),
        ('{{ urlencode "a b/c?d=é" }} {{ urldecode "a+b%2Fc%C3%A9" }}', {},
         "a+b%2Fc%3Fd%3D%C3%A9 a b/cé"),
        ('{{ default "d" 0 }} {{ default "d" 1 }} {{ default "d" nil }} {{ default "d" }}', {},
         "d 1 d d"),
        ('{{ fromJson "{\\"foo\\": 55}" }}', {}, "map[foo:55]"),  # the documentation's
        # Go's strings functions, under the names Loki kept for them.
        ('{{ ToLower "AbC" }} {{ ToUpper "aBc" }} {{ TrimSpace "  x \\n" }}', {}, "abc ABC x"),
        ('{{ Replace "aaa" "a" "b" 2 }} {{ Replace "aaa" "a" "b" -1 }}', {}, "bba bbb"),
        ('{{ Trim "xxhixx" "x" }} {{ TrimLeft "xxhixx" "x" }} {{ TrimRight "xxhixx" "x" }}', {},
         "hi hixx xxhi"),
        ('{{ TrimPrefix "pre-x" "pre-" }} {{ TrimSuffix "x-post" "-post" }}', {}, "x x"),
    ],
)  # fmt: skip
def test_string_functions(template: str, labels: dict[str, str], expected: str) -> None:
    assert render(template, labels) == expected


@pytest.mark.parametrize(
    ("template", "labels", "expected"),
    [
        # The documentation's examples, with the output Go gives.
        ("{{ add 3 2 5 }}", {}, "10"),
        ("{{ addf 3.5 2 5 }}", {}, "10.5"),
        ("{{ ceil 123.001 }}", {}, "124"),  # the page says 124.0; Go prints a float64 so
        ("{{ div 10 2}}", {}, "5"),
        ("{{ divf 10 2 4}}", {}, "1.25"),
        ('{{ "3.5" | float64 }}', {}, "3.5"),
        ("{{ floor 123.9999 }}", {}, "123"),
        ('{{ "3" | int }}', {}, "3"),
        ("{{ max 1 2 3 }}", {}, "3"),
        ("{{ maxf 1 2.5 3 }}", {}, "3"),
        ("{{ min 1 2 3 }}", {}, "1"),
        ("{{ minf 1 2.5 3 }}", {}, "1"),  # the page says 1.5; the smallest is 1
        ("{{ mul 5 2 3}}", {}, "30"),
        ("{{ mulf 5.5 2 2.5 }}", {}, "27.5"),
        ("{{ mod 10 3}}", {}, "1"),
        ("{{ round 123.555555 3 }}", {}, "123.556"),
        ("{{ round 123.88571428571 5 .2 }}", {}, "123.88572"),
        ("{{ sub 5 2 }}", {}, "3"),
        ("{{ subf  5.5 2 1.5 }}", {}, "2"),
        # Loki's tests.
        ("{{ add .foo 1 | sub .bar | mul .baz | div .bazz}}",
         {"foo": "1", "bar": "3", "baz": "10", "bazz": "20"}, "2"),
        ("{{ addf .foo 1.5 | subf .bar 1.5 | mulf .baz | divf .bazz }}",
         {"foo": "1.5", "bar": "5", "baz": "10.5", "bazz": "20.2"}, "3.8476190476190477"),
        ("{{ round (addf .foo 1.5 | subf .bar | mulf .baz | divf .bazz) 5 .2}}",
         {"foo": "1.5", "bar": "3.5", "baz": "10.5", "bazz": "20.4"}, "3.88572"),
        ("min is {{ min .foo .bar .baz }} and max is {{ max .foo .bar .baz }}",
         {"foo": "5", "bar": "10", "baz": "15"}, "min is 5 and max is 15"),
        ("minf is {{ minf .foo .bar .baz }} and maxf is {{maxf .foo .bar .baz}}",
         {"foo": "5.3", "bar": "10.5", "baz": "15.2"}, "minf is 5.3 and maxf is 15.2"),
        ("ceil is {{ ceil .foo }} and floor is {{floor .foo }}", {"foo": "5.3"},
         "ceil is 6 and floor is 5"),
        ("mod is {{ mod .foo 3 }}", {"foo": "20"}, "mod is 2"),
        ('{{ "2.5" | float64 | int | add 10}}', {}, "12"),
        ("{{ div .status 100 }}", {"status": "404"}, "4"),
        # spf13/cast reads labels as numbers: a decimal part is dropped, junk is 0.
        ('{{ add "3.7" 1 }} {{ add "abc" 1 }} {{ add "0x10" 1 }} {{ add "" 1 }}', {},
         "4 1 17 1"),
        ('{{ int "12abc" }} {{ int 3.9 }} {{ int true }} {{ float64 "1e3" }}', {},
         "0 3 1 1000"),
        # Decimal arithmetic in the ...f functions; Go's integer division.
        ("{{ addf 0.1 0.2 }} {{ divf 1 3 }} {{ divf 2 3 }} {{ mulf 0.1 3 }}", {},
         "0.3 0.3333333333333333 0.6666666666666667 0.3"),  # 16 places, half up
        ("{{ div 7 -2 }} {{ mod -7 2 }} {{ add 9223372036854775807 1 }}", {},
         "-3 -1 -9223372036854775808"),
        ("{{ round 2.5 0 }} {{ round -2.5 0 }} {{ ceil -0.5 }}", {}, "3 -3 -0"),
        ('{{ .foo | bytes }}', {"foo": "3 kB"}, "3000"),  # fmt_test.go
        ('{{ .foo | bytes }}', {"foo": "3MB"}, "3e+06"),  # fmt_test.go
        ('{{ bytes "1,024 KiB" }}', {}, "1.048576e+06"),
        ('{{ .foo | duration }}', {"foo": "3ms"}, "0.003"),  # fmt_test.go
        ('{{ .foo | duration_seconds }}', {"foo": "3m10s"}, "190"),  # fmt_test.go
        ('{{ duration "-1.5h" }}', {}, "-5400"),
    ],
)  # fmt: skip
def test_number_functions(template: str, labels: dict[str, str], expected: str) -> None:
    assert render(template, labels) == expected


@pytest.mark.parametrize(
    ("template", "labels", "line", "expected"),
    [
        # The documentation's examples.
        ('{{ count "a|b" "abab" }}', {}, "", "4"),
        ('{{ count "o" "foo" }}', {}, "", "2"),
        ('{{ __line__ | count "XYZ"}}', {}, "XYZ, XYZ and xyz", "2"),
        ('{{ regexReplaceAll "(a*)bc" .some_label "${1}a" }}', {"some_label": "xxabcxx"}, "",
         "xxaaxx"),
        ('{{ regexReplaceAllLiteral "(ts=)" .timestamp "timestamp=" }}',
         {"timestamp": "ts=1 ts=2"}, "", "timestamp=1 timestamp=2"),
        # RE2 syntax.
        ('{{ regexReplaceAll `(?P<h>\\d+)h` __line__ "${h} hours" }}', {}, "took 3h",
         "took 3 hours"),
        ('{{ regexReplaceAll "(?i)error$" __line__ "E" }}', {}, "an ERROR\n", "an ERROR\n"),
    ],
)  # fmt: skip
def test_regex_functions(template: str, labels: dict[str, str], line: str, expected: str) -> None:
    assert render(template, labels, line) == expected


@pytest.mark.parametrize(
    ("template", "labels", "expected"),
    [
        # Loki's documentation (__timestamp__, date, toDate, toDateInZone, unixEpoch...).
        ('{{ __timestamp__ | date "2006-01-02T15:04:05.00Z-07:00" }}', {},
         "2023-03-10T01:32:40.34Z+00:00"),
        ("{{ __timestamp__ | unixEpoch }}", {}, "1678411960"),
        ('{{ toDate "2006-01-02" "2021-11-02" }}', {}, "2021-11-02 00:00:00 +0000 UTC"),
        ('{{ toDateInZone "2006-01-02" "UTC" "2021-11-02" }}', {},
         "2021-11-02 00:00:00 +0000 UTC"),
        ('{{ .foo | toDateInZone "2006-01-02T15:04:05.999999999Z" "UTC" | unixEpochMillis }}',
         {"foo": "2023-03-10T01:32:40.340485723Z"}, "1678411960340"),
        ('{{ .foo | toDateInZone "2006-01-02T15:04:05.999999999Z" "UTC" | unixEpochNanos }}',
         {"foo": "2023-03-10T01:32:40.340485723Z"}, "1678411960340485723"),
        ('{{ date "2006-01-02" (unixToTime .from) }}', {"from": "1679577215"}, "2023-03-23"),
        ('{{ sub (unixEpoch (toDate "2006-01-02" "2021-11-02")) '
         '(unixEpoch (toDate "2006-01-02" "2021-11-01")) }}', {}, "86400"),  # fmt_test.go
        # More.
        ('{{ toDateInZone "2006-01-02 15:04" "America/New_York" "2021-07-01 12:00" }}', {},
         "2021-07-01 12:00:00 -0400 EDT"),
        ('{{ toDateInZone "2006-01-02" "Not/AZone" "2021-11-02" }}', {},
         "2021-11-02 00:00:00 +0000 UTC"),  # an unknown zone is UTC
        ('{{ toDate "2006-01-02" "garbage" }}', {}, "0001-01-01 00:00:00 +0000 UTC"),
        ('{{ toDate "2006-01-02" "garbage" | unixEpoch }}', {}, "-62135596800"),
        # date shows a time in Local, whatever its zone; a number is seconds.
        ('{{ toDateInZone "15:04" "America/New_York" "20:00" | date "15:04 MST" }}', {},
         "00:56 UTC"),  # year 0: New York's local mean time, -4:56:02
        ('{{ date "2006-01-02" 86400 }}', {}, "1970-01-02"),
        ('{{ unixToTime "19373" }} {{ unixToTime "1673798889902" | unixEpochMillis }}', {},
         "2023-01-16 00:00:00 +0000 UTC 1673798889902"),  # 5 digits: days
        ('{{ unixToTime "1673798889902000" | unixEpochNanos }}', {}, "1673798889902000000"),
        ("{{ __timestamp__.Year }}-{{ __timestamp__.YearDay }} {{ __timestamp__.Hour }}h", {},
         "2023-69 1h"),
        ('{{ __timestamp__.Format "Jan 2" }} {{ __timestamp__.UnixMilli }}', {},
         "Mar 10 1678411960340"),
        ("{{ __timestamp__.IsZero }} {{ (toDate `x` `y`).IsZero }}", {}, "false true"),
        ("{{ with __timestamp__ }}{{ .Minute }}:{{ .Second }}{{ end }}", {}, "32:40"),
        ("{{ gt (unixEpoch now | int) 1600000000 }}", {}, "true"),
    ],
)  # fmt: skip
def test_time_functions(template: str, labels: dict[str, str], expected: str) -> None:
    assert render(template, labels, ts=INSTANT) == expected


def test_printf_in_a_template() -> None:
    template = compile_template('{{ printf "%-6s|%5.2f|%d" .method (float64 .ms) (int .n) }}')
    assert template.render({"method": "GET", "ms": "3.14159", "n": "7"}, "", 0) == (
        "GET   | 3.14|7"
    )
