"""Loki's push API on a whole running otelite, on each backend: pushes in JSON (plain and
gzip) and in snappy protobuf, to the query port and the OTLP/HTTP port, and from a real
Loki client library; read back through otelite's log search, its export API and
``otelite export``, as OTLP. Bad bodies answer 400 in plain text and store nothing."""

from __future__ import annotations

import gzip
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from loki_logger_handler.loki_logger_handler import LokiLoggerHandler

from otelite.cli import main
from otelite.otlp import decode_request_json
from otelite.types import ExportLogsServiceRequest, Signal
from tests.backends import BACKENDS
from tests.tenancy.support import Running, running_on

from .loki_wire import Entry, push_protobuf, push_request, snappy

T0 = (time.time_ns() // 10**9 - 3600) * 10**9  # an hour ago, on a whole second
WINDOW = {"start": str(T0 - 10**9), "end": str(T0 + 60 * 10**9)}
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
SPAN_ID = "b7ad6b7169203331"
PUSH = "/loki/api/v1/push"
JSON = {"Content-Type": "application/json"}
PROTOBUF = {"Content-Type": "application/x-protobuf"}
SCOPE = "otelite.loki.push"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    with running_on(request.param, tmp_path_factory.mktemp("loki") / "data") as running:
        yield running


def run_id() -> str:
    """A label value of one test's own, to find its records among the module's."""
    return uuid.uuid4().hex[:12]


def stored(server: Running, run: str, window: dict[str, str] = WINDOW) -> list[dict[str, Any]]:
    """The records of ``run`` in ``window`` that the export API gives, each flattened with
    its resource's attributes and scope (see ``flat``)."""
    server.flush()
    response = server.get("/api/export", None, signal="logs", **window)
    assert response.status_code == 200, response.text
    requests = [decode_request_json(Signal.LOGS, line) for line in response.text.splitlines()]
    return [record for record in flat(requests) if record["resource"].get("run") == run]


def flat(requests: list[Any]) -> list[dict[str, Any]]:
    """Every log record as a dict of what the push mapping decides, sorted by time."""
    records = []
    for request in requests:
        assert isinstance(request, ExportLogsServiceRequest)
        for resource_logs in request.resource_logs:
            resource = {kv.key: kv.value.string_value for kv in resource_logs.resource.attributes}
            for scope_logs in resource_logs.scope_logs:
                for record in scope_logs.log_records:
                    records.append(
                        {
                            "resource": resource,
                            "scope": scope_logs.scope.name,
                            "time": record.time_unix_nano,
                            "observed": record.observed_time_unix_nano,
                            "line": record.body.string_value,
                            "attributes": {
                                kv.key: kv.value.string_value for kv in record.attributes
                            },
                            "severity": (record.severity_text, record.severity_number),
                            "trace": (record.trace_id.hex(), record.span_id.hex()),
                        }
                    )
    return sorted(records, key=lambda record: (record["time"], record["line"]))


def expected(run: str) -> list[dict[str, Any]]:
    """What ``streams(run)`` pushed, as ``flat`` gives it (observed times aside)."""
    checkout = {
        "job": "checkout",
        "env": "prod",
        "level": "WARN",
        "run": run,
        "service.name": "checkout",  # job is one of Loki's service-discovery labels
    }
    cart = {"app": "cart", "service_name": "cart-svc", "run": run, "service.name": "cart-svc"}
    return [
        {
            "resource": checkout,
            "scope": SCOPE,
            "time": T0,
            "line": "first line",
            "attributes": {},
            "severity": ("WARN", 13),
            "trace": ("", ""),
        },
        {
            "resource": checkout,
            "scope": SCOPE,
            "time": T0 + 1,
            "line": 'second "line" ✓\n\ttabbed',
            "attributes": {"trace_id": TRACE_ID, "span_id": SPAN_ID, "user.id": "u1"},
            "severity": ("WARN", 13),
            "trace": (TRACE_ID, SPAN_ID),
        },
        {
            "resource": cart,
            "scope": SCOPE,
            "time": T0 + 2_500_000_123,
            "line": "cart line",
            "attributes": {"detected_level": "error"},
            "severity": ("error", 17),
            "trace": ("", ""),
        },
    ]


def streams(run: str) -> list[tuple[dict[str, str], list[tuple[int, str, dict[str, str]]]]]:
    return [
        (
            {"job": "checkout", "env": "prod", "level": "WARN", "run": run, "blank": ""},
            [
                (T0, "first line", {}),
                (
                    T0 + 1,
                    'second "line" ✓\n\ttabbed',
                    {"trace_id": TRACE_ID, "span_id": SPAN_ID, "user.id": "u1"},
                ),
            ],
        ),
        (
            {"app": "cart", "service_name": "cart-svc", "run": run},
            [(T0 + 2_500_000_123, "cart line", {"detected_level": "error"})],
        ),
    ]


def json_body(run: str) -> bytes:
    return orjson.dumps(
        {
            "streams": [
                {
                    "stream": labels,
                    "values": [
                        [str(t), line, metadata] if metadata else [str(t), line]
                        for t, line, metadata in entries
                    ],
                }
                for labels, entries in streams(run)
            ]
        }
    )


def labels_text(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}={orjson.dumps(v).decode()}" for k, v in labels.items()) + "}"


def protobuf_body(run: str) -> bytes:
    return push_protobuf([(labels_text(labels), entries) for labels, entries in streams(run)])


def assert_pushed(server: Running, run: str, before: int, after: int) -> None:
    records = stored(server, run)
    for record in records:
        assert before <= record.pop("observed") <= after
    assert records == expected(run)


@pytest.mark.parametrize(
    ("port", "body", "headers"),
    [
        ("api", json_body, JSON),
        ("api", lambda run: gzip.compress(json_body(run)), JSON | {"Content-Encoding": "gzip"}),
        ("api", protobuf_body, PROTOBUF),
        ("api", protobuf_body, PROTOBUF | {"Content-Encoding": "snappy"}),
        ("api", protobuf_body, {}),  # Loki takes a body without Content-Type as protobuf
        ("otlp_http", json_body, JSON),
        ("otlp_http", protobuf_body, PROTOBUF),
    ],
    ids=[
        "json",
        "json-gzip",
        "protobuf",
        "protobuf-snappy-header",
        "no-type",
        "4318-json",
        "4318-protobuf",
    ],
)
def test_a_push_comes_back_as_otlp(
    server: Running, port: str, body: Any, headers: dict[str, str]
) -> None:
    run = run_id()
    before = time.time_ns()
    response = httpx.post(getattr(server, port) + PUSH, content=body(run), headers=headers)
    after = time.time_ns()
    assert (response.status_code, response.text) == (204, "")
    assert_pushed(server, run, before, after)


def test_pushed_logs_are_found_by_service_severity_and_trace(server: Running) -> None:
    run = run_id()
    assert httpx.post(server.api + PUSH, content=json_body(run), headers=JSON).status_code == 204
    server.flush()

    def search(**params: str) -> list[dict[str, Any]]:
        response = server.get("/api/search/logs", None, attr=f"run={run}", **WINDOW, **params)
        assert response.status_code == 200, response.text
        logs: list[dict[str, Any]] = response.json()["logs"]
        return logs

    checkout = search(service="checkout")
    assert [log["body"]["stringValue"] for log in checkout] == [
        'second "line" ✓\n\ttabbed',
        "first line",
    ]
    assert {log["serviceName"] for log in checkout} == {"checkout"}
    assert [(log["severityText"], log["severityNumber"]) for log in checkout] == [("WARN", 13)] * 2
    assert [log["timeUnixNano"] for log in checkout] == [str(T0 + 1), str(T0)]
    [traced] = search(traceId=TRACE_ID)
    assert traced["spanId"] == SPAN_ID
    assert {a["key"]: a["value"]["stringValue"] for a in traced["attributes"]} == {
        "trace_id": TRACE_ID,
        "span_id": SPAN_ID,
        "user.id": "u1",
    }
    [error] = search(severity="error")
    assert (error["serviceName"], error["body"]["stringValue"]) == ("cart-svc", "cart line")


def test_otelite_export_writes_pushed_logs_as_otlp(server: Running, tmp_path: Path) -> None:
    run = run_id()
    before = time.time_ns()
    body = protobuf_body(run)
    assert httpx.post(server.api + PUSH, content=body, headers=PROTOBUF).status_code == 204
    after = time.time_ns()
    server.flush()
    target = tmp_path / "logs.jsonl"
    window = ["--start", WINDOW["start"], "--end", WINDOW["end"]]
    argv = ["export", "--signal", "logs", "-o", str(target), "--url", server.api, *window]
    assert main(argv) == 0
    requests = [decode_request_json(Signal.LOGS, line) for line in target.read_bytes().splitlines()]
    records = [record for record in flat(requests) if record["resource"].get("run") == run]
    for record in records:
        assert before <= record.pop("observed") <= after
    assert records == expected(run)


def test_a_loki_client_library_pushes_to_otelite(server: Running) -> None:
    run = run_id()
    handler = LokiLoggerHandler(
        url=server.api + PUSH,
        labels={"application": "pyshop", "run": run},
        label_keys={"level": "level"},
        timeout=0.2,
        compressed=True,
        enable_structured_loki_metadata=True,
        loki_metadata={"host": "h1"},
    )
    logger = logging.getLogger(f"tests.loki.{run}")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("disk almost full", extra={"loki_metadata": {"user": "u7"}})
        # The library stamps entries with the time they were logged.
        now = {"start": "now-1m", "end": "now+1m"}
        deadline = time.monotonic() + 10
        while not (records := stored(server, run, now)) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        logger.removeHandler(handler)
    [record] = records
    assert record["resource"] == {
        "application": "pyshop",
        "run": run,
        "level": "WARNING",
        "service.name": "pyshop",
    }
    assert record["attributes"] == {"host": "h1", "user": "u7"}
    assert record["severity"] == ("WARNING", 13)
    line = orjson.loads(record["line"])  # the library sends its record as JSON
    assert (line["message"], line["level"]) == ("disk almost full", "WARNING")
    assert abs(record["time"] - int(line["timestamp"] * 1e9)) < 1000


def _json(run: str, bad: Any) -> bytes:
    """A good stream of ``run``, then ``bad``."""
    good = {"stream": {"run": run}, "values": [[str(T0), "good line"]]}
    return orjson.dumps({"streams": [good, bad]})


def _entry(run: str, entry: Any) -> bytes:
    """A good stream, then one with a good entry and ``entry``."""
    return _json(run, {"stream": {"run": run, "part": "2"}, "values": [[str(T0), "ok"], entry]})


def _protobuf(run: str, labels: str, entry: Entry) -> bytes:
    """A good stream of ``run``, then a stream of ``labels`` with ``entry``."""
    return snappy(_message(run, labels, entry))


def _message(run: str, labels: str, entry: Entry) -> bytes:
    return push_request([(f'{{run="{run}"}}', [(T0, "good line", {})]), (labels, [entry])])


GZIP = JSON | {"Content-Encoding": "gzip"}
# (name, body of a run, headers, what the answer says)
BAD_BODIES: list[tuple[str, Callable[[str], bytes], dict[str, str], str]] = [
    ("json: not JSON", lambda run: _json(run, {})[:-3], JSON, "the body is not valid JSON"),
    ("json: a list", lambda run: b"[1]", JSON, "the body must be a JSON object"),
    ("json: streams not a list", lambda run: b'{"streams": {}}', JSON, "streams: expected a list"),
    (
        "json: stream not an object",
        lambda run: _json(run, [1]),
        JSON,
        "streams[1]: a stream is an object",
    ),
    (
        "json: label value not a string",
        lambda run: _json(run, {"stream": {"run": run, "n": 1}, "values": []}),
        JSON,
        "streams[1].stream: the value of 'n' is a number",
    ),
    (
        "json: bad label name",
        lambda run: _json(run, {"stream": {"k8s.pod": "x"}, "values": [[str(T0), "x"]]}),
        JSON,
        "streams[1].stream: 'k8s.pod' is not a label name",
    ),
    (
        "json: no labels",
        lambda run: _json(run, {"stream": {}, "values": [[str(T0), "x"]]}),
        JSON,
        "streams[1]: the stream has no labels",
    ),
    (
        "json: only empty labels",
        lambda run: _json(run, {"stream": {"a": ""}, "values": [[str(T0), "x"]]}),
        JSON,
        "streams[1]: the stream has no labels",
    ),
    (
        "json: values not a list",
        lambda run: _json(run, {"stream": {"a": "b"}, "values": "x"}),
        JSON,
        "streams[1].values: expected a list of entries, got a string",
    ),
    (
        "json: entry of one",
        lambda run: _entry(run, [str(T0)]),
        JSON,
        "streams[1].values[1]: an entry is",
    ),
    (
        "json: timestamp a word",
        lambda run: _entry(run, ["soon", "x"]),
        JSON,
        'streams[1].values[1][0]: the timestamp "soon" is not a whole number of nanoseconds',
    ),
    (
        "json: timestamp a fraction",
        lambda run: _entry(run, [1.5e18, "x"]),
        JSON,
        "the timestamp 1.5e+18 is not",
    ),
    (
        "json: timestamp negative",
        lambda run: _entry(run, ["-5", "x"]),
        JSON,
        'the timestamp "-5" is not',
    ),
    (
        "json: timestamp past 64 bits",
        lambda run: _entry(run, ["1" * 20, "x"]),
        JSON,
        "is not a whole number",
    ),
    (
        "json: line not a string",
        lambda run: _entry(run, [str(T0), 5]),
        JSON,
        "streams[1].values[1][1]: the log line is a number, not a string",
    ),
    (
        "json: metadata value not a string",
        lambda run: _entry(run, [str(T0), "x", {"user": 7}]),
        JSON,
        "streams[1].values[1][2]: the value of 'user' is a number",
    ),
    ("gzip: not gzip", lambda run: _json(run, {}), GZIP, "body is not valid gzip"),
    (
        "protobuf: not snappy",
        lambda run: b"\x0a\xff\xff\xff\xff" + _json(run, {}),
        PROTOBUF,
        "the body is not snappy-compressed protobuf",
    ),
    (
        "protobuf: JSON sent as protobuf",
        lambda run: _json(run, {}),
        PROTOBUF,
        "the body is not snappy-compressed protobuf",
    ),
    (
        "protobuf: a message cut short",
        lambda run: snappy(_message(run, '{a="b"}', (T0, "x", {}))[:-3]),
        PROTOBUF,
        "the body is not a logproto.PushRequest",
    ),
    (
        "protobuf: a line not UTF-8",
        lambda run: _protobuf(run, '{a="b"}', (T0, b"\xff\xfe", {})),
        PROTOBUF,
        "the body is not a logproto.PushRequest",
    ),
    (
        "protobuf: bad labels",
        lambda run: _protobuf(run, "{job=x}", (T0, "x", {})),
        PROTOBUF,
        "streams[1].labels '{job=x}': parse error at line 1, col 6",
    ),
    (
        "protobuf: empty labels",
        lambda run: _protobuf(run, '{a=""}', (T0, "x", {})),
        PROTOBUF,
        "streams[1]: the stream has no labels",
    ),
    (
        "protobuf: a time before 1970",
        lambda run: _protobuf(run, '{a="b"}', (-(10**9), "x", {})),
        PROTOBUF,
        "streams[1].entries[0].timestamp: seconds -1 and nanos 0 are not a time from 1970 on",
    ),
]


@pytest.mark.parametrize(
    ("body", "headers", "says"),
    [case[1:] for case in BAD_BODIES],
    ids=[case[0] for case in BAD_BODIES],
)
def test_a_bad_body_is_refused_whole(
    server: Running, body: Callable[[str], bytes], headers: dict[str, str], says: str
) -> None:
    run = run_id()
    response = httpx.post(server.api + PUSH, content=body(run), headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert says in response.text
    assert stored(server, run) == []


def test_a_body_over_the_limit_is_refused_before_it_is_inflated(server: Running) -> None:
    # Snappy's header declares 1 GiB; the body is a few bytes.
    declared = bytes([0x80, 0x80, 0x80, 0x80, 0x04])
    response = httpx.post(server.api + PUSH, content=declared + b"\x00" * 8, headers=PROTOBUF)
    assert response.status_code == 413
    assert "over the limit of 64 MiB" in response.text
