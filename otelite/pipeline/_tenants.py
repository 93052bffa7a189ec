"""Multi-tenant ingest: each tenant its own storage and pipeline, kept apart by construction.

A tenant's data lives in ``<data_dir>/tenants/<tenant id>/`` (its own database file,
write-ahead log and dead-letter directory) or, in memory mode, in a store of its own. No
query and no write can reach another tenant's data, because there is no shared table to
filter: a tenant's storage object is the only way to its data, and it is looked up by the
checked tenant id. Tenants are opened on their first write (tenants found on disk at
start, with their write-ahead logs replayed, before anything is accepted); a query for a
tenant that has never written sees an empty store and creates nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.trace import Tracer

from otelite.config import Limits
from otelite.errors import Forbidden, InvalidRequest, Overloaded, Unavailable
from otelite.pipeline._flatten import FlattenPool
from otelite.pipeline._ingest import IngestPipeline
from otelite.pipeline._stats import PipelineHealth, PipelineReport, PipelineStats
from otelite.storage import Storage
from otelite.tenancy import SINGLE_TENANT, check_tenant_id
from otelite.types import ExportRequest, Signal

__all__ = ["TENANTS_DIR", "Tenant", "Tenants"]

log = logging.getLogger(__name__)

TENANTS_DIR = "tenants"
"""The directory under the data directory that holds one directory per tenant."""

OpenStorage = Callable[[str | None, Path | None], Storage]
"""Opens a tenant's storage, given the tenant and its directory (None: in memory); blocking.

For tenant None it opens an empty store that stands in for every tenant not yet seen."""


@dataclass(frozen=True, slots=True)
class Tenant:
    """One tenant's storage and the pipeline that writes to it."""

    id: str
    storage: Storage
    pipeline: IngestPipeline


class Tenants:
    """Every tenant's storage and pipeline; the ``Consumer`` of the receivers when multi-tenant.

    ``data_dir`` None keeps each tenant in memory. At most ``max_tenants`` exist; a write
    for one more is refused with ``Forbidden`` (retrying cannot help). ``open_storage``
    opens a tenant's backend (the composition root chooses it). Each tenant counts in its
    own ``PipelineStats`` (``stats_of``), from the first request refused for it on; ``stats``
    counts what is refused before a tenant is known, and for tenant ids past
    ``max_tenants``, so that the counts cannot grow without bound. Each tenant's pipeline
    traces its writes with ``tracer``, when given.
    """

    def __init__(
        self,
        data_dir: Path | None,
        *,
        limits: Limits,
        max_tenants: int,
        open_storage: OpenStorage,
        flattener: FlattenPool | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self._tracer = tracer
        self._root = None if data_dir is None else data_dir / TENANTS_DIR
        # One worker pool for every tenant: a worker per tenant would cost a process each.
        self._flattener = flattener
        self._limits = limits
        self._max = max_tenants
        self._open_storage = open_storage
        self.stats = PipelineStats()
        self._stats: dict[str, PipelineStats] = {}
        self._tenants: dict[str, Tenant] = {}
        self._opening: dict[str, asyncio.Task[Tenant]] = {}
        self._empty: Storage | None = None
        self._state = "not started"

    @property
    def ids(self) -> list[str]:
        """The tenants that exist, in the order they were opened."""
        return list(self._tenants)

    def stats_of(self, tenant: str) -> PipelineStats:
        """Where ``tenant``'s counts go; ``stats`` once ``max_tenants`` ids have counts and
        this one has none and no pipeline."""
        found = self._stats.get(tenant)
        if found is None:
            if len(self._stats) >= self._max:
                return self.stats
            found = self._stats[tenant] = PipelineStats()
        return found

    def reports(self) -> list[PipelineReport]:
        """Every tenant's counts, queue and log size, and the unattributed counts (blocking)."""
        reports = [PipelineReport("", self.stats)]
        # A copy: this runs in a thread while the event loop may add tenants.
        for tenant, stats in list(self._stats.items()):
            found = self._tenants.get(tenant)
            reports.append(
                PipelineReport(tenant, stats) if found is None else found.pipeline.report(tenant)
            )
        return reports

    def storages(self) -> list[Storage]:
        """Each tenant's storage (for retention)."""
        return [tenant.storage for tenant in self._tenants.values()]

    def storage(self, tenant: str) -> Storage:
        """``tenant``'s storage for reading; an empty one if it has never written."""
        found = self._tenants.get(tenant)
        if found is not None:
            return found.storage
        if self._empty is None:
            raise Unavailable(f"otelite is {self._state}, not answering queries")
        return self._empty

    def health(self) -> PipelineHealth:
        """Ready when running and every tenant's pipeline is; else the first reason why not."""
        if self._state != "running":
            return PipelineHealth(False, self._state)
        for tenant in self._tenants.values():
            health = tenant.pipeline.health()
            if not health.ready:
                return PipelineHealth(False, f"tenant {tenant.id!r}: {health.reason}")
        return PipelineHealth(True, "ok")

    async def start(self) -> None:
        """Open every tenant found on disk, replaying its write-ahead log, then accept."""
        self._state = "starting"
        self._empty = await asyncio.to_thread(self._open_storage, None, None)
        if self._root is not None:
            await asyncio.to_thread(self._root.mkdir, parents=True, exist_ok=True)
            for tenant_id in await asyncio.to_thread(self._found_on_disk):
                self._tenants[tenant_id] = await self._open(tenant_id)
            if len(self._tenants) > self._max:
                log.warning(
                    "%d tenants exist on disk, more than max_tenants=%d: all are served, "
                    "but no new tenant can be added",
                    len(self._tenants),
                    self._max,
                )
        self._state = "running"

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None:
        """Hand ``request`` to ``tenant``'s pipeline, opening the tenant on its first write.

        Raises ``Forbidden`` when the tenant would be one more than ``max_tenants``, and
        ``Overloaded`` when all tenants together hold ``max_queue_bytes`` waiting for
        storage (each pipeline has that bound too; this one keeps the sum within it).
        """
        found = self._tenants.get(tenant)
        if found is None:
            found = await self._new(tenant)
        queued = sum(t.pipeline.queued_bytes for t in self._tenants.values())
        if queued >= self._limits.max_queue_bytes:
            self.stats_of(tenant).rejected_overloaded += 1
            # Tenants drain in parallel, each into its own store: room comes back when
            # the slowest has drained.
            raise Overloaded(
                f"ingest queue is full: {queued} bytes of all tenants wait for storage "
                f"(limit max_queue_bytes={self._limits.max_queue_bytes}); retry later",
                retry_after=max(t.pipeline.drain_seconds() for t in self._tenants.values()),
            )
        await found.pipeline.consume(signal, request, tenant=tenant, payload=payload, items=items)

    async def flush(self) -> None:
        """Wait until everything every tenant accepted so far is stored."""
        for tenant in list(self._tenants.values()):
            await tenant.pipeline.flush()

    async def shutdown(self) -> None:
        """Stop accepting; store what every tenant accepted. Storage stays open for queries."""
        if self._state in ("shutting down", "shut down"):
            return
        self._state = "shutting down"
        if self._opening:
            await asyncio.gather(*self._opening.values(), return_exceptions=True)
        for tenant in self._tenants.values():
            await tenant.pipeline.shutdown()

    async def close(self) -> None:
        """Close every tenant's storage, after ``shutdown``. Idempotent."""
        await self.shutdown()
        stores = [*self.storages(), *([] if self._empty is None else [self._empty])]
        self._tenants.clear()
        self._empty = None
        for storage in stores:
            await asyncio.to_thread(storage.close)
        self._state = "shut down"

    async def admit(self, tenant_id: str) -> None:
        """Open ``tenant_id`` if it has not written yet, raising ``Forbidden`` as its first
        write would beyond ``max_tenants``: for stages that answer a client before they
        hand its data on (tail sampling), so that what they acknowledge is never refused."""
        if tenant_id not in self._tenants:
            await self._new(tenant_id)

    async def _new(self, tenant_id: str) -> Tenant:
        """Open a tenant that has not written yet; concurrent first writes share one opening."""
        opening = self._opening.get(tenant_id)
        if opening is None:
            if self._state != "running":
                raise Unavailable(
                    f"otelite is {self._state}, not accepting data",
                    retry_after=self._limits.retry_after_seconds,
                )
            if len(self._tenants) + len(self._opening) >= self._max:
                raise Forbidden(
                    f"tenant {tenant_id!r} cannot be added: {self._max} tenants exist "
                    f"(limit max_tenants={self._max}); use an existing tenant id or raise "
                    "the limit (--max-tenants)"
                )
            opening = asyncio.create_task(self._open(tenant_id))
            self._opening[tenant_id] = opening
            opening.add_done_callback(lambda task: self._opened(tenant_id, task))
        # Shielded: a sender that gives up must not abandon a half-opened tenant.
        return await asyncio.shield(opening)

    def _opened(self, tenant_id: str, task: asyncio.Task[Tenant]) -> None:
        del self._opening[tenant_id]
        if not task.cancelled() and task.exception() is None:
            self._tenants[tenant_id] = task.result()

    async def _open(self, tenant_id: str) -> Tenant:
        directory = None if self._root is None else self._directory(tenant_id)
        storage = await asyncio.to_thread(self._open_storage, tenant_id, directory)
        pipeline = IngestPipeline(
            storage,
            wal_dir=None if directory is None else directory / "wal",
            limits=self._limits,
            flattener=self._flattener,
            # Its own counts even when refusals alone have used up stats_of's bound.
            stats=self._stats.setdefault(tenant_id, PipelineStats()),
            tracer=self._tracer,
        )
        try:
            await pipeline.start()
        except BaseException:
            await asyncio.to_thread(storage.close)
            raise
        replayed = pipeline.stats.replayed_requests
        log.info(
            "tenant %r opened%s",
            tenant_id,
            f", {replayed} requests replayed from its write-ahead log" if replayed else "",
        )
        return Tenant(tenant_id, storage, pipeline)

    def _directory(self, tenant_id: str) -> Path:
        """``tenants/<id>``, created, after checking that it is that and nothing else (blocking).

        The id is valid (no separators, not ``.`` or ``..``), so this is defence in depth:
        the directory must resolve to a direct child of ``tenants/`` (no symlink out), and
        must be listed under exactly this name, which a case-insensitive file system would
        break by giving ``Acme`` the directory of ``acme``.
        """
        assert self._root is not None
        check_tenant_id(tenant_id)
        root = self._root.resolve()
        directory = root / tenant_id
        try:
            directory.mkdir(exist_ok=True)
            inside = directory.resolve().parent == root
            listed = tenant_id in os.listdir(root)
        except OSError as error:
            raise Unavailable(
                f"cannot create the directory of tenant {tenant_id!r} in {root}: {error}",
                retry_after=self._limits.retry_after_seconds,
            ) from error
        if not inside or not listed:
            raise InvalidRequest(
                f"tenant {tenant_id!r} cannot be stored in {root}: its directory is not "
                "its own (a link, or a file system that ignores letter case)"
            )
        return directory

    def _found_on_disk(self) -> list[str]:
        """The tenants with a directory under ``tenants/``; anything else there is skipped."""
        assert self._root is not None
        found = []
        for entry in sorted(os.scandir(self._root), key=lambda e: e.name):
            if not entry.is_dir(follow_symlinks=False):
                log.warning("ignoring %s: not a tenant directory", entry.path)
                continue
            try:
                found.append(check_tenant_id(entry.name, what="directory name"))
            except InvalidRequest as error:
                log.warning("ignoring %s: %s", entry.path, error)
        return found
