"""``GET /api/count``: stored items per signal over a time range, on real DuckDB."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from otelite.api import StoragePerTenant, create_app
from otelite.config import Tenancy
from otelite.storage import Storage, WriteBatch
from otelite.storage.duckdb import DuckDBStorage

from .samples import MS, T0, logs, metrics, traces
from .served import Served

S = 10**9
WINDOW = {"start": str(T0 - S), "end": str(T0 + 10 * S)}
# The samples hold 5 spans, 3 log records, and 8 points: 4 gauge, 1 each of the others.
STORED = {"traces": 5, "logs": 3, "metrics": 8}


def count(client: httpx.Client, signal: str, **params: str) -> int:
    response = client.get("/api/count", params={"signal": signal, **params})
    assert response.status_code == 200, response.text
    found: int = response.json()["count"]
    return found


@pytest.mark.parametrize("signal", list(STORED))
def test_counts_each_signal(client: httpx.Client, signal: str) -> None:
    response = client.get("/api/count", params={"signal": signal, **WINDOW})
    assert response.status_code == 200
    assert response.json() == {
        "signal": signal,
        "count": STORED[signal],
        "startUnixNano": WINDOW["start"],
        "endUnixNano": WINDOW["end"],
    }


def test_the_default_range_is_the_last_hour(client: httpx.Client) -> None:
    body = client.get("/api/count", params={"signal": "logs"}).json()
    assert body["count"] == STORED["logs"]  # the samples are ten minutes old
    assert int(body["endUnixNano"]) - int(body["startUnixNano"]) == 3600 * S
    earlier = client.get("/api/count", params={"signal": "logs", "end": "now-15m"}).json()
    assert earlier["count"] == 0


@pytest.mark.parametrize(
    ("signal", "start", "end", "expected"),
    # Offsets from T0 (a time near now), so that test ids are the same from run to run.
    [
        # Spans by start time: 0, 10, 1000, 1100 and 2000 ms after T0.
        ("traces", 10 * MS, 1100 * MS, 2),
        ("traces", 10 * MS + 1, 1100 * MS + 1, 2),
        ("traces", 0, 2000 * MS + 1, 5),
        # Log records at 5, 15 (observed: it has no time of its own) and 25 ms.
        ("logs", 15 * MS, 25 * MS, 1),
        ("logs", 5 * MS, 25 * MS + 1, 3),
        # Points: six at 1 s (two gauge, one of each other type), two gauge at 2 s.
        ("metrics", S, 2 * S, 6),
        ("metrics", S + 1, 2 * S + 1, 2),
        ("metrics", 2 * S, 2 * S, 0),
    ],
)
def test_start_is_inclusive_and_end_exclusive(
    client: httpx.Client, signal: str, start: int, end: int, expected: int
) -> None:
    assert count(client, signal, start=str(T0 + start), end=str(T0 + end)) == expected


def test_spans_count_as_stored_like_services() -> None:
    """A span sent twice is two rows: ``/api/count`` agrees with ``/api/services``."""
    storage = DuckDBStorage(None)
    storage.write(WriteBatch(traces=[traces(), traces()]))
    served = Served(create_app(storage))
    try:
        with httpx.Client(base_url=served.url, timeout=10) as client:
            services = client.get("/api/services", params=WINDOW).json()["services"]
            assert count(client, "traces", **WINDOW) == 10
            assert sum(s["spanCount"] for s in services) == 10
    finally:
        served.close()
        storage.close()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "signal: required, one of traces|metrics|logs"),
        ({"signal": "profiles"}, "signal: expected traces|metrics|logs, got 'profiles'"),
        ({"signal": "logs", "start": "yesterday"}, "start: expected RFC 3339"),
        ({"signal": "logs", "end": "99999999999999999999"}, "end: outside 1970 to 2262"),
        ({"signal": "logs", "start": "now", "end": "now-1h"}, "start: must not be after end"),
    ],
)
def test_bad_parameters_are_400(client: httpx.Client, params: dict[str, str], message: str) -> None:
    response = client.get("/api/count", params=params)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message), response.text


@pytest.fixture
def tenants() -> Iterator[dict[str, Storage]]:
    written, empty = DuckDBStorage(None), DuckDBStorage(None)
    written.write(WriteBatch(traces=[traces()], logs=[logs()], metrics=[metrics()]))
    yield {"a": written, "b": empty}
    written.close()
    empty.close()


def test_each_tenant_counts_only_its_own(tenants: dict[str, Storage]) -> None:
    app = create_app(StoragePerTenant(Tenancy(enabled=True), tenants.__getitem__))
    served = Served(app)
    try:
        with httpx.Client(base_url=served.url, timeout=10) as client:
            for signal, stored in STORED.items():
                for tenant, expected in (("a", stored), ("b", 0)):
                    headers = {"X-Scope-OrgID": tenant}
                    params = {"signal": signal, **WINDOW}
                    response = client.get("/api/count", params=params, headers=headers)
                    assert response.json()["count"] == expected, (signal, tenant)
            anonymous = client.get("/api/count", params={"signal": "logs", **WINDOW})
            assert anonymous.status_code == 400
            assert "X-Scope-OrgID header required" in anonymous.json()["error"]
    finally:
        served.close()
