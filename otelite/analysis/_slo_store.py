"""Where SLOs are kept: per tenant, their definitions and their alerts' state.

With a data directory, tenant ``T`` keeps ``slos/T/definitions.json`` (the documents as
they were applied) and ``slos/T/alerts.json`` (``AlertBook``); a tenant id is a safe file
name (see ``otelite.tenancy``). The definitions file is replaced whole on every change, so
a set of SLOs applied together is on disk together or not at all; it is read back, and
every document checked again, when the server starts. Without a data directory
everything is kept in memory.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from otelite.analysis._files import read_json, write_json
from otelite.analysis._openslo import SloDefinition, parse_slo
from otelite.analysis._slo_alerts import AlertBook, Condition, Transition
from otelite.errors import InvalidRequest, NotFound
from otelite.tenancy import check_tenant_id

__all__ = ["MAX_SLOS", "SLO_DIR", "SloBook", "SloCatalog"]

log = logging.getLogger("otelite.slo")

MAX_SLOS = 500
"""SLOs one tenant may keep: each is evaluated every interval, so their number is bounded."""
SLO_DIR = "slos"
"""The directory under the data directory that holds one directory per tenant."""
_DEFINITIONS = "definitions.json"


class SloBook:
    """One tenant's SLOs, by name, and their alerts, whose changes go to ``receivers``.
    Thread-safe."""

    def __init__(self, directory: Path | None, receivers: Sequence[str] = ()) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._slos: dict[str, SloDefinition] = {}
        self.alerts = AlertBook(directory)
        # Registered before any evaluation: a new tenant's receivers miss none of its
        # changes; receivers no longer configured are forgotten.
        self.alerts.register(receivers, only=True)
        if directory is not None:
            self._load(directory / _DEFINITIONS)

    def slos(self) -> list[SloDefinition]:
        """Every SLO, by name."""
        with self._lock:
            return [self._slos[name] for name in sorted(self._slos)]

    def get(self, name: str) -> SloDefinition:
        """The SLO called ``name``; ``NotFound`` when there is none."""
        with self._lock:
            found = self._slos.get(name)
        if found is None:
            raise NotFound(f"no SLO named {name!r}")
        return found

    def put(self, definitions: Sequence[SloDefinition]) -> list[bool]:
        """Add or replace each of ``definitions``, all at once; whether each is new.
        ``InvalidRequest`` (nothing added) past ``MAX_SLOS``."""
        with self._lock:
            slos = dict(self._slos)
            created = [d.name not in slos for d in definitions]
            slos.update((d.name, d) for d in definitions)
            if len(slos) > MAX_SLOS and any(created):
                raise InvalidRequest(
                    f"metadata.name: a tenant keeps at most {MAX_SLOS} SLOs; "
                    "delete some before adding more"
                )
            self._save(slos)
            self._slos = slos
        return created

    def delete(self, name: str, at_ns: int) -> list[Transition]:
        """Remove the SLO called ``name`` (``NotFound`` when there is none); its firing
        alerts are resolved at ``at_ns``: the changes."""
        with self._lock:
            if name not in self._slos:
                raise NotFound(f"no SLO named {name!r}")
            slos = {k: v for k, v in self._slos.items() if k != name}
            self._save(slos)
            self._slos = slos
            return self.alerts.forget(name, at_ns)

    def record(
        self,
        definition: SloDefinition,
        conditions: Iterable[Condition],
        at_ns: int,
        *,
        repeat_ns: int | None = None,
    ) -> list[Transition]:
        """What an evaluation of ``definition`` found (``AlertBook.record``), unless the
        SLO was deleted or replaced meanwhile: then it is not recorded, so that no alert
        of a deleted SLO fires again (a replaced one is evaluated on the next pass)."""
        with self._lock:
            if self._slos.get(definition.name) is not definition:
                return []
            return self.alerts.record(definition.name, conditions, at_ns, repeat_ns=repeat_ns)

    def _save(self, slos: dict[str, SloDefinition]) -> None:
        if self._directory is not None:
            documents = [slos[name].document for name in sorted(slos)]
            write_json(self._directory / _DEFINITIONS, documents)

    def _load(self, path: Path) -> None:
        documents = read_json(path)
        if documents is None:
            return
        for index, document in enumerate(documents if isinstance(documents, list) else []):
            try:
                definition = parse_slo(document)
            except InvalidRequest as error:
                # A document this version no longer takes: said, and left out.
                log.error("%s: SLO %d is not served: %s", path, index + 1, error)
                continue
            self._slos[definition.name] = definition


class SloCatalog:
    """Every tenant's ``SloBook``; under ``data_dir/slos`` (None: in memory). Alert
    changes are kept for each of ``receivers`` until it has had them."""

    def __init__(self, data_dir: Path | None, *, receivers: Sequence[str] = ()) -> None:
        self._receivers = tuple(receivers)
        self._root = None if data_dir is None else data_dir / SLO_DIR
        self._lock = threading.Lock()
        self._books: dict[str, SloBook] = {}

    def load(self) -> None:
        """Read the books of every tenant found on disk (blocking; once, at start)."""
        if self._root is None or not self._root.is_dir():
            return
        for entry in sorted(os.scandir(self._root), key=lambda e: e.name):
            try:
                check_tenant_id(entry.name, what="directory name")
            except InvalidRequest as error:
                log.warning("ignoring %s: %s", entry.path, error)
                continue
            if entry.is_dir(follow_symlinks=False):
                self.book(entry.name)

    def book(self, tenant: str) -> SloBook:
        """``tenant``'s book (an empty one to start with)."""
        with self._lock:
            found = self._books.get(tenant)
            if found is None:
                directory = None if self._root is None else self._root / check_tenant_id(tenant)
                found = self._books[tenant] = SloBook(directory, self._receivers)
            return found

    def find(self, tenant: str) -> SloBook | None:
        """``tenant``'s book if it has one (reading makes none)."""
        with self._lock:
            return self._books.get(tenant)

    def tenants(self) -> list[str]:
        """The tenants with a book, in the order they were opened."""
        with self._lock:
            return list(self._books)
