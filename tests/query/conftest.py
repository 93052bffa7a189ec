"""The fixed dataset in a plain DuckDB connection, and a runner for compiled plans."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from otelite.query import Plan, compile_plan
from otelite.query.dialects import DuckDBDialect
from otelite.storage._schema import LOGS, METRIC_TABLES, TABLES, TRACES, table_name
from otelite.storage.duckdb._layout import from_stored, to_stored

from .dataset import GAUGE_ROWS, LOG_ROWS, SPANS, rows_table


@pytest.fixture(scope="session")
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    dialect = DuckDBDialect()
    for schema in TABLES:
        connection.execute(dialect.create_table(table_name(schema), schema))
    for schema, rows in ((TRACES, SPANS), (LOGS, LOG_ROWS), (METRIC_TABLES["gauge"], GAUGE_ROWS)):
        data = to_stored(rows_table(schema, rows))  # noqa: F841 - read by DuckDB's scan
        connection.execute(f'INSERT INTO "{table_name(schema)}" SELECT * FROM data')
    yield connection
    connection.close()


@pytest.fixture
def run(db: duckdb.DuckDBPyConnection):  # type: ignore[no-untyped-def]
    """Compile a plan for DuckDB and return its rows as dicts."""

    def run(plan: Plan) -> list[dict[str, Any]]:
        statement = compile_plan(plan, DuckDBDialect())
        result = from_stored(db.sql(statement.sql, params=list(statement.params)).to_arrow_table())
        return result.to_pylist()  # type: ignore[no-any-return]

    return run
