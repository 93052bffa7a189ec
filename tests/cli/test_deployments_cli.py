"""``otelite deployments`` against the real query API over a DuckDB store."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from otelite.api import create_app
from otelite.cli import main
from otelite.storage import WriteBatch
from otelite.storage.duckdb import DuckDBStorage
from tests.analysis.deploy_samples import END, MINUTE, SECOND, T0, expected_red, export_request

from .support import ServerThread

Capture = pytest.CaptureFixture[str]
RANGE = ["--start", str(T0 // SECOND), "--end", str(END // SECOND)]


@pytest.fixture(scope="module")
def url() -> Iterator[list[str]]:
    storage = DuckDBStorage(None)
    storage.write(WriteBatch(traces=[export_request()]))
    server = ServerThread(create_app(storage))
    yield ["--url", server.url]
    server.close()
    storage.close()


def _run(capsys: Capture, *argv: str) -> tuple[list[str], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out.splitlines(), captured.err


def test_one_row_per_deploy_with_red_before_and_after(url: list[str], capsys: Capture) -> None:
    lines, _ = _run(capsys, "deployments", "--service", "clean", *RANGE, *url)
    assert lines[0].split() == [
        "TIME", "SERVICE", "VERSION", "PREVIOUS", "REQ/S", "ERRORS", "P50", "P95",
    ]  # fmt: skip
    [row] = lines[1:]
    cells = row.split()
    assert cells[1:4] == ["clean", "2.0", "1.0"]
    t = T0 + 30 * MINUTE
    before = expected_red("clean", t - 15 * MINUTE, t)
    after = expected_red("clean", t, t + 15 * MINUTE)
    errors = (
        f"{100 * before.errors / before.requests:.3g}% → {100 * after.errors / after.requests:.3g}%"
    )
    assert errors in row
    assert f"{before.requests / before.seconds:.3g} → {after.requests / after.seconds:.3g}" in row


def test_a_rollback_is_marked(url: list[str], capsys: Capture) -> None:
    lines, _ = _run(capsys, "deployments", "--service", "rollback", *RANGE, *url)
    assert [line.split()[2:4] for line in lines[1:]] == [["b", "a"], ["a", "(rollback)"]]


def test_json_is_the_servers_answer(url: list[str], capsys: Capture) -> None:
    lines, _ = _run(capsys, "deployments", "--json", "--settle", "25m", *RANGE, *url)
    answer = orjson.loads("\n".join(lines))
    assert answer["settleMs"] == 25 * 60_000
    assert [d["service"] for d in answer["deployments"]] == [
        "rollback",
        "clean",
        "rolling",
        "paused",
    ]


def test_no_deployments_says_so(url: list[str], capsys: Capture) -> None:
    lines, err = _run(capsys, "deployments", "--service", "steady", *RANGE, *url)
    assert lines == []
    assert "no deployments" in err


def test_a_bad_parameter_is_the_servers_error(url: list[str], capsys: Capture) -> None:
    assert main(["deployments", "--window", "3h", *RANGE, *url]) == 1
    assert "window: at most 1h" in capsys.readouterr().err
