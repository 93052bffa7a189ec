"""ClickHouse down or failing: otelite keeps acknowledging into its write-ahead log, says why
it is not ready, and stores everything once ClickHouse answers again."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from otelite.config import Tenancy, parse_storage
from otelite.types import Signal
from tests.backends import chdb_location, chdb_path, drop
from tests.clickhouse_http import ClickHouseHTTP
from tests.e2e.conftest import wait_for
from tests.storage.samples import trace_request
from tests.tenancy.support import Running

pytestmark = pytest.mark.slow


def test_writes_failing_make_readyz_say_so_and_nothing_is_lost(tmp_path: Path) -> None:
    location = chdb_location()
    with ClickHouseHTTP(chdb_path(), user="otel", password="pw") as clickhouse:
        storage = parse_storage(clickhouse.url(location.database))
        server = Running(tmp_path / "data", Tenancy(), storage=storage)
        try:
            clickhouse.fail_next(10_000, code=210, message="Connection refused (injected)")
            # Acknowledged once in the write-ahead log, whatever ClickHouse does.
            assert server.post(Signal.TRACES, trace_request(), None).status_code == 200

            def not_ready() -> str | None:
                response = httpx.get(f"{server.api}/readyz", timeout=5)
                return response.text if response.status_code == 503 else None

            reason = wait_for(not_ready, what="/readyz to report failing writes")
            assert "storage writes failing" in reason
            assert "Connection refused" in reason

            clickhouse.recover()
            wait_for(
                lambda: httpx.get(f"{server.api}/readyz", timeout=5).status_code == 200,
                timeout=60,
                what="/readyz to recover",
            )
            server.flush()
            count = server.get("/api/count", None, signal="traces", start="0").json()
            assert count["count"] == 4
        finally:
            server.close()
    drop(location)
