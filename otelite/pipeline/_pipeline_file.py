"""The pipeline file (``--pipeline-file``): the processors otelite runs on what it
accepts, in YAML, checked whole before anything starts.

Every problem is reported with the file, the line and the key's path
(``pipeline.yaml:7: processors.redaction.rules[1].action: ...``), so that it can be fixed
without guessing; ``otelite pipeline check FILE`` reports the same without starting.
Unknown keys are refused rather than ignored: a misspelt option must not silently turn
a redaction off.

    processors:
      redaction:          # see otelite.pipeline._redaction
        ...
      tail_sampling:      # see otelite.pipeline._tail_sampling
        ...
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from otelite.config import parse_duration

__all__ = ["Node", "PipelineFile", "PipelineFileError", "parse_pipeline", "read_pipeline_file"]

_MAX_BYTES = 1024 * 1024
_SIZE_UNITS = {
    "B": 1,
    **{f"{unit}B": 1000 ** (i + 1) for i, unit in enumerate("KMGT")},
    **{f"{unit}iB": 1024 ** (i + 1) for i, unit in enumerate("KMGT")},
}


class PipelineFileError(ValueError):
    """A pipeline file otelite cannot run: where, and why."""


class Node:
    """A value of the file with where it is (line and key path), for messages; each
    accessor checks the kind of value and raises ``PipelineFileError`` naming both."""

    __slots__ = ("_node", "file", "path")

    def __init__(self, node: yaml.Node, path: str, file: str) -> None:
        self._node = node
        self.path = path
        self.file = file

    @property
    def line(self) -> int:
        return int(self._node.start_mark.line) + 1

    def problem(self, reason: str) -> PipelineFileError:
        return PipelineFileError(f"{self.file}:{self.line}: {self.path or 'the file'}: {reason}")

    def mapping(self, *known: str) -> dict[str, Node]:
        """The entries of a mapping; any key not in ``known`` is refused (when given)."""
        if not isinstance(self._node, yaml.MappingNode):
            raise self.problem(f"must be a mapping, got {self._kind()}")
        found: dict[str, Node] = {}
        for key, value in self._node.value:
            name = _scalar(key)
            child = Node(value, f"{self.path}.{name}" if self.path else str(name), self.file)
            if not isinstance(name, str):
                raise child.problem("keys must be text")
            if known and name not in known:
                raise child.problem(f"unknown key (expected one of {', '.join(known)})")
            if name in found:
                raise child.problem("given twice")
            found[name] = child
        return found

    def items(self) -> list[Node]:
        if not isinstance(self._node, yaml.SequenceNode):
            raise self.problem(f"must be a list, got {self._kind()}")
        return [Node(n, f"{self.path}[{i}]", self.file) for i, n in enumerate(self._node.value)]

    def texts(self) -> list[str]:
        """A list of non-empty strings (one string stands for a list of it)."""
        if isinstance(self._node, yaml.ScalarNode):
            return [self.text()]
        return [item.text() for item in self.items()]

    def text(self) -> str:
        value = self._value()
        if not isinstance(value, str) or not value:
            raise self.problem(f"must be a non-empty string, got {self._kind()}")
        return value

    def choice(self, *choices: str) -> str:
        value = self.text()
        if value not in choices:
            raise self.problem(f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def boolean(self) -> bool:
        value = self._value()
        if not isinstance(value, bool):
            raise self.problem(f"must be true or false, got {self._kind()}")
        return value

    def integer(self, *, minimum: int = 0) -> int:
        value = self._value()
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.problem(f"must be a whole number of at least {minimum}, got {self._kind()}")
        return value

    def number(self, *, minimum: float = 0.0, maximum: float | None = None) -> float:
        value = self._value()
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.problem(f"must be a number, got {self._kind()}")
        if value < minimum or (maximum is not None and value > maximum):
            upper = "" if maximum is None else f" and at most {maximum:g}"
            raise self.problem(f"must be at least {minimum:g}{upper}, got {value!r}")
        return float(value)

    def duration(self) -> float:
        """Seconds from ``"10s"``, ``"500ms"``, ``"2m"`` (a bare number is seconds); above 0."""
        value = self._value()
        try:
            seconds = parse_duration(str(value)) if isinstance(value, str | int | float) else -1
        except ValueError:
            seconds = -1
        if isinstance(value, bool) or seconds <= 0:
            raise self.problem(f"must be a duration above 0 (e.g. 10s, 500ms), got {self._kind()}")
        return seconds

    def size(self) -> int:
        """Bytes: a number, or with a unit (``512KiB``, ``64MiB``, ``1GiB``, ``1GB``)."""
        value = self._value()
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)", str(value).strip())
        if found is None or float(found[1]) <= 0:
            raise self.problem(f"must be a size such as 512MiB or 1GiB, got {self._kind()}")
        return int(float(found[1]) * _SIZE_UNITS[found[2]])

    def pattern(self, flags: int = 0) -> re.Pattern[str]:
        """A regular expression (Python's syntax)."""
        text = self.text()
        try:
            return re.compile(text, flags)
        except re.error as error:
            raise self.problem(f"not a regular expression: {error}") from None

    def _value(self) -> Any:
        return _scalar(self._node) if isinstance(self._node, yaml.ScalarNode) else self._node

    def _kind(self) -> str:
        if isinstance(self._node, yaml.MappingNode):
            return "a mapping"
        if isinstance(self._node, yaml.SequenceNode):
            return "a list"
        value = _scalar(self._node)
        return "nothing" if value is None else repr(value)


@dataclass(frozen=True, slots=True)
class PipelineFile:
    """What a pipeline file asks for: its processors, in the order they run."""

    source: str
    redaction: Any | None = None
    """The redaction rules (``otelite.pipeline._redaction.RedactionRules``), when given."""
    tail_sampling: Any | None = None
    """``otelite.pipeline._tail_sampling.TailSamplingSettings``, when given: not a
    ``processors`` entry, it holds spans and runs as a consumer of its own."""
    exporters: tuple[Any, ...] = ()
    """Where accepted data is forwarded (``otelite.pipeline._exporters.ExporterSettings``)."""

    @property
    def processors(self) -> Iterator[Any]:
        if self.redaction is not None:
            yield self.redaction


def read_pipeline_file(path: Path) -> PipelineFile:
    """The pipeline ``path`` describes; ``PipelineFileError`` for any problem in it."""
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_BYTES + 1)
    except OSError as error:
        raise PipelineFileError(f"{path}: cannot read: {error.strerror or error}") from None
    if len(data) > _MAX_BYTES:
        raise PipelineFileError(f"{path}: larger than {_MAX_BYTES // 1024} KiB")
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise PipelineFileError(f"{path}: not UTF-8 text") from None
    return parse_pipeline(text, str(path))


def parse_pipeline(text: str, name: str = "the pipeline file") -> PipelineFile:
    """The pipeline ``text`` describes (``name`` in messages)."""
    # Imported here: redaction builds on this module's Node.
    from otelite.pipeline._exporters import parse_exporters
    from otelite.pipeline._redaction import RedactionRules
    from otelite.pipeline._sampling_settings import TailSamplingSettings

    try:
        composed = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error)
        raise PipelineFileError(f"{name}{where}: not YAML: {reason}") from None
    if composed is None:
        raise PipelineFileError(f"{name}: empty; give at least one processor or exporter")
    root = Node(composed, "", name).mapping("processors", "exporters")
    if not root:
        raise PipelineFileError(f"{name}: processors: required")
    redaction = tail_sampling = None
    if "processors" in root:
        processors = root["processors"].mapping("redaction", "tail_sampling")
        if not processors:
            raise root["processors"].problem("give at least one processor")
        if "redaction" in processors:
            redaction = RedactionRules.parse(processors["redaction"])
        if "tail_sampling" in processors:
            tail_sampling = TailSamplingSettings.parse(processors["tail_sampling"])
    exporters = () if "exporters" not in root else parse_exporters(root["exporters"])
    return PipelineFile(name, redaction=redaction, tail_sampling=tail_sampling, exporters=exporters)


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return None
    return yaml.constructor.SafeConstructor().construct_object(node)
