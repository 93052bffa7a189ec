"""Everything one run of the suite measured, and how to find one store's figures in it."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench._forwarding import ForwardingRun
from bench._ingest import IngestSeries
from bench._machine import Machine
from bench._phoenix import PhoenixRun
from bench._pipeline import PipelineRun
from bench._profile import Profile
from bench._promql import PromqlRun
from bench._queries import StoreRun
from bench._server import Store
from otelite.types import Signal

__all__ = ["Results"]


@dataclass
class Results:
    """Everything one run of the suite measured."""

    machine: Machine
    versions: dict[str, str]
    commands: list[str]
    settings: dict[str, str]
    started_utc: str
    elapsed_seconds: float = 0.0
    storage: list[Store] = field(default_factory=lambda: ["duckdb"])
    """The stores compared, in the order they took turns."""
    ceiling: list[tuple[str, int, list[float]]] = field(default_factory=list)
    """(transport, senders, spans/s of each run) against a receiver that does nothing."""
    ingest: list[IngestSeries] = field(default_factory=list)
    stores: list[StoreRun] = field(default_factory=list)
    """Filled stores: every size for every store."""
    promql: list[PromqlRun] = field(default_factory=list)
    """PromQL beside Prometheus, per size."""
    pipeline: PipelineRun | None = None
    """Trace ingest, plain and through the pipeline file."""
    forwarding: ForwardingRun | None = None
    """Trace ingest into a server forwarding it to a local receiver."""
    phoenix: PhoenixRun | None = None
    phoenix_otelite: IngestSeries | None = None
    phoenix_skipped: str = ""
    profiles: list[Profile] = field(default_factory=list)
    load_at_end: tuple[float, float, float] | None = None

    @property
    def compares(self) -> bool:
        """Whether both DuckDB and chDB were measured, so a chDB/DuckDB ratio exists."""
        return {"duckdb", "chdb"} <= set(self.storage)

    def trace_http(self, store: Store) -> list[IngestSeries]:
        """``store``'s trace ingest rows over OTLP/HTTP."""
        return [
            s
            for s in self.ingest
            if s.store == store and s.signal is Signal.TRACES and s.transport == "http"
        ]

    def ingest_of(self, store: Store, like: IngestSeries) -> IngestSeries | None:
        """``store``'s row of the same workload as ``like``."""
        return next(
            (
                s
                for s in self.ingest
                if s.store == store
                and (s.signal, s.transport, s.senders)
                == (like.signal, like.transport, like.senders)
            ),
            None,
        )

    def largest(self, store: Store) -> StoreRun | None:
        """``store``'s largest filled store, where the targets are judged."""
        return max(
            (s for s in self.stores if s.store == store), key=lambda s: s.spans, default=None
        )
