"""The storage behind the API, and plans run on it off the event loop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from otelite.query import Plan, compile_plan
from otelite.storage import Storage

__all__ = ["rows", "rows_of_each", "storage_of"]


def storage_of(request: Request) -> Storage:
    """The storage ``create_app`` was given."""
    storage: Storage = request.app.state.storage
    return storage


def _run(storage: Storage, plans: Sequence[Plan]) -> list[list[dict[str, Any]]]:
    results = []
    for plan in plans:
        statement = compile_plan(plan, storage.dialect)
        results.append(storage.query(statement.sql, statement.params).to_pylist())
    return results


async def rows(request: Request, plan: Plan) -> list[dict[str, Any]]:
    """The rows of one plan, as dicts, computed in a worker thread."""
    [result] = await run_in_threadpool(_run, storage_of(request), [plan])
    return result


async def rows_of_each(request: Request, plans: Sequence[Plan]) -> list[list[dict[str, Any]]]:
    """The rows of several plans, computed one after another in one worker thread."""
    return await run_in_threadpool(_run, storage_of(request), plans)
