"""Every client command against the real query API over a DuckDB store holding sample data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from otelite.api import create_app
from otelite.cli import main
from otelite.pipeline import InMemoryConsumer
from otelite.storage import WriteBatch
from otelite.storage.duckdb import DuckDBStorage
from otelite.types import ExportRequest, Signal
from tests.roundtrip import assert_same_telemetry

from .support import T0, TRACE_ID, ServerThread, sample_logs, sample_metrics, sample_traces

Capture = pytest.CaptureFixture[str]
# The sample data is from 2023-11-14; listings default to the last hour.
WINDOW = ["--start", "2023-11-14T00:00:00Z", "--end", "2023-11-15T00:00:00Z"]
TRACES, METRICS, LOGS = sample_traces(), sample_metrics(), sample_logs()
SENT: dict[Signal, ExportRequest] = {
    Signal.TRACES: TRACES,
    Signal.METRICS: METRICS,
    Signal.LOGS: LOGS,
}


@pytest.fixture(scope="module")
def url() -> Iterator[list[str]]:
    storage = DuckDBStorage(None)
    storage.write(
        WriteBatch(
            traces=[TRACES],
            metrics=[METRICS],
            logs=[LOGS],
            wal_position=1,
        )
    )
    server = ServerThread(create_app(storage))
    yield ["--url", server.url]
    server.close()
    storage.close()


def out(capsys: Capture, *argv: str) -> list[str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out.splitlines()


def test_services(url: list[str], capsys: Capture) -> None:
    rows = [line.split() for line in out(capsys, "services", *WINDOW, *url)]
    assert rows == [["SERVICE", "SPANS", "ERRORS"], ["frontend", "2", "0"], ["payments", "1", "1"]]


def test_operations(url: list[str], capsys: Capture) -> None:
    lines = out(capsys, "operations", "frontend", *WINDOW, *url)
    assert lines[0].split()[:2] == ["OPERATION", "KIND"]
    assert sorted(line.split()[0] for line in lines[1:]) == ["GET", "render"]


def test_traces(url: list[str], capsys: Capture) -> None:
    lines = out(capsys, "traces", "--status", "error", "--attr", "retry=false", *WINDOW, *url)
    assert len(lines) == 2
    assert lines[1].startswith(TRACE_ID)
    assert lines[1].split()[-3:] == ["frontend", "GET", "/checkout"]


def test_trace(url: list[str], capsys: Capture) -> None:
    lines = out(capsys, "trace", TRACE_ID, *url)
    assert lines[0] == f"trace {TRACE_ID} · 3 spans · 2 services · 120ms · 1 error"
    assert lines[2:] == [
        "GET /checkout  frontend     +0     120ms  unset",
        "├─ charge      payments  +10ms      80ms  error: card declined",
        "└─ render      frontend  +95ms      15ms  ok",
    ]


def test_unknown_trace(url: list[str], capsys: Capture) -> None:
    assert main(["trace", "1" * 32, *url]) == 1
    assert capsys.readouterr().err.startswith(f"otelite: error: trace {'1' * 32} not found")


def test_bad_parameter_is_reported(url: list[str], capsys: Capture) -> None:
    assert main(["logs", "--severity", "loud", *url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("otelite: error: severity: ")
    assert "(HTTP 400 from " in err


def test_logs(url: list[str], capsys: Capture) -> None:
    lines = out(capsys, "logs", "--trace-id", TRACE_ID, *WINDOW, *url)
    assert len(lines) == 2
    assert lines[1].split()[1:4] == ["ERROR", "payments", TRACE_ID]
    assert lines[1].endswith("card declined⏎retrying  card.kind=visa")


def test_metrics_and_series(url: list[str], capsys: Capture) -> None:
    lines = out(capsys, "metrics", *WINDOW, *url)
    assert lines[1].split() == ["http.requests", "sum", "1", "1", "requests", "served"]
    lines = out(capsys, "series", "http.requests", "--attr", "route=/checkout", *WINDOW, *url)
    assert lines[0] == "http.requests (sum) {service.name=frontend route=/checkout}"
    assert [line.split()[1] for line in lines[2:]] == ["3", "5"]
    series = orjson.loads(
        "\n".join(out(capsys, "series", "http.requests", "--json", *WINDOW, *url))
    )
    assert len(series["series"]) == 1


def test_export_import_round_trip(
    url: list[str], otlp_url: str, consumer: InMemoryConsumer, tmp_path: Path
) -> None:
    for signal, sent in SENT.items():
        target = str(tmp_path / f"{signal.value}.jsonl")
        assert main(["export", "--signal", signal.value, "-o", target, *url]) == 0
        assert main(["import", target, "--otlp-url", otlp_url]) == 0
        assert_same_telemetry([sent], consumer.requests(signal))


def test_query_searches_with_traceql(url: list[str], capsys: Capture) -> None:
    lines = out(
        capsys, "query", '{ resource.service.name = "payments" && status = error }', *WINDOW, *url
    )
    assert lines[0].split() == [
        "TRACE",
        "ID",
        "START",
        "DURATION",
        "MATCHED",
        "ROOT",
        "SERVICE",
        "ROOT",
        "SPAN",
    ]
    assert lines[1].startswith(TRACE_ID)
    assert lines[1].split()[-5:] == ["120ms", "1", "frontend", "GET", "/checkout"]


def test_query_runs_traceql_metrics(url: list[str], capsys: Capture) -> None:
    lines = out(
        capsys,
        "query",
        "{ } | count_over_time() by (resource.service.name)",
        "--step",
        "1d",
        *WINDOW,
        *url,
    )
    rows = sorted((line.split()[0], line.split()[-1]) for line in lines[1:])
    assert rows == [
        ("{resource.service.name=frontend}", "2"),
        ("{resource.service.name=payments}", "1"),
    ]


def test_query_shows_where_traceql_does_not_parse(url: list[str], capsys: Capture) -> None:
    assert main(["query", "{ span.a = }", *WINDOW, *url]) == 1
    err = capsys.readouterr().err
    assert "invalid TraceQL query: parse error at line 1, col 12" in err


def test_promql_answers_at_a_time_and_over_a_range(url: list[str], capsys: Capture) -> None:
    # http.requests (a monotonic sum, unit 1) is the counter http_requests_total; its
    # points are 3 and 5, one and two seconds after T0.
    at = ["--end", str((T0 + 2 * 10**9) // 10**9)]
    lines = out(capsys, "promql", "http_requests_total", *at, *url)
    assert lines[0].split() == ["SERIES", "TIME", "VALUE"]
    series = 'http_requests_total{job="frontend", route="/checkout"}'
    assert lines[1].startswith(series) and lines[1].split()[-1] == "5"
    assert out(capsys, "promql", "sum(http_requests_total) * 2", *at, *url)[1].endswith(" 10")
    assert out(capsys, "promql", "1 + 1", *at, *url) == ["2"]
    window = ["--start", str(T0 // 10**9 + 1), *at]
    lines = out(capsys, "promql", "http_requests_total", "--step", "1", *window, *url)
    assert [line.split()[-1] for line in lines[1:]] == ["3", "5"]
    answer = orjson.loads("\n".join(out(capsys, "promql", "1", "--json", *at, *url)))
    assert answer["data"]["resultType"] == "scalar"


def test_logql_prints_lines_with_their_labels(url: list[str], capsys: Capture) -> None:
    query = '{service_name="payments"}'
    lines = out(capsys, "logql", query, *WINDOW, *url)
    assert lines[0].split() == ["TIME", "STREAM", "PARSED", "LINE"]
    stream = '{service_name="payments"}'
    assert [line.split()[1:] for line in lines[1:]] == [
        [stream, "42"],
        [stream, "card", "declined⏎retrying"],
    ]
    forward = out(capsys, "logql", query, "--direction", "forward", "--limit", "1", *WINDOW, *url)
    assert len(forward) == 2 and forward[1].endswith("card declined⏎retrying")
    pipeline = ' |~ "card" | regexp `(?P<what>\\w+) `'
    parsed = out(capsys, "logql", query + pipeline, *WINDOW, *url)
    assert parsed[1].split()[2] == '{what="card"}'
    answer = orjson.loads("\n".join(out(capsys, "logql", query, "--json", *WINDOW, *url)))
    assert answer["data"]["encodingFlags"] == ["categorize-labels"]


def test_logql_prints_metric_series(url: list[str], capsys: Capture) -> None:
    query = 'sum by (detected_level) (count_over_time({service_name="payments"}[1h]))'
    at = ["--end", "2023-11-14T22:30:00Z"]
    lines = out(capsys, "logql", query, "--instant", *at, *url)
    assert lines[0].split() == ["SERIES", "TIME", "VALUE"]
    rows = [line.split() for line in lines[1:]]
    assert [(row[0], row[-1]) for row in rows] == [
        ('{detected_level="error"}', "1"),
        ('{detected_level="info"}', "1"),
    ]
    ranged = out(
        capsys, "logql", query, "--step", "10m", "--start", "2023-11-14T22:00:00Z", *at, *url
    )
    # The records are at 22:13:20: of the steps 22:00 to 22:30, the last two see them.
    error, info = '{detected_level="error"}', '{detected_level="info"}'
    assert [line.split()[0] for line in ranged[1:]] == [error, error, info, info]
    scalar = out(capsys, "logql", "1 + 2", "--instant", *at, *url)
    assert scalar == ["3"]


def test_logql_reports_bad_queries(url: list[str], capsys: Capture) -> None:
    assert main(["logql", '{service_name="payments"', *url]) == 1
    assert "parse error at line 1, col 25" in capsys.readouterr().err
    assert main(["logql", '{service_name="payments"}', "--limit", "5001", *url]) == 1
    assert "max entries limit per query exceeded" in capsys.readouterr().err


def test_promql_reports_bad_queries(url: list[str], capsys: Capture) -> None:
    assert main(["promql", "sum(rate(x[5m]", *url]) == 1
    assert "unclosed left parenthesis" in capsys.readouterr().err
