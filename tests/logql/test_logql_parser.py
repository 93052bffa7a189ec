"""LogQL text → syntax tree → canonical text, checked against trees written by hand from
Loki's documented semantics."""

from __future__ import annotations

import math

import pytest

from otelite.errors import InvalidRequest
from otelite.query import logql
from otelite.query.logql import (
    IP,
    AndFilter,
    BinaryOp,
    BinaryOperation,
    BytesFilter,
    Cardinality,
    CompareOp,
    Conversion,
    Decolorize,
    Drop,
    DurationFilter,
    Expr,
    Extraction,
    Grouping,
    IPFilter,
    JsonParser,
    Keep,
    LabelCondition,
    LabelFilter,
    LabelFormat,
    LabelRename,
    LabelReplace,
    LabelTemplate,
    LineFilter,
    LineFormat,
    LineOp,
    LogfmtParser,
    LogQuery,
    LogRange,
    Matcher,
    MatchOp,
    MetricExpr,
    Number,
    NumberFilter,
    OrFilter,
    PatternParser,
    RangeAggregation,
    RangeFunction,
    RegexpParser,
    Stage,
    UnpackParser,
    Unwrap,
    Vector,
    VectorAggregation,
    VectorMatching,
    VectorOp,
    parse,
    to_text,
)

S, M, H = 1_000_000_000, 60_000_000_000, 3_600_000_000_000
MS = 1_000_000
APP = Matcher("app", MatchOp.EQ, "foo")


def query(*stages: Stage, line_filters: tuple[LineFilter, ...] = ()) -> LogQuery:
    return LogQuery((APP,), line_filters, stages)


def contains(*values: str | IP) -> LineFilter:
    return LineFilter(LineOp.CONTAINS, values)


def where(condition: LabelCondition) -> LabelFilter:
    return LabelFilter(condition)


def eq(name: str, value: str) -> Matcher:
    return Matcher(name, MatchOp.EQ, value)


def over(
    function: RangeFunction,
    source: LogQuery | None = None,
    *,
    range_ns: int = 5 * M,
    offset_ns: int = 0,
    unwrap: Unwrap | None = None,
    parameter: float | None = None,
    grouping: Grouping | None = None,
) -> RangeAggregation:
    source = query() if source is None else source
    return RangeAggregation(
        function, LogRange(source, range_ns, offset_ns, unwrap), parameter, grouping
    )


COUNT = over(RangeFunction.COUNT_OVER_TIME)
RATE = over(RangeFunction.RATE)


def by(*labels: str) -> Grouping:
    return Grouping(labels)


def binary(
    op: BinaryOp,
    left: MetricExpr,
    right: MetricExpr,
    *,
    return_bool: bool = False,
    matching: VectorMatching | None = None,
) -> BinaryOperation:
    return BinaryOperation(op, left, right, return_bool, matching)


# (input, tree, canonical text)
CASES: list[tuple[str, Expr, str]] = [
    # Stream selectors.
    ('{app="foo"}', query(), '{app="foo"}'),
    (
        '{ app = "foo" , env!="dev", ns=~"a.*",pod !~ "x-.+" }',
        LogQuery(
            (
                APP,
                Matcher("env", MatchOp.NE, "dev"),
                Matcher("ns", MatchOp.RE, "a.*"),
                Matcher("pod", MatchOp.NRE, "x-.+"),
            )
        ),
        '{app="foo", env!="dev", ns=~"a.*", pod!~"x-.+"}',
    ),
    (
        '{app=~`a\\.b`, q="say \\"hi\\"\\n"}',
        LogQuery((Matcher("app", MatchOp.RE, "a\\.b"), eq("q", 'say "hi"\n'))),
        '{app=~"a\\\\.b", q="say \\"hi\\"\\n"}',
    ),
    ('{app=~".+", env=""}', LogQuery((Matcher("app", MatchOp.RE, ".+"), eq("env", ""))), None),
    ('{app="foo"} # all of it', query(), '{app="foo"}'),
    ('# a comment first\n{app="foo"} // and Go comments\n/* too */', query(), '{app="foo"}'),
    # Line filters: the ones right after the selector, then the rest as stages.
    (
        '{app="foo"} |= "error" != "timeout" |~ "5.." !~ `4\\d\\d` |> "<_> err <_>" !> "<_> ok"',
        query(
            line_filters=(
                contains("error"),
                LineFilter(LineOp.NOT_CONTAINS, ("timeout",)),
                LineFilter(LineOp.MATCHES, ("5..",)),
                LineFilter(LineOp.NOT_MATCHES, ("4\\d\\d",)),
                LineFilter(LineOp.PATTERN, ("<_> err <_>",)),
                LineFilter(LineOp.NOT_PATTERN, ("<_> ok",)),
            )
        ),
        '{app="foo"} |= "error" != "timeout" |~ "5.." !~ "4\\\\d\\\\d" |> "<_> err <_>" '
        '!> "<_> ok"',
    ),
    (
        '{app="foo"} |= "a" or "b" or `c` != "d" OR "e"',
        query(line_filters=(contains("a", "b", "c"), LineFilter(LineOp.NOT_CONTAINS, ("d", "e")))),
        '{app="foo"} |= "a" or "b" or "c" != "d" or "e"',
    ),
    (
        '{app="foo"} |= ip("10.0.0.0/8") or "foo" or ip("::1") != ip("192.168.1.1-192.168.1.9")',
        query(
            line_filters=(
                contains(IP("10.0.0.0/8"), "foo", IP("::1")),
                LineFilter(LineOp.NOT_CONTAINS, (IP("192.168.1.1-192.168.1.9"),)),
            )
        ),
        '{app="foo"} |= ip("10.0.0.0/8") or "foo" or ip("::1") != ip("192.168.1.1-192.168.1.9")',
    ),
    (
        '{app="foo"} |= "x" | json |= "y" !~ "z"',
        query(
            JsonParser(),
            contains("y"),
            LineFilter(LineOp.NOT_MATCHES, ("z",)),
            line_filters=(contains("x"),),
        ),
        '{app="foo"} |= "x" | json |= "y" !~ "z"',
    ),
    # Parsers.
    (
        '{app="foo"} | json | json a="x.y", b="list[0]", c, d=`["k"]`',
        query(
            JsonParser(),
            JsonParser(
                (
                    Extraction("a", "x.y"),
                    Extraction("b", "list[0]"),
                    Extraction("c", "c"),
                    Extraction("d", '["k"]'),
                )
            ),
        ),
        '{app="foo"} | json | json a="x.y", b="list[0]", c, d="[\\"k\\"]"',
    ),
    (
        '{app="foo"} | logfmt | logfmt --strict | LOGFMT --keep-empty --strict a, b="c"',
        query(
            LogfmtParser(),
            LogfmtParser(strict=True),
            LogfmtParser(
                (Extraction("a", "a"), Extraction("b", "c")), strict=True, keep_empty=True
            ),
        ),
        '{app="foo"} | logfmt | logfmt --strict | logfmt --strict --keep-empty a, b="c"',
    ),
    (
        '{app="foo"} | regexp "(?P<ip>\\\\S+) (?P<verb>\\\\w+)" | pattern `<ip> - <_> "<m> <u>"` '
        "| unpack",
        query(
            RegexpParser("(?P<ip>\\S+) (?P<verb>\\w+)"),
            PatternParser('<ip> - <_> "<m> <u>"'),
            UnpackParser(),
        ),
        '{app="foo"} | regexp "(?P<ip>\\\\S+) (?P<verb>\\\\w+)" | pattern "<ip> - <_> \\"<m> '
        '<u>\\"" | unpack',
    ),
    # Label filters of every kind.
    (
        '{app="foo"} | level="error" | level!="debug" | path=~"/api.*" | path!~"/health"',
        query(
            where(eq("level", "error")),
            where(Matcher("level", MatchOp.NE, "debug")),
            where(Matcher("path", MatchOp.RE, "/api.*")),
            where(Matcher("path", MatchOp.NRE, "/health")),
        ),
        '{app="foo"} | level="error" | level!="debug" | path=~"/api.*" | path!~"/health"',
    ),
    (
        '{app="foo"} | status >= 500 | status==200 | status = 404 | x != -1.5 | y < 1e3 | z<=+2',
        query(
            where(NumberFilter("status", CompareOp.GE, 500.0)),
            where(NumberFilter("status", CompareOp.EQ, 200.0)),
            where(NumberFilter("status", CompareOp.EQ, 404.0)),
            where(NumberFilter("x", CompareOp.NE, -1.5)),
            where(NumberFilter("y", CompareOp.LT, 1000.0)),
            where(NumberFilter("z", CompareOp.LE, 2.0)),
        ),
        '{app="foo"} | status >= 500 | status == 200 | status == 404 | x != -1.5 | y < 1000 '
        "| z <= 2",
    ),
    (
        '{app="foo"} | latency > 250ms | latency <= 1h2m | took = 1.5s | age != -48h',
        query(
            where(DurationFilter("latency", CompareOp.GT, 250 * MS)),
            where(DurationFilter("latency", CompareOp.LE, H + 2 * M)),
            where(DurationFilter("took", CompareOp.EQ, 1500 * MS)),
            where(DurationFilter("age", CompareOp.NE, -48 * H)),
        ),
        '{app="foo"} | latency > 250ms | latency <= 1h2m | took == 1s500ms | age != -48h',
    ),
    (
        '{app="foo"} | size > 20MB | size <= 1KiB | size == 1.5KB | size != 0B',
        query(
            where(BytesFilter("size", CompareOp.GT, 20_000_000)),
            where(BytesFilter("size", CompareOp.LE, 1024)),
            where(BytesFilter("size", CompareOp.EQ, 1500)),
            where(BytesFilter("size", CompareOp.NE, 0)),
        ),
        '{app="foo"} | size > 20MB | size <= 1KiB | size == 1500B | size != 0B',
    ),
    (
        '{app="foo"} | addr = ip("10.0.0.0/8") | addr != ip("::1")',
        query(
            where(IPFilter("addr", MatchOp.EQ, "10.0.0.0/8")),
            where(IPFilter("addr", MatchOp.NE, "::1")),
        ),
        '{app="foo"} | addr=ip("10.0.0.0/8") | addr!=ip("::1")',
    ),
    (
        '{app="foo"} | json | __error__="" | __error__ != "JSONParserErr"',
        query(
            JsonParser(),
            where(eq("__error__", "")),
            where(Matcher("__error__", MatchOp.NE, "JSONParserErr")),
        ),
        '{app="foo"} | json | __error__="" | __error__!="JSONParserErr"',
    ),
    (
        '{app="foo"} | a="1" and b="2" | a="1", b="2" | a="1" b="2" | a="1" or b="2"',
        query(
            where(AndFilter(eq("a", "1"), eq("b", "2"))),
            where(AndFilter(eq("a", "1"), eq("b", "2"))),
            where(AndFilter(eq("a", "1"), eq("b", "2"))),
            where(OrFilter(eq("a", "1"), eq("b", "2"))),
        ),
        '{app="foo"} | a="1" and b="2" | a="1" and b="2" | a="1" and b="2" | a="1" or b="2"',
    ),
    (
        '{app="foo"} | (a="1" or b > 2) and (c < 3s or d >= 4KB)',
        query(
            where(
                AndFilter(
                    OrFilter(eq("a", "1"), NumberFilter("b", CompareOp.GT, 2.0)),
                    OrFilter(
                        DurationFilter("c", CompareOp.LT, 3 * S),
                        BytesFilter("d", CompareOp.GE, 4000),
                    ),
                )
            )
        ),
        '{app="foo"} | (a="1" or b > 2) and (c < 3s or d >= 4KB)',
    ),
    (
        # Names of functions are label names when no `(` follows.
        '{app="foo", ip="1.2.3.4"} | rate > 5 | ip = "x" | sum = ip("1.1.1.1")',
        LogQuery(
            (APP, eq("ip", "1.2.3.4")),
            (),
            (
                where(NumberFilter("rate", CompareOp.GT, 5.0)),
                where(eq("ip", "x")),
                where(IPFilter("sum", MatchOp.EQ, "1.1.1.1")),
            ),
        ),
        '{app="foo", ip="1.2.3.4"} | rate > 5 | ip="x" | sum=ip("1.1.1.1")',
    ),
    # Formatting stages.
    (
        '{app="foo"} | line_format "{{.level}}: {{.msg}}" | line_format `{{ .a | upper }}`',
        query(LineFormat("{{.level}}: {{.msg}}"), LineFormat("{{ .a | upper }}")),
        '{app="foo"} | line_format "{{.level}}: {{.msg}}" | line_format "{{ .a | upper }}"',
    ),
    (
        '{app="foo"} | label_format dst=src, tmpl="{{.a}}-{{.b}}",x=`{{ __line__ }}`',
        query(
            LabelFormat(
                (
                    LabelRename("dst", "src"),
                    LabelTemplate("tmpl", "{{.a}}-{{.b}}"),
                    LabelTemplate("x", "{{ __line__ }}"),
                )
            )
        ),
        '{app="foo"} | label_format dst=src, tmpl="{{.a}}-{{.b}}", x="{{ __line__ }}"',
    ),
    (
        '{app="foo"} | drop a, b="v", c=~"x.*", __error__ | keep a,b!="z" | decolorize',
        query(
            Drop(("a", eq("b", "v"), Matcher("c", MatchOp.RE, "x.*"), "__error__")),
            Keep(("a", Matcher("b", MatchOp.NE, "z"))),
            Decolorize(),
        ),
        '{app="foo"} | drop a, b="v", c=~"x.*", __error__ | keep a, b!="z" | decolorize',
    ),
    (
        '({app="foo"} |= "x")',
        query(line_filters=(contains("x"),)),
        '{app="foo"} |= "x"',
    ),
    # Range aggregations over log lines.
    ('count_over_time({app="foo"}[5m])', COUNT, 'count_over_time({app="foo"}[5m])'),
    ('rate({app="foo"}[5m])', RATE, 'rate({app="foo"}[5m])'),
    (
        'bytes_rate({app="foo"} |= "x" [1h30m])',
        over(RangeFunction.BYTES_RATE, query(line_filters=(contains("x"),)), range_ns=H + 30 * M),
        'bytes_rate({app="foo"} |= "x" [1h30m])',
    ),
    (
        'bytes_over_time({app="foo"}[90s])',
        over(RangeFunction.BYTES_OVER_TIME, range_ns=90 * S),
        'bytes_over_time({app="foo"}[1m30s])',
    ),
    (
        'absent_over_time({app="foo"}[1d])',
        over(RangeFunction.ABSENT_OVER_TIME, range_ns=24 * H),
        'absent_over_time({app="foo"}[1d])',
    ),
    # The pipeline may come after the range, and the range in parentheses.
    (
        'rate({app="foo"}[5m] |= "x" | json)',
        over(RangeFunction.RATE, query(JsonParser(), line_filters=(contains("x"),))),
        'rate({app="foo"} |= "x" | json [5m])',
    ),
    ('rate(({app="foo"})[5m])', RATE, 'rate({app="foo"}[5m])'),
    ('rate(({app="foo"}[5m]))', RATE, 'rate({app="foo"}[5m])'),
    (
        'rate(({app="foo"} |= "x")[5m])',
        over(RangeFunction.RATE, query(line_filters=(contains("x"),))),
        'rate({app="foo"} |= "x" [5m])',
    ),
    # Offsets.
    (
        'count_over_time({app="foo"}[5m] offset 1h)',
        over(RangeFunction.COUNT_OVER_TIME, offset_ns=H),
        'count_over_time({app="foo"}[5m] offset 1h)',
    ),
    (
        'count_over_time({app="foo"}[5m] OFFSET -90m)',
        over(RangeFunction.COUNT_OVER_TIME, offset_ns=-90 * M),
        'count_over_time({app="foo"}[5m] offset -1h30m)',
    ),
    (
        'count_over_time({app="foo"}[5m] offset 1.5h | json)',
        over(RangeFunction.COUNT_OVER_TIME, query(JsonParser()), offset_ns=90 * M),
        'count_over_time({app="foo"} | json [5m] offset 1h30m)',
    ),
    # Unwrapped range aggregations.
    (
        'sum_over_time({app="foo"} | logfmt | unwrap bytes_sent [5m])',
        over(RangeFunction.SUM_OVER_TIME, query(LogfmtParser()), unwrap=Unwrap("bytes_sent")),
        'sum_over_time({app="foo"} | logfmt | unwrap bytes_sent [5m])',
    ),
    (
        'avg_over_time({app="foo"} | json | unwrap duration(latency) | __error__="" [5m]) '
        "by (host)",
        over(
            RangeFunction.AVG_OVER_TIME,
            query(JsonParser()),
            unwrap=Unwrap("latency", Conversion.DURATION, (eq("__error__", ""),)),
            grouping=by("host"),
        ),
        'avg_over_time({app="foo"} | json | unwrap duration(latency) | __error__="" [5m]) '
        "by (host)",
    ),
    (
        'max_over_time({app="foo"}[1m] | unwrap bytes(size) | size > 0 or x="y") without (pod)',
        over(
            RangeFunction.MAX_OVER_TIME,
            unwrap=Unwrap(
                "size",
                Conversion.BYTES,
                (OrFilter(NumberFilter("size", CompareOp.GT, 0.0), eq("x", "y")),),
            ),
            range_ns=M,
            grouping=Grouping(("pod",), without=True),
        ),
        'max_over_time({app="foo"} | unwrap bytes(size) | size > 0 or x="y" [1m]) without (pod)',
    ),
    (
        'quantile_over_time(0.99, {app="foo"} | unwrap duration_seconds(d) [5m]) by (x, y)',
        over(
            RangeFunction.QUANTILE_OVER_TIME,
            unwrap=Unwrap("d", Conversion.DURATION_SECONDS),
            parameter=0.99,
            grouping=by("x", "y"),
        ),
        'quantile_over_time(0.99, {app="foo"} | unwrap duration_seconds(d) [5m]) by (x, y)',
    ),
    (
        'min_over_time(({app="foo"} | unwrap x)[5m] offset 1m)',
        over(RangeFunction.MIN_OVER_TIME, unwrap=Unwrap("x"), offset_ns=M),
        'min_over_time({app="foo"} | unwrap x [5m] offset 1m)',
    ),
    (
        'stddev_over_time({app="foo"}[5m] | unwrap x) by ()',
        over(RangeFunction.STDDEV_OVER_TIME, unwrap=Unwrap("x"), grouping=Grouping()),
        'stddev_over_time({app="foo"} | unwrap x [5m]) by ()',
    ),
    *[
        (
            f'{function.value}({{app="foo"}} | unwrap x [5m])',
            over(function, unwrap=Unwrap("x")),
            f'{function.value}({{app="foo"}} | unwrap x [5m])',
        )
        for function in (
            RangeFunction.STDVAR_OVER_TIME,
            RangeFunction.FIRST_OVER_TIME,
            RangeFunction.LAST_OVER_TIME,
            RangeFunction.RATE,
            RangeFunction.RATE_COUNTER,
            RangeFunction.ABSENT_OVER_TIME,
        )
    ],
    # Vector aggregations, grouping before or after.
    ('sum(count_over_time({app="foo"}[5m]))', VectorAggregation(VectorOp.SUM, COUNT), None),
    (
        'sum(count_over_time({app="foo"} [5m]))',
        VectorAggregation(VectorOp.SUM, COUNT),
        'sum(count_over_time({app="foo"}[5m]))',
    ),
    (
        'sum by (level, host) (rate({app="foo"}[5m]))',
        VectorAggregation(VectorOp.SUM, RATE, by("level", "host")),
        'sum by (level, host) (rate({app="foo"}[5m]))',
    ),
    (
        'SUM(rate({app="foo"}[5m])) BY (level)',
        VectorAggregation(VectorOp.SUM, RATE, by("level")),
        'sum by (level) (rate({app="foo"}[5m]))',
    ),
    (
        'avg without (pod) (rate({app="foo"}[5m]))',
        VectorAggregation(VectorOp.AVG, RATE, Grouping(("pod",), without=True)),
        'avg without (pod) (rate({app="foo"}[5m]))',
    ),
    (
        'max by () (rate({app="foo"}[5m]))',
        VectorAggregation(VectorOp.MAX, RATE),
        'max(rate({app="foo"}[5m]))',
    ),
    *[
        (
            f'{op.value}(rate({{app="foo"}}[5m]))',
            VectorAggregation(op, RATE),
            f'{op.value}(rate({{app="foo"}}[5m]))',
        )
        for op in (
            VectorOp.MIN,
            VectorOp.COUNT,
            VectorOp.STDDEV,
            VectorOp.STDVAR,
            VectorOp.SORT,
            VectorOp.SORT_DESC,
        )
    ],
    (
        'topk(5, sum by (path) (rate({app="foo"}[5m])))',
        VectorAggregation(
            VectorOp.TOPK, VectorAggregation(VectorOp.SUM, RATE, by("path")), parameter=5
        ),
        'topk(5, sum by (path) (rate({app="foo"}[5m])))',
    ),
    (
        'bottomk by (a) (3, rate({app="foo"}[5m]))',
        VectorAggregation(VectorOp.BOTTOMK, RATE, by("a"), parameter=3),
        'bottomk by (a) (3, rate({app="foo"}[5m]))',
    ),
    (
        'approx_topk(10, rate({app="foo"}[5m]))',
        VectorAggregation(VectorOp.APPROX_TOPK, RATE, parameter=10),
        'approx_topk(10, rate({app="foo"}[5m]))',
    ),
    (
        'sort_desc without () (rate({app="foo"}[5m]))',
        VectorAggregation(VectorOp.SORT_DESC, RATE, Grouping(without=True)),
        'sort_desc without () (rate({app="foo"}[5m]))',
    ),
    # Binary operations and their modifiers.
    (
        'sum(rate({app="foo"} |= "error" [5m])) / sum(rate({app="foo"}[5m]))',
        binary(
            BinaryOp.DIV,
            VectorAggregation(
                VectorOp.SUM,
                over(RangeFunction.RATE, query(line_filters=(contains("error"),))),
            ),
            VectorAggregation(VectorOp.SUM, RATE),
        ),
        'sum(rate({app="foo"} |= "error" [5m])) / sum(rate({app="foo"}[5m]))',
    ),
    (
        'rate({app="foo"}[5m]) > bool 10',
        binary(BinaryOp.GT, RATE, Number(10.0), return_bool=True),
        'rate({app="foo"}[5m]) > bool 10',
    ),
    (
        'rate({app="foo"}[5m]) * on (a, b) group_left (c) rate({app="foo"}[5m])',
        binary(
            BinaryOp.MUL,
            RATE,
            RATE,
            matching=VectorMatching(True, ("a", "b"), Cardinality.MANY_TO_ONE, ("c",)),
        ),
        'rate({app="foo"}[5m]) * on (a, b) group_left (c) rate({app="foo"}[5m])',
    ),
    (
        'rate({app="foo"}[5m]) + ignoring(x) group_right rate({app="foo"}[5m])',
        binary(
            BinaryOp.ADD,
            RATE,
            RATE,
            matching=VectorMatching(False, ("x",), Cardinality.ONE_TO_MANY),
        ),
        'rate({app="foo"}[5m]) + ignoring (x) group_right rate({app="foo"}[5m])',
    ),
    (
        'rate({app="foo"}[5m]) == bool on () rate({app="foo"}[5m])',
        binary(BinaryOp.EQ, RATE, RATE, return_bool=True, matching=VectorMatching(True)),
        'rate({app="foo"}[5m]) == bool on () rate({app="foo"}[5m])',
    ),
    (
        'rate({app="foo"}[5m]) - on (a) group_left () (rate({app="foo"}[5m]) + 1)',
        binary(
            BinaryOp.SUB,
            RATE,
            binary(BinaryOp.ADD, RATE, Number(1.0)),
            matching=VectorMatching(True, ("a",), Cardinality.MANY_TO_ONE),
        ),
        'rate({app="foo"}[5m]) - on (a) group_left () (rate({app="foo"}[5m]) + 1)',
    ),
    (
        'count_over_time({app="foo"}[5m]) or vector(0)',
        binary(BinaryOp.OR, COUNT, Vector(0.0)),
        'count_over_time({app="foo"}[5m]) or vector(0)',
    ),
    (
        'rate({app="foo"}[5m]) and rate({app="foo"}[5m]) unless rate({app="foo"}[5m])',
        binary(BinaryOp.UNLESS, binary(BinaryOp.AND, RATE, RATE), RATE),
        'rate({app="foo"}[5m]) and rate({app="foo"}[5m]) unless rate({app="foo"}[5m])',
    ),
    ("vector(1) + vector(1)", binary(BinaryOp.ADD, Vector(1.0), Vector(1.0)), None),
    (
        '2 * rate({app="foo"}[5m]) % 3 ^ -1',
        binary(
            BinaryOp.MOD,
            binary(BinaryOp.MUL, Number(2.0), RATE),
            Number(3.0**-1),
        ),
        '2 * rate({app="foo"}[5m]) % 0.3333333333333333',
    ),
    (
        '(rate({app="foo"}[5m]))',
        RATE,
        'rate({app="foo"}[5m])',
    ),
    # Numbers, folded as Loki folds them.
    ("1", Number(1.0), "1"),
    ("-2.5", Number(-2.5), "-2.5"),
    ("1 + 1", Number(2.0), "2"),
    ("(1 + 2) * 3", Number(9.0), "9"),
    ("2 > 1", Number(1.0), "1"),
    ("1 >= bool 2", Number(0.0), "0"),
    ("1 / 0", Number(math.nan), "(0 / 0)"),
    ("2 ^ 1024", Number(math.inf), "(2 ^ 1024)"),
    ("-2 ^ 1025", Number(-math.inf), "(-2 ^ 1025)"),
    ("1e20", Number(1e20), "1e+20"),
    # Functions.
    (
        'label_replace(rate({app="foo"}[5m]), "dst", "$1-x", "src", "(.*)")',
        LabelReplace(RATE, "dst", "$1-x", "src", "(.*)"),
        'label_replace(rate({app="foo"}[5m]), "dst", "$1-x", "src", "(.*)")',
    ),
    ("vector(2.5)", Vector(2.5), None),
    (
        '\n# errors per minute\nsum by (host) (\n\tcount_over_time(\n\t\t{app="foo"}\n'
        '\t\t|= "error" # lines with errors\n\t\t[1m]\n\t)\n)\n',
        VectorAggregation(
            VectorOp.SUM,
            over(
                RangeFunction.COUNT_OVER_TIME,
                query(line_filters=(contains("error"),)),
                range_ns=M,
            ),
            by("host"),
        ),
        'sum by (host) (count_over_time({app="foo"} |= "error" [1m]))',
    ),
]


@pytest.mark.parametrize(("text", "tree", "canonical"), CASES, ids=[case[0] for case in CASES])
def test_round_trip(text: str, tree: Expr, canonical: str | None) -> None:
    assert parse(text) == tree
    expected = text if canonical is None else canonical
    assert to_text(tree) == expected
    assert parse(expected) == tree


def rate_of(app: str) -> str:
    return f'rate({{app="{app}"}}[1m])'


A, B, C, D = (rate_of(name) for name in "abcd")

# Each pair parses to one tree: the left side leans on precedence, the right spells it out.
SAME_TREE = [
    # Loki's levels, loosest first: or; and unless; comparisons; + -; * / %; ^.
    (f"{A} + {B} * {C}", f"{A} + ({B} * {C})"),
    (f"{A} * {B} + {C}", f"({A} * {B}) + {C}"),
    (f"{A} - {B} - {C}", f"({A} - {B}) - {C}"),
    (f"{A} / {B} % {C}", f"({A} / {B}) % {C}"),
    (f"{A} ^ {B} ^ {C}", f"{A} ^ ({B} ^ {C})"),
    (f"{A} * {B} ^ {C}", f"{A} * ({B} ^ {C})"),
    (f"{A} > {B} + {C}", f"{A} > ({B} + {C})"),
    (f"{A} > {B} == {C}", f"({A} > {B}) == {C}"),
    (f"{A} or {B} and {C}", f"{A} or ({B} and {C})"),
    (f"{A} and {B} or {C}", f"({A} and {B}) or {C}"),
    (f"{A} and {B} unless {C}", f"({A} and {B}) unless {C}"),
    (f"{A} unless {B} > {C}", f"{A} unless ({B} > {C})"),
    (f"{A} or {B} > bool 1 * {C}", f"{A} or ({B} > bool (1 * {C}))"),
    (f"{A} + on (x) {B} * {C}", f"{A} + on (x) ({B} * {C})"),
    # A sign belongs to its number: -2 ^ 2 is (-2) ^ 2.
    ("-2 ^ 2", "4"),
    (f"2 ^ -1 * {A}", f"0.5 * {A}"),
    # Label filters: `and` binds tighter than `or`, both group to the left...
    ('{a="b"} | x=1 and y=2 or z=3', '{a="b"} | (x=1 and y=2) or z=3'),
    ('{a="b"} | x=1 or y=2 and z=3', '{a="b"} | x=1 or (y=2 and z=3)'),
    ('{a="b"} | x=1 and y=2 and z=3', '{a="b"} | (x=1 and y=2) and z=3'),
    ('{a="b"} | x=1 or y=2 or z=3', '{a="b"} | (x=1 or y=2) or z=3'),
    # ...while `,` and juxtaposition take the rest of the stage as their right side.
    ('{a="b"} | x=1, y=2 or z=3', '{a="b"} | x=1 and (y=2 or z=3)'),
    ('{a="b"} | x=1 y=2 or z=3', '{a="b"} | x=1 and (y=2 or z=3)'),
    ('{a="b"} | x=1 or y=2, z=3', '{a="b"} | x=1 or (y=2 and z=3)'),
    ('{a="b"} | x=1, y=2, z=3', '{a="b"} | x=1 and (y=2 and z=3)'),
    ('{a="b"} | x=1 and y=2, z=3 or w=4', '{a="b"} | x=1 and (y=2 and (z=3 or w=4))'),
    ('{a="b"} | x=1 (y=2 or z=3)', '{a="b"} | x=1 and (y=2 or z=3)'),
    # A line filter after any other stage is a stage, not a leading filter.
    ('{a="b"} | x=1 |= "y"', '{a="b"} | x=1 |= "y"'),
    # Grouping before or after a vector aggregation's arguments.
    (f"sum by (x) ({A})", f"sum({A}) by (x)"),
    (f"topk by (x) (3, {A})", f"topk(3, {A}) by (x)"),
    # Keywords and function names in any case.
    (f"SUM BY (x) ({A})", f"sum by (x) ({A})"),
    ('Count_Over_Time({a="b"} | JSON | Drop x [1m]) Or Vector(1)',
     'count_over_time({a="b"} | json | drop x [1m]) or vector(1)'),
]  # fmt: skip


@pytest.mark.parametrize(("implicit", "explicit"), SAME_TREE)
def test_precedence(implicit: str, explicit: str) -> None:
    assert parse(implicit) == parse(explicit)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 + 2 * 3", 7.0),
        ("2 ^ 3 ^ 2", 512.0),
        ("10 % 3", 1.0),
        ("-7 % 3", -1.0),  # Go's math.Mod keeps the dividend's sign
        ("7 - 10", -3.0),
        ("1 - -1", 2.0),
        ("3 == 3", 1.0),
        ("3 != 3", 0.0),
        ("1 < 2", 1.0),
        ("2 <= 1", 0.0),
        ("2 >= bool 2", 1.0),
        ("0 ^ -1", math.inf),
        ("(-8) ^ (1 / 3)", math.nan),
    ],
)
def test_numbers_fold(text: str, value: float) -> None:
    assert parse(text) == Number(value)


def test_nan_equals_nan_only_inside_number() -> None:
    assert Number(math.nan) == Number(math.nan)
    assert hash(Number(math.nan)) == hash(Number(float("nan")))
    assert Number(math.nan) != Number(0.0)
    assert Number(1.0) != Vector(1.0)


def test_leading_line_filters_are_kept_apart_for_the_database() -> None:
    expr = parse('{a="b"} |= "x" != "y" | json | level="error" |= "z"')
    assert isinstance(expr, LogQuery)
    assert [f.values for f in expr.line_filters] == [("x",), ("y",)]
    assert [type(stage).__name__ for stage in expr.stages] == [
        "JsonParser",
        "LabelFilter",
        "LineFilter",
    ]
    with pytest.raises(ValueError, match="leading line filters belong in line_filters"):
        LogQuery((APP,), (), (contains("x"),))


def test_negated_line_filters_with_or_reject_every_value() -> None:
    assert LineOp.NOT_CONTAINS.negated and LineOp.NOT_PATTERN.negated
    assert not LineOp.CONTAINS.negated and not LineOp.MATCHES.negated


def test_nodes_check_what_the_grammar_forbids() -> None:
    with pytest.raises(ValueError):
        LineFilter(LineOp.MATCHES, (IP("1.2.3.4"),))
    with pytest.raises(ValueError):
        LineFilter(LineOp.CONTAINS, ())
    with pytest.raises(ValueError):
        IPFilter("a", MatchOp.RE, "1.2.3.4")
    with pytest.raises(ValueError):
        LabelFormat(())


@pytest.mark.parametrize(
    ("node", "text"),
    [
        (Grouping(("a",), without=True), "without (a)"),
        (VectorMatching(False, ("a",), Cardinality.ONE_TO_MANY, ("b",)),
         "ignoring (a) group_right (b)"),
        (Unwrap("x", Conversion.BYTES, (eq("__error__", ""),)), 'unwrap bytes(x) | __error__=""'),
        (LogRange(query(JsonParser()), 5 * M, H), '{app="foo"} | json [5m] offset 1h'),
        (Extraction("a", "b.c"), 'a="b.c"'),
        (LabelRename("a", "b"), "a=b"),
        (LabelTemplate("a", "{{.b}}"), 'a="{{.b}}"'),
        (contains("a", "b"), '|= "a" or "b"'),
        (JsonParser(), "json"),
        (where(eq("a", "1")), 'a="1"'),
        (AndFilter(eq("a", "1"), OrFilter(eq("b", "2"), eq("c", "3"))),
         'a="1" and (b="2" or c="3")'),
        (BytesFilter("size", CompareOp.GT, 1024), "size > 1KiB"),
    ],
)  # fmt: skip
def test_parts_write_as_they_read_in_a_query(node: logql.Node, text: str) -> None:
    assert to_text(node) == text


def test_dunder_all_is_sorted_and_complete() -> None:
    # In ruff's order (RUF022): constants, then classes, then functions, each sorted.
    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert sorted(logql.__all__, key=kind) == list(logql.__all__)
    assert [name for name in logql.__all__ if not hasattr(logql, name)] == []
    assert issubclass(logql.ParseError, InvalidRequest)


def test_nodes_are_immutable() -> None:
    node = eq("a", "b")
    with pytest.raises(AttributeError):
        node.name = "c"  # type: ignore[misc]
    assert not hasattr(node, "__dict__")
