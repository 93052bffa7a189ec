"""The part of a log pipeline that runs in Python, stage after stage over a batch.

:func:`compile_stages` checks every stage once (regexes, JSON paths, templates, ``ip()``
patterns), so that a bad query fails before any data is read, and gives a
:class:`Pipeline` whose ``run`` takes the entries SQL selected and returns the ones that
pass, with their lines and labels as the stages leave them. Formatting (``line_format``,
``label_format``) goes through the Go-template interface of ``_template``
(:func:`compile_template`).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from otelite.errors import InvalidRequest
from otelite.query.logql._ast import (
    Decolorize,
    Drop,
    JsonParser,
    Keep,
    LabelFilter,
    LabelFormat,
    LabelRename,
    LineFilter,
    LineFormat,
    LogfmtParser,
    Matcher,
    PatternParser,
    RegexpParser,
    Stage,
    UnpackParser,
)
from otelite.query.logql._conditions import condition_test
from otelite.query.logql._entries import ERROR, ERROR_DETAILS, Entries, EntryLabels
from otelite.query.logql._match import line_test, matcher_test
from otelite.query.logql._parsers import (
    StageRun,
    json_stage,
    logfmt_stage,
    pattern_stage,
    regexp_stage,
    unpack_stage,
)

__all__ = ["TEMPLATE_ERROR", "Pipeline", "Template", "compile_stages", "compile_template"]

TEMPLATE_ERROR = "TemplateFormatErr"
# Loki's decolorize: acarl005/stripansi's expression.
_ANSI = re.compile(
    "[\u001b\u009b][\\[\\]()#;?]*(?:(?:(?:[a-zA-Z\\d]*(?:;[a-zA-Z\\d]*)*)?\u0007)"
    "|(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PRZcf-ntqry=><~]))"
)
_SPECIAL = frozenset((ERROR, ERROR_DETAILS, "__preserve_error__"))


class Template(Protocol):
    """A compiled Go template (``_template``'s): the labels by name, ``__line__`` and
    ``__timestamp__``."""

    def render(self, labels: Mapping[str, str], line: str, timestamp_ns: int) -> str: ...


def compile_template(text: str, what: str) -> tuple[Template, type[Exception]]:
    """``text`` compiled, and the error rendering raises; ``InvalidRequest`` for a
    template that does not compile (``what``: ``line`` or ``label 'x'``)."""
    try:
        module = importlib.import_module("otelite.query.logql._template")
    except ModuleNotFoundError:
        raise InvalidRequest("line_format and label_format are not supported yet") from None
    error = cast(type[Exception], module.TemplateError)
    try:
        template = cast(Template, module.compile_template(text))
    except error as problem:
        raise InvalidRequest(f"invalid {what} template: {problem}") from None
    return template, error


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Stages compiled for batches."""

    runs: tuple[StageRun, ...]

    def run(self, entries: Entries) -> Entries:
        """The entries that pass every stage, as the stages leave them."""
        for run in self.runs:
            if not entries:
                break
            entries = run(entries)
        return entries


def compile_stages(stages: Sequence[Stage]) -> Pipeline:
    """The stages, checked and ready to run; raises ``InvalidRequest`` for one that
    cannot run."""
    return Pipeline(tuple(_compile(stage) for stage in stages))


def _compile(stage: Stage) -> StageRun:
    match stage:
        case LineFilter():
            return _line_filter(stage)
        case LabelFilter():
            return _label_filter(stage)
        case JsonParser():
            return json_stage(stage)
        case LogfmtParser():
            return logfmt_stage(stage)
        case RegexpParser():
            return regexp_stage(stage)
        case PatternParser():
            return pattern_stage(stage)
        case UnpackParser():
            return unpack_stage()
        case LineFormat():
            return _line_format(stage)
        case LabelFormat():
            return _label_format(stage)
        case Drop():
            return _drop(stage)
        case Keep():
            return _keep(stage)
        case Decolorize():
            return _decolorize


def _line_filter(stage: LineFilter) -> StageRun:
    test = line_test(stage)

    def run(entries: Entries) -> Entries:
        return entries.kept([test(line) for line in entries.lines])

    return run


def _label_filter(stage: LabelFilter) -> StageRun:
    test = condition_test(stage.condition)

    def run(entries: Entries) -> Entries:
        return entries.kept([test(labels) for labels in entries.labels])

    return run


def _decolorize(entries: Entries) -> Entries:
    strip = _ANSI.sub
    entries.lines[:] = [strip("", line) for line in entries.lines]
    return entries


def _line_format(stage: LineFormat) -> StageRun:
    template, error = compile_template(stage.template, "line")

    def run(entries: Entries) -> Entries:
        lines = entries.lines
        for row, (at, labels) in enumerate(zip(entries.times, entries.labels, strict=True)):
            try:
                lines[row] = template.render(labels.as_dict(), lines[row], at)
            except error as problem:
                labels.set_error(TEMPLATE_ERROR, str(problem))
        return entries

    return run


def _label_format(stage: LabelFormat) -> StageRun:
    items: list[tuple[str, str | Template]] = []
    error: type[Exception] = Exception
    for item in stage.items:
        if isinstance(item, LabelRename):
            items.append((item.label, item.source))
        else:
            template, error = compile_template(item.template, f"label '{item.label}'")
            items.append((item.label, template))

    def run(entries: Entries) -> Entries:
        for at, line, labels in zip(entries.times, entries.lines, entries.labels, strict=True):
            # Every template of the stage sees the labels as the stage found them.
            seen: dict[str, str] | None = None
            for name, source in items:
                if isinstance(source, str):
                    value = labels.get(source)
                    if value is not None:
                        labels.set_parsed(name, value)
                        labels.delete(source)
                    continue
                if seen is None:
                    seen = labels.as_dict()
                try:
                    labels.set_parsed(name, source.render(seen, line, at))
                except error as problem:
                    labels.set_error(TEMPLATE_ERROR, str(problem))
        return entries

    return run


def _named(items: Sequence[str | Matcher]) -> list[tuple[str, Callable[[str], bool] | None]]:
    return [
        (item, None) if isinstance(item, str) else (item.name, matcher_test(item)) for item in items
    ]


def _drop(stage: Drop) -> StageRun:
    named = _named(stage.labels)

    def drop(labels: EntryLabels) -> None:
        for name, matches in named:
            if name == ERROR:
                if matches is None or matches(labels.error):
                    labels.error = ""
            elif name == ERROR_DETAILS:
                if matches is None or matches(labels.error_details):
                    labels.error_details = ""
            elif matches is None:
                if labels.get(name) is not None:
                    labels.delete(name)
            elif matches(labels.get(name) or ""):
                labels.delete(name)

    def run(entries: Entries) -> Entries:
        for labels in entries.labels:
            drop(labels)
        return entries

    return run


def _keep(stage: Keep) -> StageRun:
    named = _named(stage.labels)

    def keep(labels: EntryLabels) -> None:
        for label, value in list(labels.items()):
            if label in _SPECIAL:
                continue
            if not any(
                name == label and (matches is None or matches(value)) for name, matches in named
            ):
                labels.delete(label)

    def run(entries: Entries) -> Entries:
        for labels in entries.labels:
            keep(labels)
        return entries

    return run
