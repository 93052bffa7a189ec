"""``otelite critical-path`` against the real query API over the sample trace.

The sample trace: ``GET /checkout`` (0-120 ms) calls ``charge`` (10-90 ms) and then
``render`` (95-110 ms). Its critical path: the root 0-10, charge 10-90, the root 90-95,
render 95-110, the root 110-120: charge 80 ms, the root 25 ms, render 15 ms.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from otelite.api import create_app
from otelite.cli import main
from otelite.storage import WriteBatch
from otelite.storage.duckdb import DuckDBStorage

from .support import TRACE_ID, ServerThread, sample_traces

Capture = pytest.CaptureFixture[str]
WINDOW = ["--start", "2023-11-14T00:00:00Z", "--end", "2023-11-15T00:00:00Z"]


@pytest.fixture(scope="module")
def url() -> Iterator[list[str]]:
    storage = DuckDBStorage(None)
    storage.write(WriteBatch(traces=[sample_traces()]))
    server = ServerThread(create_app(storage))
    yield ["--url", server.url]
    server.close()
    storage.close()


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_one_trace(url: list[str], capsys: Capture) -> None:
    code, out, err = run(capsys, "critical-path", TRACE_ID, *url)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"trace {TRACE_ID} · critical path 120ms · 3 of 3 spans on it"
    assert [line.split() for line in lines[1:]] == [
        ["SPAN", "SERVICE", "ON", "PATH", "SHARE"],
        ["charge", "payments", "80ms", "66.7%"],
        ["GET", "/checkout", "frontend", "25ms", "20.8%"],
        ["render", "frontend", "15ms", "12.5%"],
    ]


def test_one_trace_as_json(url: list[str], capsys: Capture) -> None:
    code, out, _ = run(capsys, "critical-path", TRACE_ID, "--json", *url)
    assert code == 0
    assert orjson.loads(out)["durationNs"] == 120_000_000


def test_totals_of_a_query(url: list[str], capsys: Capture) -> None:
    code, out, err = run(
        capsys, "critical-path", "--query", '{ name = "charge" }', "--top", "2", *WINDOW, *url
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == 'selection: { name = "charge" }: 1 traces, mean critical path 120ms'
    assert lines[1] == "baseline: {} (the other traces): 0 traces, mean critical path -"
    assert [line.split() for line in lines[2:]] == [
        ["SERVICE", "OPERATION", "ON", "PATH", "SHARE", "BASELINE", "CHANGE"],
        ["payments", "charge", "80ms", "66.7%", "0.0%", "+66.7pp"],
        ["frontend", "GET", "/checkout", "25ms", "20.8%", "0.0%", "+20.8pp"],
    ]
    assert err == "1 more operations (--top)\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give either a TRACE_ID or --query"),
        ([TRACE_ID, "--query", "{ }"], "give either a TRACE_ID or --query"),
        (["--query", "{ x"], "q: invalid TraceQL query"),
        (["ab" * 16], "not found"),
    ],
)
def test_errors(url: list[str], capsys: Capture, argv: list[str], message: str) -> None:
    code, _, err = run(capsys, "critical-path", *argv, *url)
    assert code == 1
    assert message in err
