"""Making a ClickHouse database ready for otelite when a store opens: the exporter's tables
and otelite's (or, with ``--no-create-schema``, a check that they are there), the
retention asked for, and the columns otelite needs on tables others made."""

from __future__ import annotations

import re
from typing import Any

from otelite.errors import Unavailable
from otelite.storage._schema import NEWER_SCHEMA, SCHEMA_VERSION
from otelite.storage.clickhouse._ddl import (
    add_column_statements,
    create_statements,
    missing_columns,
    ttl_statements,
)
from otelite.storage.clickhouse._tables import DATA_TABLES, STATE

__all__ = ["Client", "prepare"]

Client = Any
"""A ``clickhouse_connect`` client (its package is an optional extra, so not imported here)."""


def prepare(
    admin: Client,
    database: str,
    where: str,
    *,
    create: bool,
    retention_seconds: int | None,
    cluster: str | None,
) -> None:
    """Create what is missing and apply the retention (``create``), or check that nothing
    is missing; raises ``Unavailable`` saying what is missing and how to add it."""
    _check_schema_version(admin, database, where)
    if create:
        _create(admin, database, retention_seconds, cluster)
    _check_columns(admin, database, where, cluster, add=create)


def _check_schema_version(admin: Client, database: str, where: str) -> None:
    """Refuse tables a newer otelite wrote into, before anything is changed. A state table
    without the column is from before versions (its rows are version 0) or is not there."""
    recorded = admin.query(
        "SELECT count() FROM system.columns WHERE database = {d:String}"
        " AND table = {t:String} AND name = 'SchemaVersion'",
        parameters={"d": database, "t": STATE},
    ).result_rows
    if not recorded or not recorded[0][0]:
        return  # no otelite yet, or only one from before versions were recorded
    found = int(admin.command(f"SELECT max(SchemaVersion) FROM `{database}`.`{STATE}`"))
    if found > SCHEMA_VERSION:
        raise Unavailable(NEWER_SCHEMA.format(where=where, found=found, known=SCHEMA_VERSION))


def _create(
    admin: Client, database: str, retention_seconds: int | None, cluster: str | None
) -> None:
    on_cluster = "" if cluster is None else f" ON CLUSTER `{cluster}`"
    admin.command(f"CREATE DATABASE IF NOT EXISTS `{database}`{on_cluster}")
    version = str(admin.command("SELECT version()"))
    statements = create_statements(
        database,
        ttl_seconds=retention_seconds,
        text_indexes=_version(version) >= (26, 2),
        cluster=cluster,
    )
    for statement in statements:
        admin.command(statement)
    # Tables made before may have another retention: give them this one (new parts
    # get it; old parts keep theirs until merged, without a rewrite now).
    engines = dict(
        admin.query(
            "SELECT name, engine_full FROM system.tables WHERE database = {d:String}",
            parameters={"d": database},
        ).result_rows
    )
    for statement in ttl_statements(database, engines, retention_seconds, cluster):
        admin.command(statement)


def _check_columns(
    admin: Client, database: str, where: str, cluster: str | None, *, add: bool
) -> None:
    """Give tables others made (a Collector, an older otelite) the columns otelite uses,
    or, when otelite may not change them, say exactly what they lack."""
    existing: dict[str, set[str]] = {}
    for table, column in admin.query(
        "SELECT table, name FROM system.columns WHERE database = {d:String}",
        parameters={"d": database},
    ).result_rows:
        existing.setdefault(table, set()).add(column)
    suffix = "" if cluster is None else "_local"
    absent = [
        name
        for name in (*(table.name for table in DATA_TABLES), STATE)
        if f"{name}{suffix}" not in existing
    ]
    if absent:
        raise Unavailable(
            f"storage: {where} has no table {', '.join(absent)}: start once "
            "without --no-create-schema (which creates them), or create them as otelite would"
        )
    missing = missing_columns(existing, cluster)
    statements = add_column_statements(database, missing, cluster)
    if add:
        for statement in statements:
            admin.command(statement)
    elif statements:
        lacking = ", ".join(f"{t}.{c.name}" for t, cs in missing.items() for c in cs)
        raise Unavailable(
            f"storage: {where}: tables lack columns otelite needs ({lacking});"
            " start once without --no-create-schema, or run:\n" + ";\n".join(statements)
        )


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split(".")[:2]:
        digits = re.match(r"\d+", part)
        parts.append(int(digits.group()) if digits else 0)
    return tuple(parts)
