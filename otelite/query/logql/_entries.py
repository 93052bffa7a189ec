"""Log entries as a LogQL pipeline sees them: a time, a line and labels in three kinds.

An entry's labels are Loki's (``pkg/logql/log/labels.go``): the **stream** labels of its
record (shared by every entry of the stream, never changed in place), its **structured
metadata**, and the labels the pipeline **parsed** or formatted, plus the error a stage
left (``__error__``, ``__error_details__``). A name is in one kind at a time: setting a
parsed label takes it from the metadata and hides the stream label; deleting one removes
it from every kind. Parsers rename a key that clashes with a stream label or a metadata
name to ``key_extracted``, and do not overwrite a label an earlier parser extracted.

The pipeline runs stage after stage over a batch (:class:`Entries`), so each stage's
set-up is done once per batch and its loop is plain Python over lists.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

__all__ = ["ERROR", "ERROR_DETAILS", "Entries", "EntryLabels", "Labels", "MetadataSource"]

ERROR = "__error__"
ERROR_DETAILS = "__error_details__"
EXTRACTED = "_extracted"

Labels = tuple[tuple[str, str], ...]
"""Labels as a sorted tuple of (name, value): hashable, and in the order Loki writes them."""

_NO_LABELS: Mapping[str, str] = MappingProxyType({})
_NO_NAMES: AbstractSet[str] = frozenset()


class MetadataSource(Protocol):
    """Where an entry's structured metadata comes from when it is first asked for."""

    def metadata(self, row: int) -> dict[str, str]:
        """The structured metadata of the ``row``-th record, by Loki's names: a new dict,
        which the entry keeps."""
        ...


class EntryLabels:
    """One entry's labels (Loki's ``LabelsBuilder``).

    The structured metadata may be *deferred*: read from its source the first time a
    stage, a filter or the response needs it. ``maybe`` names every label the metadata
    can hold (more is fine), so that a lookup of any other name answers without it
    (the methods test ``self._metadata is not None or name in self._maybe`` inline: they
    run per label of every line)."""

    __slots__ = (
        "_maybe",
        "_metadata",
        "_row",
        "_source",
        "deleted",
        "error",
        "error_details",
        "extracted",
        "parsed",
        "stream",
    )

    def __init__(self, stream: Mapping[str, str], metadata: Mapping[str, str]) -> None:
        self.stream = stream
        # Made on the first write: most entries never get one, and every container an
        # entry holds is one more for the garbage collector to walk.
        self.parsed: Mapping[str, str] = _NO_LABELS
        self.deleted: AbstractSet[str] = _NO_NAMES
        self.extracted: AbstractSet[str] = _NO_NAMES
        """Names a parser set on this entry: later parsers leave them."""
        self.error = ""
        self.error_details = ""
        self._source: MetadataSource | None = None
        self._row = 0
        self._maybe: AbstractSet[str] = frozenset()
        self._metadata: dict[str, str] | None = self._taken(metadata)

    @classmethod
    def deferred(
        cls, stream: Mapping[str, str], source: MetadataSource, row: int, maybe: AbstractSet[str]
    ) -> EntryLabels:
        """Labels whose metadata is ``source.metadata(row)``, read when first needed;
        ``maybe`` holds every name it can have (as this entry would hold it: an
        ``_extracted`` name too where it clashes with a stream label), and neither error
        label."""
        labels = cls.__new__(cls)
        labels.stream = stream
        labels.parsed = _NO_LABELS
        labels.deleted = _NO_NAMES
        labels.extracted = _NO_NAMES
        labels.error = ""
        labels.error_details = ""
        labels._source = source
        labels._row = row
        labels._maybe = maybe
        labels._metadata = None
        return labels

    def _taken(self, metadata: Mapping[str, str]) -> dict[str, str]:
        """``metadata`` as this entry keeps it: renamed away from the stream labels, the
        error labels taken out."""
        stream = self.stream
        found: dict[str, str] = {}
        for name, value in metadata.items():
            if name in stream:
                name += EXTRACTED
            if name == ERROR:
                self.error = value
            elif name == ERROR_DETAILS:
                self.error_details = value
            else:
                found[name] = value
        return found

    @property
    def metadata(self) -> dict[str, str]:
        """The structured metadata still on the entry (read from its source if deferred)."""
        found = self._metadata
        if found is None:
            assert self._source is not None
            found = self._source.metadata(self._row)
            clean = ERROR not in found and ERROR_DETAILS not in found
            if not (clean and self.stream.keys().isdisjoint(found)):
                found = self._taken(found)
            self._metadata = found
            self._source = None
        return found

    def get(self, name: str) -> str | None:
        """The label's value, None when the entry has no such label."""
        value = self.parsed.get(name)
        if value is not None:
            return value
        if self._metadata is not None or name in self._maybe:
            value = self.metadata.get(name)
            if value is not None:
                return value
        if name in self.deleted:
            return None
        return self.stream.get(name) or None

    def value(self, name: str) -> str:
        """What a label filter compares: ``__error__``'s text, else the label or ``""``."""
        if name == ERROR:
            return self.error
        return self.get(name) or ""

    def clashes(self, name: str) -> bool:
        """Whether a parser must call its key ``name_extracted``."""
        if name in self.stream:
            return True
        return (self._metadata is not None or name in self._maybe) and name in self.metadata

    def set_parsed(self, name: str, value: str) -> None:
        if self._metadata is not None or name in self._maybe:
            self.metadata.pop(name, None)
        parsed = self.parsed
        if not isinstance(parsed, dict):
            parsed = self.parsed = {}
        parsed[name] = value
        extracted = self.extracted
        if not isinstance(extracted, set):
            extracted = self.extracted = set()
        extracted.add(name)

    def set_error(self, error: str, details: str | None = None) -> None:
        self.error = error
        if details:
            self.error_details = details

    def delete(self, name: str) -> None:
        if isinstance(self.parsed, dict):
            self.parsed.pop(name, None)
        if self._metadata is not None or name in self._maybe:
            self.metadata.pop(name, None)
        deleted = self.deleted
        if not isinstance(deleted, set):
            deleted = self.deleted = set()
        deleted.add(name)

    def items(self) -> Iterator[tuple[str, str]]:
        """Every label, the error ones included (Loki's ``UnsortedLabels``)."""
        parsed, metadata = self.parsed, self.metadata
        for name, value in self.stream.items():
            if name not in self.deleted and name not in metadata and name not in parsed:
                yield name, value
        for name, value in metadata.items():
            if name not in parsed:
                yield name, value
        yield from parsed.items()
        if self.error:
            yield ERROR, self.error
        if self.error_details:
            yield ERROR_DETAILS, self.error_details

    def as_dict(self) -> dict[str, str]:
        return dict(self.items())

    def categorized(self) -> tuple[Labels, Labels, Labels]:
        """(stream, structured metadata, parsed) labels, each sorted; the error labels
        are parsed ones."""
        parsed, metadata, deleted = self.parsed, self.metadata, self.deleted
        stream = tuple(
            sorted(
                (n, v)
                for n, v in self.stream.items()
                if n not in deleted and n not in metadata and n not in parsed
            )
        )
        meta = tuple(sorted((n, v) for n, v in metadata.items() if n not in parsed))
        errors = [(ERROR, self.error)] if self.error else []
        if self.error_details:
            errors.append((ERROR_DETAILS, self.error_details))
        return stream, meta, tuple(sorted([*parsed.items(), *errors]))

    def all(self) -> Labels:
        """Every label, sorted: :meth:`items` as later kinds override earlier ones."""
        deleted = self.deleted
        stream = self.stream
        found = {n: v for n, v in stream.items() if n not in deleted} if deleted else dict(stream)
        found.update(self.metadata)
        found.update(self.parsed)
        pairs = list(found.items())
        if self.error:
            pairs.append((ERROR, self.error))
        if self.error_details:
            pairs.append((ERROR_DETAILS, self.error_details))
        return tuple(sorted(pairs))


@dataclass(slots=True)
class Entries:
    """A batch of entries in the order they are read, as parallel lists."""

    times: list[int] = field(default_factory=list)
    """Unix ns."""
    lines: list[str] = field(default_factory=list)
    labels: list[EntryLabels] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.times)

    def kept(self, keep: list[bool]) -> Entries:
        """The entries where ``keep`` is true."""
        if all(keep):
            return self
        return Entries(
            [t for t, k in zip(self.times, keep, strict=True) if k],
            [line for line, k in zip(self.lines, keep, strict=True) if k],
            [labels for labels, k in zip(self.labels, keep, strict=True) if k],
        )

    def extend(self, other: Entries) -> None:
        self.times += other.times
        self.lines += other.lines
        self.labels += other.labels

    def head(self, count: int) -> Entries:
        return Entries(self.times[:count], self.lines[:count], self.labels[:count])
