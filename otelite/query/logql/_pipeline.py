"""Parsing log queries: the stream selector, line filters, pipeline stages, label filters
and ``unwrap``.

The grammar, as Loki's ``syntax.y`` has it::

    log-query    := selector { line-filter | "|" stage }
    selector     := "{" [ matcher { "," matcher } ] "}"
    matcher      := IDENT ( "=" | "!=" | "=~" | "!~" ) STRING
    line-filter  := ( "|=" | "!=" | "|~" | "!~" | "|>" | "!>" ) value { "or" value }
    value        := STRING | "ip" "(" STRING ")"
    stage        := "json" [ extractions ] | "logfmt" { FLAG } [ extractions ]
                  | "regexp" STRING | "pattern" STRING | "unpack" | "decolorize"
                  | "line_format" STRING | "label_format" format { "," format }
                  | "drop" named { "," named } | "keep" named { "," named }
                  | condition
    unwrap       := "|" "unwrap" ( IDENT | conversion "(" IDENT ")" ) { "|" condition }

Label conditions combine with ``and``, ``or``, ``,`` and plain juxtaposition. ``and``
binds tighter than ``or``, both group to the left; ``,`` and juxtaposition take the one
condition before them and everything after them, because Loki's grammar gives them no
precedence and yacc then shifts: ``a, b or c`` is ``a and (b or c)``, and ``a or b, c``
is ``a or (b and c)``.
"""

from __future__ import annotations

import re

from otelite.query.logql._ast import (
    IP,
    AndFilter,
    BytesFilter,
    Decolorize,
    Drop,
    DurationFilter,
    Extraction,
    IPFilter,
    JsonParser,
    Keep,
    LabelCondition,
    LabelFilter,
    LabelFormat,
    LabelRename,
    LabelTemplate,
    LineFilter,
    LineFormat,
    LogfmtParser,
    LogQuery,
    Matcher,
    NumberFilter,
    OrFilter,
    PatternParser,
    RegexpParser,
    Stage,
    UnpackParser,
    Unwrap,
)
from otelite.query.logql._enums import CompareOp, Conversion, LineOp, MatchOp
from otelite.query.logql._lexer import Token, TokenKind
from otelite.query.logql._literals import parse_number
from otelite.query.logql._pattern import pattern_problem
from otelite.query.logql._stream import TokenStream

__all__ = ["PipelineParser"]

_MATCH_OPS = {op.value: op for op in MatchOp}
_LINE_OPS = {op.value: op for op in LineOp}
_COMPARE_OPS = {op.value: op for op in CompareOp} | {"=": CompareOp.EQ}
_CONVERSIONS = {conversion.value: conversion for conversion in Conversion}
_ERROR_LABEL = "__error__"
_EMPTY_SELECTOR = (
    "queries require at least one regexp or equality matcher that does not have an "
    'empty-compatible value. For instance, app=~".*" does not meet this requirement, '
    'but app=~".+" will'
)
_LITERAL_FAULT = "unable to parse literal as a float"
# Binding powers (left, right) of the ways to join label conditions; see the docstring.
_AND, _OR, _JOIN = (2, 2), (1, 1), (100, 0)


class PipelineParser(TokenStream):
    def log_query(self, *, in_range: bool) -> LogQuery:
        """A selector and what follows it, up to (not including) ``| unwrap`` when
        ``in_range``; elsewhere ``unwrap`` is an error."""
        return self.pipeline(self.selector(), in_range=in_range)

    def pipeline(self, selector: tuple[Matcher, ...], *, in_range: bool) -> LogQuery:
        """The line filters and stages after ``selector``, which has been read."""
        line_filters: list[LineFilter] = []
        stages: list[Stage] = []
        while True:
            if self.at(*_LINE_OPS):
                (stages if stages else line_filters).append(self.line_filter())
            elif self.at("|") and self.at_keyword("unwrap", ahead=1):
                if in_range:
                    break
                raise self.unexpected(
                    token=self.peek(1),
                    hint="unwrap is only allowed inside a range aggregation, such as "
                    'sum_over_time({app="x"} | unwrap latency [5m])',
                )
            elif self.accept("|"):
                stages.append(self.stage())
            else:
                return LogQuery(selector, tuple(line_filters), tuple(stages))
        return LogQuery(selector, tuple(line_filters), tuple(stages))

    # Selectors ---------------------------------------------------------------------------

    def selector(self) -> tuple[Matcher, ...]:
        opening = self.expect("{")
        matchers: list[Matcher] = []
        if not self.accept("}"):
            matchers.append(self.matcher("IDENTIFIER or }"))
            while self.accept(","):
                matchers.append(self.matcher())
            self.expect("}", "} or ,")
        if not any(_selects(matcher) for matcher in matchers):
            raise self.error(_EMPTY_SELECTOR, opening)
        return tuple(matchers)

    def matcher(self, expecting: str = "IDENTIFIER") -> Matcher:
        name = self.expect_kind(TokenKind.IDENT, expecting)
        if not self.at(*_MATCH_OPS):
            raise self.unexpected("= or != or =~ or !~", hint=_dotted_hint(self.peek()))
        op = _MATCH_OPS[self.next().text]
        value = self.expect_kind(TokenKind.STRING)
        return Matcher(name.text, op, str(value.value))

    # Line filters --------------------------------------------------------------------------

    def line_filter(self) -> LineFilter:
        op_token = self.next()
        op = _LINE_OPS[op_token.text]
        values = [self.line_value(op)]
        while self.at_keyword("or"):
            self.next()
            values.append(self.line_value(op))
        return LineFilter(op, tuple(values))

    def line_value(self, op: LineOp) -> str | IP:
        token = self.peek()
        if token.kind is TokenKind.FUNCTION and token.value == "ip":
            if op not in (LineOp.CONTAINS, LineOp.NOT_CONTAINS):
                raise self.error(f"ip: invalid operation {op.value}: ip() takes |= or !=")
            return IP(self.ip_pattern())
        value = self.expect_kind(TokenKind.STRING, "STRING or ip")
        if op in (LineOp.PATTERN, LineOp.NOT_PATTERN):
            problem = pattern_problem(str(value.value), line_filter=True)
            if problem is not None:
                raise self.error(f"invalid pattern filter: {problem}", value)
        return str(value.value)

    def ip_pattern(self) -> str:
        self.next()
        self.expect("(")
        pattern = self.expect_kind(TokenKind.STRING)
        self.expect(")")
        return str(pattern.value)

    # Stages ---------------------------------------------------------------------------------

    def stage(self) -> Stage:
        token = self.peek()
        word = str(token.value) if token.kind is TokenKind.KEYWORD else ""
        if word in ("json", "logfmt", "regexp", "pattern", "unpack"):
            return self.parser_stage(word)
        if word in ("line_format", "label_format", "decolorize", "drop", "keep"):
            self.next()
            if word == "line_format":
                return LineFormat(str(self.expect_kind(TokenKind.STRING).value))
            if word == "label_format":
                return self.label_format()
            if word == "decolorize":
                return Decolorize()
            labels = self.named_labels()
            return Drop(labels) if word == "drop" else Keep(labels)
        if token.kind is TokenKind.IDENT or self.at("("):
            return LabelFilter(self.condition())
        raise self.unexpected(
            "a parser such as json or logfmt, a formatter such as line_format, or a label filter"
        )

    def parser_stage(self, word: str) -> Stage:
        self.next()
        if word == "json":
            return JsonParser(self.extractions())
        if word == "logfmt":
            flags: set[str] = set()
            while self.at_kind(TokenKind.FLAG):
                flags.add(str(self.next().value))
            if self.at("-") and self.at("-", ahead=1):
                raise self.unexpected(hint="logfmt's flags are --strict and --keep-empty")
            return LogfmtParser(
                self.extractions(), strict="--strict" in flags, keep_empty="--keep-empty" in flags
            )
        if word == "unpack":
            return UnpackParser()
        argument = self.expect_kind(TokenKind.STRING)
        if word == "regexp":
            return RegexpParser(str(argument.value))
        problem = pattern_problem(str(argument.value), line_filter=False)
        if problem is not None:
            raise self.error(f"invalid pattern parser: {problem}", argument)
        return PatternParser(str(argument.value))

    def extractions(self) -> tuple[Extraction, ...]:
        if not self.at_kind(TokenKind.IDENT):
            return ()
        found = [self.extraction()]
        while self.accept(","):
            found.append(self.extraction())
        return tuple(found)

    def extraction(self) -> Extraction:
        label = self.expect_kind(TokenKind.IDENT).text
        if not self.accept("="):
            return Extraction(label, label)
        return Extraction(label, str(self.expect_kind(TokenKind.STRING).value))

    def label_format(self) -> LabelFormat:
        items: list[LabelRename | LabelTemplate] = []
        seen: set[str] = set()
        while True:
            label = self.expect_kind(TokenKind.IDENT)
            if label.text == _ERROR_LABEL:
                raise self.error(f"{_ERROR_LABEL} cannot be formatted", label)
            if label.text in seen:
                raise self.error(
                    f"multiple label name '{label.text}' not allowed in a single format operation",
                    label,
                )
            seen.add(label.text)
            self.expect("=")
            if self.at_kind(TokenKind.IDENT):
                items.append(LabelRename(label.text, self.next().text))
            else:
                template = self.expect_kind(TokenKind.STRING, "IDENTIFIER or STRING")
                items.append(LabelTemplate(label.text, str(template.value)))
            if not self.accept(","):
                return LabelFormat(tuple(items))

    def named_labels(self) -> tuple[str | Matcher, ...]:
        labels: list[str | Matcher] = []
        while True:
            if self.at(*_MATCH_OPS, ahead=1):
                labels.append(self.matcher())
            else:
                labels.append(self.expect_kind(TokenKind.IDENT).text)
            if not self.accept(","):
                return tuple(labels)

    # Label conditions -------------------------------------------------------------------------

    def condition(self, min_power: int = 0) -> LabelCondition:
        left = self.condition_operand()
        while True:
            joiner: type[AndFilter] | type[OrFilter] = AndFilter
            written = True  # whether a token joins the two: `and`, `or`, `,`
            if self.at_keyword("and"):
                power, right_power = _AND
            elif self.at_keyword("or"):
                (power, right_power), joiner = _OR, OrFilter
            elif self.at(","):
                power, right_power = _JOIN
            elif self.at("(") or self.at_kind(TokenKind.IDENT):
                (power, right_power), written = _JOIN, False
            else:
                return left
            if power <= min_power:
                return left
            if written:
                self.next()
            left = joiner(left, self.condition(right_power))

    def condition_operand(self) -> LabelCondition:
        if self.accept("("):
            inner = self.condition()
            self.expect(")", ")")
            return inner
        name = self.expect_kind(TokenKind.IDENT, "IDENTIFIER or (")
        op_token = self.peek()
        if not self.at(*_MATCH_OPS, *_COMPARE_OPS):
            raise self.unexpected("a comparison such as = or >", hint=_dotted_hint(op_token))
        self.next()
        value = self.peek()
        if op_token.text in _MATCH_OPS:
            if value.kind is TokenKind.STRING:
                self.next()
                return Matcher(name.text, _MATCH_OPS[op_token.text], str(value.value))
            if op_token.text in ("=~", "!~"):
                raise self.unexpected("STRING")
            if value.kind is TokenKind.FUNCTION and value.value == "ip":
                return IPFilter(name.text, _MATCH_OPS[op_token.text], self.ip_pattern())
        op = _COMPARE_OPS[op_token.text]
        if value.kind is TokenKind.DURATION:
            self.next()
            return DurationFilter(name.text, op, int(value.value))
        if value.kind is TokenKind.BYTES:
            self.next()
            return BytesFilter(name.text, op, int(value.value))
        return NumberFilter(name.text, op, self.signed_number("a number, a duration or a size"))

    def signed_number(self, expecting: str) -> float:
        """``NUMBER``, ``+NUMBER`` or ``-NUMBER``: Loki's literal."""
        sign = 1.0
        if self.at("+", "-") and self.at_kind(TokenKind.NUMBER, ahead=1):
            sign = -1.0 if self.next().text == "-" else 1.0
        token = self.expect_kind(TokenKind.NUMBER, expecting)
        return sign * self.number_value(token)

    def number_value(self, token: Token, fault: str = _LITERAL_FAULT) -> float:
        """The value of a NUMBER token; ``fault`` starts the message if it is not one."""
        try:
            return parse_number(str(token.value))
        except ValueError as error:
            raise self.error(f"{fault}: {error}", token) from None

    # Unwrap ------------------------------------------------------------------------------------

    def unwrap(self) -> Unwrap:
        """``| unwrap ...`` and the label filters after it; the stream is at the ``|``."""
        self.next()
        self.next()
        token = self.peek()
        conversion: Conversion | None = None
        if token.kind is TokenKind.FUNCTION and token.value in _CONVERSIONS:
            conversion = _CONVERSIONS[str(self.next().value)]
            self.expect("(")
            label = self.expect_kind(TokenKind.IDENT).text
            self.expect(")")
        else:
            label = self.expect_kind(
                TokenKind.IDENT, "IDENTIFIER or bytes( or duration( or duration_seconds("
            ).text
        filters: list[LabelCondition] = []
        while self.accept("|"):
            if not (self.at_kind(TokenKind.IDENT) or self.at("(")):
                raise self.unexpected(
                    "IDENTIFIER or (", hint="only label filters may follow unwrap"
                )
            filters.append(self.condition())
        return Unwrap(label, conversion, tuple(filters))


def _selects(matcher: Matcher) -> bool:
    """Whether ``matcher`` narrows the streams: it does not match the empty value."""
    match matcher.op:
        case MatchOp.EQ:
            return matcher.value != ""
        case MatchOp.NE:
            return matcher.value == ""
    try:
        empty = re.fullmatch(matcher.value, "") is not None
    except re.error:
        return True  # Python cannot read it; the database will say if RE2 can
    return empty if matcher.op is MatchOp.NRE else not empty


def _dotted_hint(token: Token) -> str:
    # OpenTelemetry's attribute names have dots; Loki's label names cannot.
    if token.kind is TokenKind.OP and token.text == ".":
        return "label names have no dots: OpenTelemetry's service.name is service_name"
    return ""
