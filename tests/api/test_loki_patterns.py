"""``patterns`` on a real server over each backend, as Logs Drilldown calls it (ns
``start``/``end``, ``step``, a stream selector): lines written from known templates come
back as those templates, per level, with their lines counted per step here as written."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otelite.api import _loki_detected, create_app
from otelite.storage import WriteBatch
from tests.backends import BACKENDS, store

from .served import Served

START = 1_760_000_000 * 10**9
STEP_S = 60
# (template, severity text, what fills the template's slot for line n)
TEMPLATES = [
    ("GET <_> took <_>", "INFO", lambda n: f"GET /items/{n % 97} took {n % 13 + 1}ms"),
    ("cache miss for <_>", "WARN", lambda n: f"cache miss for sku-{n % 31}"),
    ("payment declined for card <_>", "ERROR", lambda n: f"payment declined for card {n}"),
]
LINES = 240


def _line(n: int) -> tuple[int, str, str, str]:
    """Line ``n``: its time (every 5 s, templates taking turns), text, template, level."""
    template, severity, make = TEMPLATES[n % 3 if n % 4 else 0]
    return START + n * 5 * 10**9, make(n), template, severity.lower()


def _request() -> ExportLogsServiceRequest:
    records = []
    for n in range(LINES):
        at, text, _, level = _line(n)
        records.append(
            LogRecord(
                time_unix_nano=at, severity_text=level.upper(), body=AnyValue(string_value=text)
            )
        )
    service = KeyValue(key="service.name", value=AnyValue(string_value="shop"))
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=Resource(attributes=[service]),
                scope_logs=[ScopeLogs(log_records=records)],
            )
        ]
    )


WINDOW = {"start": str(START), "end": str(START + LINES * 5 * 10**9), "step": f"{STEP_S}s"}


@pytest.fixture(scope="module", params=BACKENDS)
def loki(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    with store(request.param) as opened:
        opened.write(WriteBatch(logs=[_request()]))
        server = Served(create_app(opened))
        try:
            with httpx.Client(base_url=f"{server.url}/loki/api/v1", timeout=30) as http:
                yield http
        finally:
            server.close()


def test_patterns_are_the_templates_with_their_lines_per_step(loki: httpx.Client) -> None:
    response = loki.get("/patterns", params={"query": '{service_name="shop"}', **WINDOW})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    assert "warnings" not in body
    expected: Counter[tuple[str, str, int]] = Counter()
    for n in range(LINES):
        at, _, template, level = _line(n)
        expected[(template, level, at // 10**9 // STEP_S * STEP_S)] += 1
    got = Counter(
        {
            (series["pattern"], series["level"], at): count
            for series in body["data"]
            for at, count in series["samples"]
        }
    )
    assert got == expected
    totals = [sum(count for _, count in series["samples"]) for series in body["data"]]
    assert totals == sorted(totals, reverse=True)


def test_patterns_follow_the_query_filters(loki: httpx.Client) -> None:
    query = '{service_name="shop"} |= "declined"'
    body = loki.get("/patterns", params={"query": query, **WINDOW}).json()
    assert [(s["pattern"], s["level"]) for s in body["data"]] == [
        ("payment declined for card <_>", "error")
    ]


def test_a_cut_read_says_so(loki: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_loki_detected, "PATTERN_LINES", 40)
    body = loki.get("/patterns", params={"query": '{service_name="shop"}', **WINDOW}).json()
    assert sum(count for s in body["data"] for _, count in s["samples"]) == 40
    since = (START + (LINES - 40) * 5 * 10**9) // 10**9
    assert body["warnings"] == [f"patterns were mined from the newest 40 lines only, since {since}"]


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"query": '{service_name="shop"'}, "parse error"),
        ({"query": 'rate({service_name="shop"}[1m])'}, "only log queries"),
        ({"query": '{service_name="shop"}', "step": "0"}, "zero or negative"),
    ],
)
def test_bad_pattern_queries_are_400_in_plain_text(
    loki: httpx.Client, params: dict[str, str], text: str
) -> None:
    response = loki.get("/patterns", params={**WINDOW, **params})
    assert response.status_code == 400
    assert text in response.text
