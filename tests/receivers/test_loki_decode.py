"""How a Loki push becomes OTLP logs (levels, services, trace context), and what the push
endpoint answers when the pipeline pushes back, validation refuses entries, or tenants
are kept apart; with an in-memory consumer behind a real HTTP server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from otelite.config import Limits, Tenancy
from otelite.errors import OteliteError, Overloaded, RequestTooLarge, Unavailable
from otelite.pipeline import InMemoryConsumer
from otelite.receivers import LOKI_PUSH_PATH, LokiPush
from otelite.receivers._loki_decode import decode_push
from otelite.types import ExportLogsServiceRequest, Signal
from tests.api.served import Served

from .loki_wire import push_request, snappy

T0 = 1_700_000_000_000_000_000
NOW = T0 + 10**9


def pushed(streams: list[dict[str, object]]) -> ExportLogsServiceRequest:
    body = orjson.dumps({"streams": streams})
    return decode_push(body, json=True, max_bytes=1 << 20, received_ns=NOW)


def one(labels: dict[str, str], metadata: dict[str, str] | None = None) -> dict[str, object]:
    entry: list[object] = [str(T0), "a line"]
    if metadata is not None:
        entry.append(metadata)
    return {"stream": labels, "values": [entry]}


@pytest.mark.parametrize(
    ("labels", "metadata", "severity"),
    [
        ({"job": "a"}, None, ("", 0)),
        ({"job": "a", "level": "INFO"}, None, ("INFO", 9)),
        ({"job": "a", "level": "info"}, {"level": "err"}, ("err", 17)),  # the entry's wins
        ({"job": "a", "lvl": "Warning"}, None, ("Warning", 13)),
        ({"job": "a"}, {"severity": "critical"}, ("critical", 21)),
        ({"job": "a"}, {"detected_level": "debug"}, ("debug", 5)),
        ({"job": "a", "level": "fatal", "detected_level": "info"}, None, ("fatal", 21)),
        ({"job": "a", "level": "verbose"}, None, ("verbose", 0)),  # no level: text only
        ({"job": "a", "level": "3"}, None, ("3", 0)),  # a syslog number is no OTLP level
    ],
)
def test_a_level_label_or_field_sets_the_severity(
    labels: dict[str, str], metadata: dict[str, str] | None, severity: tuple[str, int]
) -> None:
    record = pushed([one(labels, metadata)]).resource_logs[0].scope_logs[0].log_records[0]
    assert (record.severity_text, record.severity_number) == severity


@pytest.mark.parametrize(
    ("labels", "service"),
    [
        ({"service_name": "api", "app": "web"}, "api"),
        ({"job": "varlogs", "app": "web"}, "web"),  # app comes before job in Loki's list
        ({"container": "c1", "job": "j"}, "c1"),
        ({"env": "prod"}, "unknown_service"),
    ],
)
def test_the_service_is_the_one_loki_finds(labels: dict[str, str], service: str) -> None:
    resource = pushed([one(labels)]).resource_logs[0].resource
    attributes = [(kv.key, kv.value.string_value) for kv in resource.attributes]
    assert attributes == [*sorted(labels.items()), ("service.name", service)]


def test_trace_context_is_read_from_metadata_that_holds_ids() -> None:
    good = {"trace_id": "0AF7651916CD43DD8448EB211C80319C", "span_id": "b7ad6b7169203331"}
    bad = {"trace_id": "not-an-id", "span_id": "b7ad6b71"}
    records = pushed([one({"a": "b"}, good), one({"a": "c"}, bad)]).resource_logs
    first, second = (r.scope_logs[0].log_records[0] for r in records)
    assert (first.trace_id.hex(), first.span_id.hex()) == (
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
    )
    assert (second.trace_id, second.span_id) == (b"", b"")
    assert {kv.key: kv.value.string_value for kv in second.attributes} == bad


def test_streams_without_entries_add_nothing() -> None:
    request = pushed(
        [{"stream": {"a": "b"}, "values": []}, {"stream": {"a": "c"}}, one({"a": "d"})]
    )
    assert len(request.resource_logs) == 1
    assert pushed([]) == ExportLogsServiceRequest()
    assert (
        decode_push(b"{}", json=True, max_bytes=10, received_ns=NOW) == ExportLogsServiceRequest()
    )


def test_times_come_from_the_entry_and_the_clock() -> None:
    body = push_request([('{a="b"}', [(T0 + 123, "x", {})])])
    request = decode_push(snappy(body), json=False, max_bytes=1 << 20, received_ns=NOW)
    record = request.resource_logs[0].scope_logs[0].log_records[0]
    assert (record.time_unix_nano, record.observed_time_unix_nano) == (T0 + 123, NOW)
    assert request.resource_logs[0].scope_logs[0].scope.name == "otelite.loki.push"


def test_snappy_that_inflates_past_the_limit_is_refused_before_inflating() -> None:
    body = snappy(b"\0" * 4096)
    assert len(body) < 300
    with pytest.raises(RequestTooLarge, match="over the limit of 4095 bytes"):
        decode_push(body, json=False, max_bytes=4095, received_ns=NOW)


class Pushing:
    """A ``LokiPush`` over an in-memory consumer, served on a free port."""

    def __init__(self, *, limits: Limits | None = None, tenancy: Tenancy | None = None) -> None:
        self.consumer = InMemoryConsumer()
        push = LokiPush(self.consumer, limits=limits, tenancy=tenancy)
        self._served = Served(Starlette(routes=[push.route()]))
        self.url = self._served.url + LOKI_PUSH_PATH

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        json = {"Content-Type": "application/json"}
        return httpx.post(self.url, content=body, headers=json | (headers or {}), timeout=10)

    def close(self) -> None:
        self._served.close()


@pytest.fixture
def pushing() -> Iterator[Pushing]:
    server = Pushing()
    yield server
    server.close()


GOOD = orjson.dumps({"streams": [one({"job": "a"})]})


@pytest.mark.parametrize(
    ("error", "status", "retry_after"),
    [
        (Overloaded("the queue is full", retry_after=2.2), 429, "3"),
        (Unavailable("storage is down", retry_after=5), 503, "5"),
    ],
)
def test_backpressure_answers_as_otlp_receivers_do(
    pushing: Pushing, error: OteliteError, status: int, retry_after: str
) -> None:
    pushing.consumer.fail_with = error
    response = pushing.post(GOOD)
    assert response.status_code == status
    assert response.headers["retry-after"] == retry_after
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == str(error)


def test_entries_that_validation_refuses_are_named_and_the_rest_stored(pushing: Pushing) -> None:
    future = T0 * 2  # far beyond a day ahead of the clock
    body = orjson.dumps(
        {"streams": [{"stream": {"job": "a"}, "values": [[str(T0), "ok"], [str(future), "late"]]}]}
    )
    response = pushing.post(body)
    assert response.status_code == 400
    assert "resourceLogs[0].scopeLogs[0].logRecords[1]" in response.text
    assert "logRecords[k] its k-th entry" in response.text
    [request] = pushing.consumer.requests(Signal.LOGS)
    assert isinstance(request, ExportLogsServiceRequest)
    records = request.resource_logs[0].scope_logs[0].log_records
    assert [record.body.string_value for record in records] == ["ok"]


def test_a_good_push_answers_204_and_an_empty_one_stores_nothing(pushing: Pushing) -> None:
    assert (pushing.post(GOOD).status_code, pushing.post(b'{"streams": []}').status_code) == (
        204,
        204,
    )
    assert len(pushing.consumer.requests(Signal.LOGS)) == 1


@pytest.mark.parametrize(
    ("method", "headers", "status"),
    [
        ("GET", {}, 405),
        ("POST", {"Content-Encoding": "br"}, 415),
    ],
)
def test_what_the_endpoint_does_not_take(
    pushing: Pushing, method: str, headers: dict[str, str], status: int
) -> None:
    response = httpx.request(method, pushing.url, content=GOOD, headers=headers)
    assert response.status_code == status
    assert pushing.consumer.received == []


def test_a_push_goes_to_the_tenant_it_names() -> None:
    server = Pushing(tenancy=Tenancy(enabled=True))
    try:
        assert server.post(GOOD, {"X-Scope-OrgID": "team-a"}).status_code == 204
        refused = server.post(GOOD)
        assert refused.status_code == 400
        assert "X-Scope-OrgID header required" in refused.text
        assert [tenant for _, _, tenant in server.consumer.received] == ["team-a"]
    finally:
        server.close()


def test_a_body_over_the_limit_is_413() -> None:
    server = Pushing(limits=Limits(max_request_bytes=64))
    try:
        response = server.post(GOOD + b" " * 64)
        assert response.status_code == 413
        assert server.consumer.received == []
    finally:
        server.close()
