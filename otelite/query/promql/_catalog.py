"""What a store holds, as PromQL names it: its metrics (the catalog) and their series.

Selecting ``http_requests_total`` starts from the catalog, each stored metric's name,
unit and type, through which ``series_index`` finds the stored metrics that make a
series of that name. A stored series is known by its identity, a hash of the resource,
scope and attributes its points carry (the dialects' ``series_id``); its Prometheus
labels are made from those once.

Both are kept between queries, as Prometheus keeps its index in memory:

- an identity never changes (it is a hash of what it names), so its labels are kept as
  long as the store is open, up to ``MAX_KEPT_IDENTITIES`` of them;
- the catalog changes with the data, so it is kept only while the store's
  ``data_version`` stays the same (a store that others write to too, ClickHouse, has
  none, and its catalog is read for every query).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from otelite.query._kept import PerStore, keep_at_most
from otelite.query._plan import (
    Call,
    Column,
    Compare,
    Op,
    Order,
    Output,
    Plan,
    Select,
    Table,
    TimeRange,
)
from otelite.query.promql._names import (
    MetricKind,
    SeriesRole,
    SeriesSource,
    metric_name,
    series_index,
    series_labels,
)
from otelite.query.promql._series import NAME, Labels
from otelite.query.promql._spanmetrics import DERIVED_FAMILIES
from otelite.storage import Storage

__all__ = [
    "KINDS",
    "MAX_KEPT_IDENTITIES",
    "TABLES",
    "Catalog",
    "Family",
    "Identity",
    "identities",
    "with_label",
    "with_name",
]

KINDS = {
    Table.GAUGE: MetricKind.GAUGE,
    Table.SUM: MetricKind.SUM,
    Table.HISTOGRAM: MetricKind.HISTOGRAM,
    Table.EXPONENTIAL_HISTOGRAM: MetricKind.EXPONENTIAL_HISTOGRAM,
    Table.SUMMARY: MetricKind.SUMMARY,
}
TABLES = {kind: table for table, kind in KINDS.items()}
MAX_KEPT_IDENTITIES = 1_000_000
"""Identities kept per store; past it they are forgotten and read again."""
_DELTA = 1  # AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA

Rows = Callable[[Plan], pa.Table]
CatalogEntry = tuple[str, str, MetricKind, bool]
"""A stored metric: its OTLP name, unit, kind and whether it is monotonic."""


@dataclass(frozen=True, slots=True)
class Family:
    """A metric family as the metadata API lists it."""

    name: str
    kind: MetricKind
    monotonic: bool
    unit: str
    description: str


@dataclass(frozen=True, slots=True)
class Identity:
    """A stored series as Prometheus sees it: its labels (without ``__name__``), and
    whether its points are deltas."""

    labels: Labels
    delta: bool


@dataclass(slots=True)
class _Kept:
    """What is kept of one store between queries."""

    version: int | None = None
    catalog: tuple[list[Family], list[CatalogEntry]] | None = None
    identities: dict[tuple[Table, str, int], Identity] = field(default_factory=dict)


_kept = PerStore(_Kept)


class Catalog:
    """The store's metrics under their Prometheus names (read once per instance, or
    kept from an earlier one while the store's data has not changed)."""

    def __init__(self, storage: Storage, rows: Rows) -> None:
        self._storage = storage
        self._rows = rows
        self._read: tuple[list[Family], list[CatalogEntry]] | None = None
        self._index: dict[str, list[SeriesSource]] | None = None

    def families(self) -> list[Family]:
        """The store's metrics, each under its Prometheus family name, and the metrics
        derived from spans."""
        return self._catalog()[0]

    def entries(self) -> list[CatalogEntry]:
        return self._catalog()[1]

    def names(self) -> dict[str, list[SeriesSource]]:
        """Every Prometheus series name the store's metrics make."""
        if self._index is None:
            self._index = series_index(self.entries())
        return self._index

    def wanted(
        self, naming: Sequence[Callable[[str], bool]], roles: frozenset[SeriesRole]
    ) -> dict[tuple[Table, str], list[tuple[str, SeriesRole]]]:
        """The stored metrics (table, name) that make a series every one of ``naming``
        accepts the name of, each with the series names and ``roles`` it makes them in."""
        found: dict[tuple[Table, str], list[tuple[str, SeriesRole]]] = {}
        for name, sources in self.names().items():
            if not all(accepts(name) for accepts in naming):
                continue
            for source in sources:
                if source.role in roles:
                    key = (TABLES[source.metric.kind], source.metric.name)
                    found.setdefault(key, []).append((name, source.role))
        return found

    def _catalog(self) -> tuple[list[Family], list[CatalogEntry]]:
        if self._read is not None:
            return self._read
        kept = _kept(self._storage)
        version = self._storage.data_version()
        if version is not None and kept.version == version and kept.catalog is not None:
            self._read = kept.catalog
            return self._read
        self._read = self._read_catalog()
        if version is not None:
            kept.version, kept.catalog = version, self._read
        return self._read

    def _read_catalog(self) -> tuple[list[Family], list[CatalogEntry]]:
        families: list[Family] = []
        entries: list[CatalogEntry] = []
        for table, kind in KINDS.items():
            for row in self._rows(_catalog_plan(table)).to_pylist():
                name, unit = str(row["name"]), str(row["unit"] or "")
                monotonic = bool(row.get("monotonic"))
                family = metric_name(name, unit, kind, monotonic)
                if family:
                    description = str(row["description"] or "")
                    families.append(Family(family, kind, monotonic, unit, description))
                entries.append((name, unit, kind, monotonic))
        for family, (kind_name, unit, description) in DERIVED_FAMILIES.items():
            kind = MetricKind.SUM if kind_name == "counter" else MetricKind.HISTOGRAM
            families.append(Family(family, kind, kind is MetricKind.SUM, unit, description))
        return families, entries


def identities(
    storage: Storage, rows: Rows, table: Table, metric: str, time: TimeRange, ids: set[int]
) -> dict[int, Identity]:
    """The identity of each series in ``ids`` (of ``metric``, with points in ``time``):
    kept ones as they are, the others read (every series of the metric in ``time`` at
    once, and kept)."""
    kept = _kept(storage).identities
    found: dict[int, Identity] = {}
    missing = False
    for series in ids:
        identity = kept.get((table, metric, series))
        if identity is None:
            missing = True
            break
        found[series] = identity
    if not missing:
        return found
    read = _read_identities(rows, table, metric, time)
    with _kept.lock:
        new = {(table, metric, series): identity for series, identity in read.items()}
        keep_at_most(kept, new, MAX_KEPT_IDENTITIES)
    return read


def with_name(labels: Labels, name: str) -> Labels:
    """``labels`` (sorted) with the series name, in its place."""
    return with_label(labels, NAME, name)


def with_label(labels: Labels, name: str, value: str) -> Labels:
    """``labels`` (sorted) with ``name`` set to ``value``, in its place (an empty value
    leaves it out, as Prometheus has no empty labels)."""
    at = bisect.bisect_left(labels, (name,))
    after = at + 1 if at < len(labels) and labels[at][0] == name else at
    if not value:
        return (*labels[:at], *labels[after:])
    return (*labels[:at], (name, value), *labels[after:])


def _read_identities(rows: Rows, table: Table, metric: str, time: TimeRange) -> dict[int, Identity]:
    found: dict[int, Identity] = {}
    for row in rows(_identity_plan(table, metric, time)).to_pylist():
        resource = dict(row["resource"])
        attributes = dict(row["attributes"])
        labels = series_labels(
            resource, str(row["scope_name"] or ""), str(row["scope_version"] or ""), attributes
        )
        found[int(row["series"])] = Identity(
            tuple(sorted((k, v) for k, v in labels.items() if v != "")),
            row.get("temporality") == _DELTA,
        )
    return found


def _catalog_plan(table: Table) -> Select:
    latest = Column("TimeUnix")
    outputs = [
        Output("name", Column("MetricName")),
        Output("unit", Call("arg_max", (Column("MetricUnit"), latest))),
        Output("description", Call("arg_max", (Column("MetricDescription"), latest))),
    ]
    if table is Table.SUM:
        outputs.append(Output("monotonic", Call("arg_max", (Column("IsMonotonic"), latest))))
    return Select(table, tuple(outputs), group_by=("name",), order_by=(Order("name"),))


def _identity_plan(table: Table, metric: str, time: TimeRange) -> Select:
    """One row per stored series of ``metric`` in ``time``, by its identity."""
    first = Column("TimeUnix")
    columns = {
        "resource": "ResourceAttributes",
        "scope_name": "ScopeName",
        "scope_version": "ScopeVersion",
        "attributes": "Attributes",
    }
    if table in (Table.SUM, Table.HISTOGRAM, Table.EXPONENTIAL_HISTOGRAM):
        columns["temporality"] = "AggregationTemporality"
    return Select(
        table,
        (
            Output("series", Call("series_id", ())),
            *(
                Output(name, Call("arg_min", (Column(column), first)))
                for name, column in columns.items()
            ),
        ),
        where=Compare(Column("MetricName"), Op.EQ, metric),
        time=time,
        group_by=("series",),
    )
