"""The statements otelite runs on a ClickHouse database: tables, retention, columns others'
tables lack, and removing an unfinished insert, for one server or ``ON CLUSTER``."""

from __future__ import annotations

from otelite.storage.clickhouse._tables import (
    DATA_TABLES,
    LOGS,
    METRICS,
    STATE,
    STATE_COLUMNS,
    TRACE_ID_TS,
    TRACES,
    Column,
)

__all__ = [
    "SHARDING_KEYS",
    "add_column_statements",
    "create_statements",
    "delete_statement",
    "missing_columns",
    "ttl_statements",
]


def _index(name: str, expression: str, kind: str, text_indexes: bool) -> str:
    if kind == "minmax":
        type_ = "minmax"
    elif kind == "tokens":
        type_ = "tokenbf_v1(32768, 3, 0)"
    elif text_indexes:
        type_ = "text(tokenizer = 'array')"
    else:
        type_ = "bloom_filter(0.001)" if kind == "id" else "bloom_filter(0.01)"
    granularity = 8 if kind == "tokens" else 1
    return f"INDEX {name} {expression} TYPE {type_} GRANULARITY {granularity}"


def create_statements(
    database: str,
    *,
    ttl_seconds: int | None,
    text_indexes: bool,
    cluster: str | None = None,
) -> list[str]:
    """Every ``CREATE`` otelite runs on a database, in order (all ``IF NOT EXISTS``).

    ``text_indexes`` chooses ClickHouse's text indexes (servers from 26.2) over the bloom
    filters older servers need, as the exporter does. With a ``cluster``, each table is a
    replicated ``<name>_local`` on every node, created ``ON CLUSTER``, under a
    ``Distributed`` table with the exporter's name: spans (and their trace-id rows) are
    sharded by trace id so a trace lives on one shard, metric points by series, log
    records and otelite's records at random.
    """
    ddl = _Ddl(database, cluster)
    statements = []
    for table in DATA_TABLES:
        time = "Timestamp" if table in (TRACES, LOGS) else "TimeUnix"
        body = [
            *(column.ddl() for column in table.columns),
            *(_index(*index, text_indexes) for index in table.indexes),
        ]
        statements += ddl.table(
            table.name, body, "MergeTree", table.engine_tail.format(ttl=_ttl(time, ttl_seconds))
        )
    statements += ddl.table(
        TRACE_ID_TS.name,
        [column.ddl() for column in TRACE_ID_TS.columns],
        "AggregatingMergeTree",
        TRACE_ID_TS.engine_tail.format(ttl=_ttl("Start", ttl_seconds)),
    )
    # On a cluster the view runs on each shard, over the spans that shard received.
    statements.append(
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {ddl.name(TRACE_ID_TS.name + '_mv')}"
        f"{ddl.on_cluster} TO {ddl.local(TRACE_ID_TS.name)} AS SELECT TraceId,"
        " min(toDateTime(Timestamp)) AS Start, max(toDateTime(Timestamp)) AS End"
        f" FROM {ddl.local(TRACES.name)} WHERE TraceId != '' GROUP BY TraceId"
    )
    # Merges keep each writer's latest row.
    statements += ddl.table(
        STATE,
        [column.ddl() for column in STATE_COLUMNS],
        "ReplacingMergeTree",
        "ORDER BY Writer",
        version="Insert",
    )
    return statements


def ttl_statements(
    database: str, engines: dict[str, str], ttl_seconds: int | None, cluster: str | None = None
) -> list[str]:
    """``ALTER``s that give existing tables the retention asked for now.

    ``engines`` maps each table of the database to its ``engine_full`` (``system.tables``);
    a table whose TTL is already the one asked for needs none.
    """
    ddl = _Ddl(database, cluster)
    statements = []
    tables = [(t.name, "TimeUnix" if t not in (TRACES, LOGS) else "Timestamp") for t in DATA_TABLES]
    for name, time in [*tables, (TRACE_ID_TS.name, "Start")]:
        engine = engines.get(name if cluster is None else f"{name}_local", "")
        wanted = _ttl(time, ttl_seconds).strip()
        if ttl_seconds is None and " TTL " not in engine:
            continue
        if ttl_seconds is not None and wanted in engine:
            continue
        change = "REMOVE TTL" if ttl_seconds is None else f"MODIFY {wanted}"
        # New parts get the new TTL, old ones keep theirs until merged: no rewrite now.
        statements.append(
            f"ALTER TABLE {ddl.local(name)}{ddl.on_cluster} {change}"
            " SETTINGS materialize_ttl_after_modify = 0"
        )
    return statements


def missing_columns(
    existing: dict[str, set[str]], cluster: str | None = None
) -> dict[str, list[Column]]:
    """The columns otelite writes or reads that tables made by others lack, by table.

    ``existing`` maps each table to its column names (``system.columns``: a ``Nested``
    column appears as its fields, ``Events.Name``, ...). A table that does not exist is
    not listed (creating it is ``create_statements``'s job).
    """
    missing: dict[str, list[Column]] = {}
    tables = [(table.name, table.columns) for table in DATA_TABLES]
    for table_name, columns in [*tables, (STATE, STATE_COLUMNS)]:
        name = table_name if cluster is None else f"{table_name}_local"
        if name not in existing:
            continue
        have = existing[name]
        absent = [
            column
            for column in columns
            if column.name not in have
            and not any(field.startswith(column.name + ".") for field in have)
        ]
        if absent:
            missing[table_name] = absent
    return missing


def add_column_statements(
    database: str, missing: dict[str, list[Column]], cluster: str | None = None
) -> list[str]:
    """``ALTER``s that add ``missing`` columns (with their defaults, so rows others wrote
    read as they meant them, and their writers can go on without naming the columns)."""
    ddl = _Ddl(database, cluster)
    statements = []
    for table, columns in missing.items():
        targets = [ddl.local(table)] if cluster is None else [ddl.local(table), ddl.name(table)]
        for target in targets:
            statements += [
                f"ALTER TABLE {target}{ddl.on_cluster} ADD COLUMN IF NOT EXISTS {column.ddl()}"
                for column in columns
            ]
    return statements


def delete_statement(database: str, table: str, condition: str, cluster: str | None = None) -> str:
    """Delete rows of one of otelite's tables (on every shard of a cluster)."""
    ddl = _Ddl(database, cluster)
    if cluster is None:
        return (
            f"DELETE FROM {ddl.local(table)} WHERE {condition}"
            " SETTINGS lightweight_deletes_sync = 2"
        )
    return (
        f"ALTER TABLE {ddl.local(table)}{ddl.on_cluster} DELETE WHERE {condition}"
        " SETTINGS mutations_sync = 2"
    )


SHARDING_KEYS: dict[str, str] = {
    TRACES.name: "cityHash64(TraceId)",
    TRACE_ID_TS.name: "cityHash64(TraceId)",
    LOGS.name: "rand()",
    STATE: "rand()",
    **{t.name: "cityHash64(MetricName, Attributes, ResourceAttributes)" for t in METRICS.values()},
}
"""How a cluster's ``Distributed`` tables spread rows over shards."""


def _ttl(column: str, ttl_seconds: int | None) -> str:
    if ttl_seconds is None:
        return ""
    return f"TTL toDateTime({column}) + toIntervalSecond({ttl_seconds})\n"


class _Ddl:
    """Names and clauses of one database, on a single server or on a cluster."""

    def __init__(self, database: str, cluster: str | None) -> None:
        self.database = database
        self.cluster = cluster
        self.on_cluster = "" if cluster is None else f" ON CLUSTER `{cluster}`"

    def name(self, table: str) -> str:
        return f"`{self.database}`.`{table}`"

    def local(self, table: str) -> str:
        """The table that holds the rows: ``<table>_local`` on a cluster."""
        return self.name(table if self.cluster is None else f"{table}_local")

    def table(
        self, name: str, body: list[str], engine: str, tail: str, *, version: str = ""
    ) -> list[str]:
        columns = ",\n  ".join(body)
        engine = engine if self.cluster is None else f"Replicated{engine}"
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self.local(name)}{self.on_cluster} (\n  {columns}\n)"
            f" ENGINE = {engine}({version})\n{tail}"
        ]
        if self.cluster is not None:
            statements.append(
                f"CREATE TABLE IF NOT EXISTS {self.name(name)}{self.on_cluster}"
                f" AS {self.local(name)} ENGINE = Distributed(`{self.cluster}`,"
                f" `{self.database}`, `{name}_local`, {SHARDING_KEYS[name]})"
            )
        return statements
