"""The part of a log pipeline that runs in Python, stage after stage over a batch.

:func:`compile_stages` checks every stage once (regexes, JSON paths, templates, ``ip()``
patterns), so that a bad query fails before any data is read, and gives a
:class:`Pipeline` whose ``run`` takes the entries SQL selected and returns the ones that
pass, with their lines and labels as the stages leave them. Formatting (``line_format``,
``label_format``) runs ``_template``'s Go templates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

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
from otelite.query.logql._json_parsers import json_stage, unpack_stage
from otelite.query.logql._match import line_test, matcher_test
from otelite.query.logql._parsers import StageRun, logfmt_stage, pattern_stage, regexp_stage
from otelite.query.logql._template import Template, TemplateError, compile_template

__all__ = ["TEMPLATE_ERROR", "Pipeline", "compile_stages"]

TEMPLATE_ERROR = "TemplateFormatErr"
# Loki's decolorize: acarl005/stripansi's expression.
_ANSI = re.compile(
    "[\u001b\u009b][\\[\\]()#;?]*(?:(?:(?:[a-zA-Z\\d]*(?:;[a-zA-Z\\d]*)*)?\u0007)"
    "|(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PRZcf-ntqry=><~]))"
)
_SPECIAL = frozenset((ERROR, ERROR_DETAILS, "__preserve_error__"))


def _compiled(text: str, *, label: str | None = None) -> Template:
    """A ``line_format`` template, or ``label``'s in ``label_format``; refused with
    Loki's words when it does not compile."""
    try:
        return compile_template(text, name="line" if label is None else "label")
    except TemplateError as problem:
        if label is None:
            raise InvalidRequest(f"invalid line template: {problem.message}") from None
        raise InvalidRequest(f"invalid template for label '{label}': {problem.message}") from None


class _Seen(Mapping[str, str]):
    """An entry's labels as a template reads them, the error labels among them, read
    where they are kept rather than copied."""

    __slots__ = ("_labels",)

    def __init__(self, labels: EntryLabels) -> None:
        self._labels = labels

    def __getitem__(self, name: str) -> str:
        labels = self._labels
        if name == ERROR:
            value = labels.error or None
        elif name == ERROR_DETAILS:
            value = labels.error_details or None
        else:
            value = labels.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._labels.items())

    def __len__(self) -> int:
        return sum(1 for _ in self._labels.items())


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
    template = _compiled(stage.template)

    def run(entries: Entries) -> Entries:
        lines = entries.lines
        for row, (at, labels) in enumerate(zip(entries.times, entries.labels, strict=True)):
            try:
                lines[row] = template.render(_Seen(labels), lines[row], at)
            except TemplateError as problem:
                labels.set_error(TEMPLATE_ERROR, problem.message)
        return entries

    return run


def _label_format(stage: LabelFormat) -> StageRun:
    items: list[tuple[str, str | Template]] = []
    for item in stage.items:
        if isinstance(item, LabelRename):
            items.append((item.label, item.source))
        else:
            items.append((item.label, _compiled(item.template, label=item.label)))

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
                except TemplateError as problem:
                    labels.set_error(TEMPLATE_ERROR, problem.message)
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
