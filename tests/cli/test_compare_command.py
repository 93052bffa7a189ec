"""``otelite compare`` against the real query API over a DuckDB store of drawn traces."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otelite.api import create_app
from otelite.cli import main
from otelite.storage.duckdb import DuckDBStorage
from tests.analysis.drawn import ID_A, ID_B, T0, checkout_batch

from .support import ServerThread

Capture = pytest.CaptureFixture[str]
WINDOW = ["--start", str(T0 // 10**9 - 60), "--end", str(T0 // 10**9 + 7200)]


@pytest.fixture(scope="module")
def url() -> Iterator[list[str]]:
    storage = DuckDBStorage(None)
    storage.write(checkout_batch())
    server = ServerThread(create_app(storage))
    yield ["--url", server.url]
    server.close()
    storage.close()


def run(capsys: Capture, *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_two_traces(url: list[str], capsys: Capture) -> None:
    code, lines, _ = run(capsys, "compare", ID_A, ID_B, *url)
    assert code == 0
    assert lines[0] == f"a {ID_A} · 7 spans · 100ms   b {ID_B} · 8 spans · 200ms"
    assert lines[1] == "1 added · 1 missing · 3 slower · 1 faster · 1 same"
    assert [line.split() for line in lines[2:]] == [
        ["OPERATION", "SERVICE", "A", "B", "CHANGE"],
        ["GET", "/checkout", "frontend", "100ms", "200ms", "slower", "+100ms"],
        ["GetCart", "cart", "20ms", "5ms", "faster", "-15ms"],
        ["PlaceOrder", "checkout", "60ms", "160ms", "slower", "+100ms"],
        ["INSERT", "db", "20ms", "(2", "spans)", "30ms", "(3", "spans)", "same,", "+1", "added"],
        ["Charge", "payments", "25ms", "110ms", "slower", "+85ms"],
        ["POST", "provider", "-", "100ms", "added"],
        ["List", "recommend", "5ms", "-", "missing"],
    ]
    # The tree shows in the indentation of the operation.
    assert lines[8].startswith("      POST")


def test_two_groups(url: list[str], capsys: Capture) -> None:
    code, lines, err = run(
        capsys, "compare", "--selection", "{ status = error }", "--limit", "2", *WINDOW, *url
    )
    assert code == 0
    assert (
        lines[0] == "selection { status = error }: 1 span · baseline (every other span): 14 spans"
    )
    assert [line.split() for line in lines[1:]] == [
        ["ATTRIBUTE", "VALUE", "SELECTION", "BASELINE", "DIFFERENCE"],
        ["name", "POST", "100.0%", "(1)", "0.0%", "(0)", "+100.0%"],
        ["resource.service.name", "provider", "100.0%", "(1)", "0.0%", "(0)", "+100.0%"],
    ]
    assert "raise --limit" in err


def test_after_against_before(url: list[str], capsys: Capture) -> None:
    # Trace b starts an hour after trace a: its 8 spans against a's 7.
    after = ["--selection-start", str(T0 // 10**9 + 1800), "--selection-end", "now"]
    code, lines, _ = run(capsys, "compare", "--selection", "{ }", *after, *WINDOW, *url)
    assert code == 0
    assert lines[0] == "selection { }: 8 spans · baseline (every other span): 7 spans"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([ID_A], "give two trace ids, or a group of spans with --selection"),
        ([ID_A, ID_B, "--baseline", "{ }"], "--baseline, --start, --end and --selection-start"),
        (
            ["--selection", "{ }", "--selection-start", "1"],
            "selectionStart, selectionEnd: give both",
        ),
        ([ID_A, "--selection", "{ }"], "either two trace ids or --selection"),
        (["--selection", "{ status = "], "selection: parse error"),
    ],
)
def test_mistakes_are_explained(
    url: list[str], capsys: Capture, argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "compare", *argv, *url)
    assert code == 1
    assert message in err
