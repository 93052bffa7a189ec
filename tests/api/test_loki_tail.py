"""Loki's live tail on a whole running otelite, on each backend, with a real WebSocket
client (``websockets``): the history first, then lines sent over OTLP after connecting,
through the query's whole pipeline; refusals before the upgrade; the bound on tails."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from otelite.access import Tokens, read_tokens
from otelite.api import create_app
from otelite.api._loki_tail import MAX_TAILS
from otelite.storage.duckdb import DuckDBStorage
from otelite.types import ExportLogsServiceRequest, Signal
from tests.backends import BACKENDS
from tests.tenancy.support import Running, running_on

from .served import Served

pytestmark = pytest.mark.slow

TAIL = "/loki/api/v1/tail"
S = 10**9


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    with running_on(request.param, tmp_path_factory.mktemp("tail") / "data") as running:
        yield running


def logs(service: str, *lines: tuple[int, str]) -> ExportLogsServiceRequest:
    """Records of ``service`` at (time, line), each with the severity text INFO."""
    resource = Resource(
        attributes=[KeyValue(key="service.name", value=AnyValue(string_value=service))]
    )
    records = [
        LogRecord(time_unix_nano=at, severity_text="INFO", body=AnyValue(string_value=line))
        for at, line in lines
    ]
    scope_logs = [ScopeLogs(log_records=records)]
    return ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(resource=resource, scope_logs=scope_logs)]
    )


def send(server: Running, service: str, *lines: tuple[int, str]) -> None:
    assert server.post(Signal.LOGS, logs(service, *lines), None).status_code == 200
    server.flush()


def tail_url(base: str, query: str, **params: str) -> str:
    return base.replace("http://", "ws://") + TAIL + "?" + urlencode({"query": query, **params})


def frame(ws: ClientConnection) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(ws.recv(timeout=15))
    return found


def stream(service: str, **more: str) -> dict[str, str]:
    """A record's labels as a tail frame writes them without the encoding flag: its
    stream, its structured metadata (the severity text, the level), what was parsed."""
    return {"detected_level": "info", "service_name": service, "severity_text": "INFO", **more}


def test_history_then_lines_sent_after_connecting(server: Running) -> None:
    service = f"tail-{uuid.uuid4().hex[:8]}"
    before = time.time_ns() - 5 * S
    send(server, service, (before, "before"))
    with connect(tail_url(server.api, f'{{service_name="{service}"}}')) as ws:
        assert frame(ws) == {
            "streams": [{"stream": stream(service), "values": [[str(before), "before"]]}]
        }
        after = time.time_ns() - S
        send(server, "someone-else", (after, "not for this tail"))
        send(server, service, (after, "after"))
        assert frame(ws) == {
            "streams": [{"stream": stream(service), "values": [[str(after), "after"]]}]
        }
        # Stored after that line, but older: SDKs and collectors send in batches.
        late = after - 3 * S
        send(server, service, (late, "late"))
        assert frame(ws) == {
            "streams": [{"stream": stream(service), "values": [[str(late), "late"]]}]
        }


def test_the_whole_pipeline_runs(server: Running) -> None:
    service = f"tail-{uuid.uuid4().hex[:8]}"
    query = f'{{service_name="{service}"}} | logfmt | level="error" | line_format "{{{{.msg}}}}"'
    with connect(tail_url(server.api, query)) as ws:
        at = time.time_ns() - S
        send(server, service, (at, "level=info msg=skipped"), (at + 1, "level=error msg=kept"))
        parsed = stream(service, level="error", msg="kept")
        assert frame(ws) == {"streams": [{"stream": parsed, "values": [[str(at + 1), "kept"]]}]}


def test_categorized_labels_and_dropped_entries(server: Running) -> None:
    service = f"tail-{uuid.uuid4().hex[:8]}"
    flags = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}
    url = tail_url(server.api, f'{{service_name="{service}"}}', limit="1")
    with connect(url, additional_headers=flags) as ws:
        at = time.time_ns() - S
        send(server, service, (at, "one"), (at + 1, "two"), (at + 2, "three"))
        # One line per read (limit=1): the oldest; the others are reported as dropped.
        metadata = {"detected_level": "info", "severity_text": "INFO"}
        assert frame(ws) == {
            "streams": [
                {
                    "stream": {"service_name": service},
                    "values": [[str(at), "one", {"structuredMetadata": metadata}]],
                }
            ],
            "dropped_entries": [
                {"timestamp": str(at + 1), "labels": stream(service)},
                {"timestamp": str(at + 2), "labels": stream(service)},
            ],
            "encodingFlags": ["categorize-labels"],
        }


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"query": '{app="x"'}, "parse error at line 1, col 9"),
        ({"query": 'rate({app="x"}[1m])'}, "only log queries can be tailed"),
        ({"query": '{app="x"}', "delay_for": "6"}, "delay_for can't be greater than 5"),
        ({"query": '{app="x"}', "limit": "5001"}, "(5001 > 5000)"),
    ],
)
def test_refused_before_the_upgrade(server: Running, params: dict[str, str], text: str) -> None:
    url = server.api.replace("http://", "ws://") + TAIL + "?" + urlencode(params)
    with pytest.raises(InvalidStatus) as refused, connect(url):
        pass
    assert refused.value.response.status_code == 400
    assert text in refused.value.response.body.decode()
    # Without an upgrade, Loki answers 400 too.
    plain = httpx.get(server.api + TAIL, params={"query": '{app="x"}'})
    assert plain.status_code == 400 and "websocket" in plain.text


def test_tails_are_bounded_and_freed_when_clients_leave() -> None:
    storage = DuckDBStorage(None)
    served = Served(create_app(storage))
    url = tail_url(served.url, '{app="x"}')
    try:
        with ExitStack() as tails:
            first = tails.enter_context(connect(url))
            for _ in range(MAX_TAILS - 1):
                tails.enter_context(connect(url))
            with pytest.raises(InvalidStatus) as refused, connect(url):
                pass
            assert refused.value.response.status_code == 400
            assert b"max concurrent tail requests limit exceeded" in refused.value.response.body
            first.close()
            deadline = time.monotonic() + 10
            while True:  # the server notices the close, and takes a tail again
                try:
                    tails.enter_context(connect(url))
                    break
                except InvalidStatus:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
    finally:
        served.close()
        storage.close()


def test_a_tail_needs_the_query_right_when_tokens_are_on() -> None:
    storage = DuckDBStorage(None)
    served = Served(create_app(storage, tokens=Tokens(read_tokens("tail-reader"))))
    url = tail_url(served.url, '{app="x"}')
    try:
        with pytest.raises(InvalidStatus) as refused, connect(url):
            pass
        assert refused.value.response.status_code == 403
        with connect(url, additional_headers={"Authorization": "Bearer tail-reader"}) as ws:
            ws.ping().wait(timeout=10)
    finally:
        served.close()
        storage.close()
