"""The listing commands and ``trace`` against a real HTTP server speaking the query API."""

from __future__ import annotations

from urllib.parse import unquote

import orjson
import pytest

from otelite.cli import main

from . import fake_api
from .support import T0, TRACE_ID, closed_port_url

Capture = pytest.CaptureFixture[str]


def run(capsys: Capture, *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_services_table(api_url: str, capsys: Capture) -> None:
    code, lines, _ = run(capsys, "services", "--url", api_url)
    assert code == 0
    assert lines == [
        "SERVICE   SPANS  ERRORS",
        "frontend      2       0",
        "payments      1       1",
    ]


def test_json_is_the_servers_answer(api_url: str, capsys: Capture) -> None:
    code, lines, _ = run(capsys, "services", "--url", api_url, "--json")
    assert code == 0
    assert orjson.loads("\n".join(lines))["services"][1]["name"] == "payments"


def test_url_from_the_environment(
    api_url: str, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTELITE_URL", api_url + "/")
    code, lines, _ = run(capsys, "metrics")
    assert code == 0
    assert lines[1].split() == ["http.requests", "sum", "1", "1", "requests", "served"]


def test_operations(api_url: str, capsys: Capture) -> None:
    code, lines, _ = run(capsys, "operations", "front end?#", "--url", api_url)
    assert code == 0
    # The service name is one path segment, whatever it contains.
    assert unquote(fake_api.SEEN[-1][0]) == "/api/services/front end?#/operations"
    assert lines == [
        "OPERATION      KIND      SPANS  ERRORS     P50    P95    P99",
        "GET /checkout  server     1200       3  12.5ms  250ms  1.83s",
        "render         internal      7       0   250µs      -      -",
    ]


def test_api_error_is_one_line(api_url: str, capsys: Capture) -> None:
    code, lines, err = run(capsys, "operations", "nobody", "--url", api_url)
    assert code == 1
    assert lines == []
    assert err.startswith("otelite: error: unknown service 'nobody' (HTTP 404 from ")
    assert err.count("\n") == 1


@pytest.mark.parametrize("command", [["services"], ["trace", TRACE_ID], ["logs"], ["metrics"]])
def test_server_not_running(capsys: Capture, command: list[str]) -> None:
    url = closed_port_url()
    code, lines, err = run(capsys, *command, "--url", url)
    assert code == 1
    assert lines == []
    assert err == f"otelite: error: cannot reach otelite at {url}: is `otelite serve` running?\n"


def test_traces_passes_every_filter(api_url: str, capsys: Capture) -> None:
    code, lines, _ = run(
        capsys,
        "traces",
        "--url",
        api_url,
        "--service",
        "frontend",
        "--name",
        "GET /checkout",
        "--attr",
        "a=1",
        "--attr",
        "b=2",
        "--min-duration",
        "10ms",
        "--max-duration",
        "1s",
        "--status",
        "error",
        "--start",
        "1700000000",
        "--end",
        "1700000060",
        "--limit",
        "3",
    )
    assert code == 0
    path, params = fake_api.SEEN[-1]
    assert path == "/api/search/traces"
    assert params == [
        ("service", "frontend"),
        ("name", "GET /checkout"),
        ("attr", "a=1"),
        ("attr", "b=2"),
        ("minDuration", "10ms"),
        ("maxDuration", "1s"),
        ("status", "error"),
        ("start", str(T0)),
        ("end", str(T0 + 60 * 10**9)),
        ("limit", "3"),
    ]
    assert lines[0].split() == [
        "TRACE", "ID", "START", "DURATION", "SPANS", "ERRORS", "ROOT", "SERVICE", "ROOT", "SPAN"
    ]  # fmt: skip
    row = lines[1].split()
    assert row[0] == TRACE_ID
    assert row[2:] == ["120ms", "3", "1", "frontend", "GET", "/checkout"]


def test_unset_filters_are_not_sent(api_url: str, capsys: Capture) -> None:
    assert run(capsys, "traces", "--url", api_url)[0] == 0
    assert fake_api.SEEN[-1] == ("/api/search/traces", [])


def test_trace_tree(api_url: str, capsys: Capture) -> None:
    code, lines, _ = run(capsys, "trace", TRACE_ID.upper(), "--url", api_url)
    assert code == 0
    assert lines == [
        f"trace {TRACE_ID} · 3 spans · 2 services · 120ms · 1 error",
        "SPAN           SERVICE   START  DURATION  STATUS",
        "GET /checkout  frontend     +0     120ms  unset",
        "├─ charge      payments  +10ms      80ms  error: card declined",
        "└─ render      frontend  +95ms      15ms  ok",
    ]


def test_unknown_trace(api_url: str, capsys: Capture) -> None:
    code, _, err = run(capsys, "trace", "1" * 32, "--url", api_url)
    assert code == 1
    assert "otelite: error: trace not found (HTTP 404" in err


def test_logs(api_url: str, capsys: Capture) -> None:
    code, lines, _ = run(
        capsys, "logs", "--url", api_url, "--trace-id", TRACE_ID, "--severity", "error"
    )
    assert code == 0
    assert fake_api.SEEN[-1] == (
        "/api/search/logs",
        [("severity", "error"), ("traceId", TRACE_ID)],
    )
    header, first, second = lines
    assert header.split() == ["TIME", "SEVERITY", "SERVICE", "TRACE", "ID", "BODY"]
    assert "ERROR" in first and TRACE_ID in first
    # A multi-line body stays on its row; attributes follow the body.
    assert first.endswith("card declined⏎retrying  card.kind=visa")
    assert second.split()[1:] == ["INFO", "payments", "-", "{n=42}"]


def test_series(api_url: str, capsys: Capture) -> None:
    code, lines, _ = run(capsys, "series", "http.requests", "--url", api_url, "--attr", "route=/")
    assert code == 0
    assert fake_api.SEEN[-1] == ("/api/metrics/http.requests/series", [("attr", "route=/")])
    assert lines[0] == "http.requests {service.name=frontend route=/checkout}"
    assert lines[1].split() == ["TIME", "VALUE"]
    assert [line.split()[1] for line in lines[2:4]] == ["3", "5"]
    # A distribution shows its summary; the buckets are in --json.
    assert lines[5] == "http.requests (histogram) {}"
    assert lines[7].split()[1:] == ["count=4", "sum=10.5", "max=7.0"]


def test_empty_answer(api_url: str, capsys: Capture) -> None:
    code, lines, err = run(capsys, "series", "nothing", "--url", api_url)
    assert (code, lines) == (0, [])
    assert err == "no series for metric 'nothing'\n"
