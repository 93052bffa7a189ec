"""Two ``otelite serve`` processes on one ClickHouse database over HTTP, each with its own
write-ahead log: either one answers for everything both stored, and a kill -9 of one
loses and duplicates nothing."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from otelite.otlp import decode_request_json
from otelite.types import ExportRequest, Signal
from tests.backends import chdb_location, chdb_path, drop
from tests.clickhouse_http import ClickHouseHTTP
from tests.e2e.conftest import ServerProcess, wait_for
from tests.roundtrip import assert_same_telemetry
from tests.storage.samples import logs_request, trace_request

pytestmark = pytest.mark.slow


@pytest.fixture
def clickhouse_url() -> Iterator[str]:
    location = chdb_location()
    with ClickHouseHTTP(chdb_path(), user="otel", password="pw") as clickhouse:
        yield clickhouse.url(location.database)
    drop(location)


def _export(server: ServerProcess, signal_: Signal) -> list[ExportRequest]:
    # The samples are from 2023: ask for all time, not the default recent window.
    response = httpx.get(
        f"{server.url}/api/export", params={"signal": signal_.value, "start": "0"}, timeout=30
    )
    response.raise_for_status()
    return [decode_request_json(signal_, line) for line in response.text.splitlines()]


def _post(server: ServerProcess, signal_: Signal, request: ExportRequest) -> None:
    response = httpx.post(
        f"{server.otlp_http}/v1/{signal_.value}",
        content=request.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_two_otelites_on_one_database_answer_alike(tmp_path: Path, clickhouse_url: str) -> None:
    servers = [
        ServerProcess(
            tmp_path / name,
            tmp_path / f"{name}.log",
            # The samples are from 2023: with a retention, ClickHouse would expire them at once.
            extra_args=["--storage", clickhouse_url, "--retention", "off"],
        )
        for name in ("a", "b")
    ]
    for server in servers:
        server.start()
    try:
        a, b = servers
        _post(a, Signal.TRACES, trace_request())
        _post(b, Signal.LOGS, logs_request())
        for server in servers:
            wait_for(
                lambda s=server: len(_export(s, Signal.LOGS)) > 0,
                what="the logs b stored, seen from each",
            )
            wait_for(
                lambda s=server: len(_export(s, Signal.TRACES)) > 0,
                what="the spans a stored, seen from each",
            )
            assert_same_telemetry([trace_request()], _export(server, Signal.TRACES))
            assert_same_telemetry([logs_request()], _export(server, Signal.LOGS))

        # One dies hard and comes back on its own write-ahead log: nothing twice.
        a.stop(signal.SIGKILL)
        a.start()
        for server in servers:
            assert_same_telemetry([trace_request()], _export(server, Signal.TRACES))
        count = httpx.get(f"{b.url}/api/count", params={"signal": "traces", "start": "0"})
        assert count.json()["count"] == 4
    finally:
        for server in servers:
            if server.process is not None and server.process.poll() is None:
                server.stop()
