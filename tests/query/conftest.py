"""The fixed dataset in a plain DuckDB connection, and a runner for compiled plans."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from otelite.query import Plan, compile_plan
from otelite.query.dialects import DuckDBDialect
from otelite.storage import Storage, WriteBatch
from otelite.storage._schema import LOGS, METRIC_TABLES, TABLES, TRACES, table_name
from otelite.storage.duckdb._layout import from_stored, stored_schema, to_stored
from tests.backends import BACKENDS, store

from .dataset import GAUGE_ROWS, LOG_ROWS, SPANS, rows_table


@pytest.fixture(scope="session")
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    dialect = DuckDBDialect()
    for schema in TABLES:
        connection.execute(dialect.create_table(table_name(schema), stored_schema(schema)))
    for schema, rows in ((TRACES, SPANS), (LOGS, LOG_ROWS), (METRIC_TABLES["gauge"], GAUGE_ROWS)):
        data = to_stored(rows_table(schema, rows))  # noqa: F841 - read by DuckDB's scan
        connection.execute(f'INSERT INTO "{table_name(schema)}" SELECT * FROM data')
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def clickhouse() -> Iterator[Storage]:
    """The fixed dataset in a ClickHouse store on chDB (the exporter's tables)."""
    with store("chdb") as opened:
        tables = {
            table_name(schema): rows_table(schema, rows)
            for schema, rows in (
                (TRACES, SPANS),
                (LOGS, LOG_ROWS),
                (METRIC_TABLES["gauge"], GAUGE_ROWS),
            )
        }
        opened.write(WriteBatch(tables=tables))
        yield opened


@pytest.fixture(params=BACKENDS)
def run(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Compile a plan for each backend's dialect and return its rows as dicts."""
    if request.param == "duckdb":
        db: duckdb.DuckDBPyConnection = request.getfixturevalue("db")

        def run(plan: Plan) -> list[dict[str, Any]]:
            statement = compile_plan(plan, DuckDBDialect())
            sql, params = statement.sql, list(statement.params)
            return from_stored(db.sql(sql, params=params).to_arrow_table()).to_pylist()  # type: ignore[no-any-return]

        return run
    storage: Storage = request.getfixturevalue("clickhouse")

    def run_stored(plan: Plan) -> list[dict[str, Any]]:
        statement = compile_plan(plan, storage.dialect)
        result = storage.query(statement.sql, statement.params, types=statement.types)
        return result.to_pylist()  # type: ignore[no-any-return]

    return run_stored
