"""What otelite detects, on a real server over each backend, called as Grafana calls it
(``detected_labels`` probed with ns times and no query; ``detected_fields`` and field
values with a query and ``limit``), with the answers worked out by hand from
``tests.logql.loki_records`` and ``loki_late_records``; ``/ready``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from otelite.api import create_app
from otelite.storage import WriteBatch
from tests.backends import BACKENDS, store
from tests.logql import loki_records
from tests.logql.loki_records import END, START

from . import loki_late_records
from .loki_late_records import LATE
from .served import Served

WINDOW = {"start": str(START), "end": str(END)}


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    with store(request.param) as opened:
        opened.write(WriteBatch(logs=[loki_records.request(), loki_late_records.request()]))
        server = Served(create_app(opened))
        try:
            yield server.url
        finally:
            server.close()


@pytest.fixture(scope="module")
def loki(served: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{served}/loki/api/v1", timeout=30) as http:
        yield http


def _json(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def test_detected_labels_as_grafana_probes_them(loki: httpx.Client) -> None:
    # Grafana's probe: ns times, no query. Loki's body is an object, not an array, so
    # Grafana's Loki data source goes on with `labels`; Logs Drilldown reads the object.
    found = _json(loki.get("/detected_labels", params=WINDOW))
    assert found == {
        "detectedLabels": [
            {"label": "app", "cardinality": 1},
            {"label": "deployment_environment_name", "cardinality": 1},
            {"label": "env", "cardinality": 1},
            {"label": "k8s_container_name", "cardinality": 1},
            {"label": "k8s_pod_name", "cardinality": 1},
            {"label": "service_name", "cardinality": 4},
        ]
    }
    narrowed = loki.get("/detected_labels", params={**WINDOW, "query": '{env="prod"}'})
    assert _json(narrowed) == {
        "detectedLabels": [
            {"label": "app", "cardinality": 1},
            {"label": "env", "cardinality": 1},
            {"label": "service_name", "cardinality": 1},
        ]
    }
    nothing = {"start": str(END), "end": str(END + 10**9)}
    assert _json(loki.get("/detected_labels", params=nothing)) == {}


def test_detected_labels_leave_out_ids(loki: httpx.Client) -> None:
    # `build` (numbers) and `request_id` (a UUID) are ids; `flag` (0 and 1) is not;
    # `cluster` is always kept.
    assert _json(loki.get("/detected_labels", params=LATE)) == {
        "detectedLabels": [
            {"label": "app", "cardinality": 1},
            {"label": "cluster", "cardinality": 1},
            {"label": "flag", "cardinality": 2},
            {"label": "service_name", "cardinality": 2},
            {"label": "team", "cardinality": 1},
        ]
    }


def _fields(loki: httpx.Client, query: str, **params: str) -> Any:
    sent = {"query": query, **WINDOW, "limit": "1000", **params}
    return _json(loki.get("/detected_fields", params=sent))


def _json_field(label: str, kind: str, path: list[str]) -> dict[str, Any]:
    return {"label": label, "type": kind, "cardinality": 1, "parsers": ["json"], "jsonPath": path}


def test_detected_fields_as_grafana_asks(loki: httpx.Client) -> None:
    # payments: records 7, 8 and 11 hold JSON lines; 7 has a severity text.
    assert _fields(loki, '{service_name="payments"}') == {
        "fields": [
            _json_field("_entry", "string", ["_entry"]),
            _json_field("amount", "float", ["amount"]),
            _json_field("count", "int", ["count"]),
            {"label": "detected_level", "type": "string", "cardinality": 2, "parsers": None},
            _json_field("level", "string", ["level"]),
            _json_field("msg", "string", ["msg"]),
            _json_field("ok", "boolean", ["ok"]),
            _json_field("pod", "string", ["pod"]),
            # The stream has a service_name label already.
            _json_field("service_name_extracted", "string", ["service_name"]),
            {"label": "severity_text", "type": "string", "cardinality": 1, "parsers": None},
            _json_field("user", "string", ["user"]),
        ],
        "limit": 1000,
    }


def test_detected_fields_of_logfmt_and_nested_json(loki: httpx.Client) -> None:
    # checkout, lines with "level" in them: records 1 and 2 (logfmt) and 3 (JSON).
    found = _fields(loki, '{service_name="checkout"} |= "level"')["fields"]
    by_name = {f["label"]: f for f in found}
    assert by_name["duration"] == {
        "label": "duration",
        "type": "duration",
        "cardinality": 2,
        "parsers": ["logfmt"],
    }
    assert by_name["status"]["type"] == "int" and by_name["status"]["cardinality"] == 2
    assert by_name["http_status"] == _json_field("http_status", "int", ["http", "status"])
    assert by_name["size"] == _json_field("size", "bytes", ["size"])
    # Seen in JSON (record 3, read first: newest first) and in logfmt.
    assert by_name["level"]["parsers"] == ["json", "logfmt"]
    assert by_name["level"]["cardinality"] == 3
    assert by_name["attempt"]["parsers"] is None  # structured metadata
    assert "tags" not in by_name  # arrays are skipped


def test_detected_fields_limits(loki: httpx.Client) -> None:
    # The first 3 fields found, entries newest first (record 11: its metadata, its line).
    three = _fields(loki, '{service_name="payments"}', limit="3")
    assert [f["label"] for f in three["fields"]] == ["_entry", "detected_level", "pod"]
    assert three["limit"] == 3
    # One line sampled: record 6's, which parses to nothing.
    newest = _fields(loki, '{service_name="checkout"}', line_limit="1")
    assert [f["label"] for f in newest["fields"]] == [
        "detected_level",
        "host_name",
        "scope_name",
        "scope_version",
    ]
    assert _fields(loki, '{service_name="none"}') == {}


def test_detected_field_values_as_grafana_asks(loki: httpx.Client) -> None:
    def values(name: str, query: str) -> Any:
        params = {"query": query, **WINDOW, "limit": "1000"}
        return _json(loki.get(f"/detected_field/{name}/values", params=params))

    assert values("level", '{service_name="checkout"}') == {
        "values": ["error", "info", "warn"],
        "limit": 1000,
    }
    # A byte size comes back as go-humanize writes it, ready for a query.
    assert values("size", '{service_name="checkout"}') == {"values": ["2.0kB"], "limit": 1000}
    assert values("detected_level", '{service_name="checkout"} |= "level"') == {
        "values": ["error", "info", "warn"],
        "limit": 1000,
    }
    assert values("nothing", '{service_name="checkout"}') == {}


@pytest.mark.parametrize(
    ("path", "params", "text"),
    [
        ("/detected_fields", {}, "parse error"),
        ("/detected_fields", {"query": 'rate({app="shop"}[1m])'}, "only log queries"),
        ("/detected_fields", {"query": '{app="shop"}', "line_limit": "5001"}, "(5001 > 5000)"),
        ("/detected_fields", {"query": '{app="shop"}', "limit": "0"}, "limit must be a positive"),
        ("/detected_labels", {"query": '{app="shop"} |= "x"'}, "only label matchers"),
        ("/patterns", {"query": '{app="shop"'}, "parse error"),
    ],
)
def test_errors_in_plain_text(
    loki: httpx.Client, path: str, params: dict[str, str], text: str
) -> None:
    response = loki.get(path, params={**WINDOW, **params})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert text in response.text


def test_ready(served: str) -> None:
    response = httpx.get(f"{served}/ready")
    assert response.status_code == 200
    assert response.text == "ready"
