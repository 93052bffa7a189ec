from __future__ import annotations

from bench._ingest import IngestRun, IngestSeries
from bench._machine import Machine
from bench._phoenix import PhoenixRun
from bench._profile import Profile
from bench._queries import Latency, StoreRun
from bench._report import Results, judge, render, targets
from bench._send import SendResult
from otelite.types import Signal

MIB = 1024**2


def sent(items: int, seconds: float, retries: int = 0) -> SendResult:
    return SendResult(items, items // 500, retries, 0, 100.0, 100.0 + seconds, "")


def series(signal: Signal, transport: str, senders: int, rates: list[float]) -> IngestSeries:
    runs = [IngestRun(sent(100_000, 100_000 / rate - 0.5), 0.5) for rate in rates]
    return IngestSeries(signal, transport, senders, 100_000, runs, 700 * MIB, 400 * MIB)  # type: ignore[arg-type]


def results() -> Results:
    store = StoreRun(
        spans=1_000_000,
        logs=200_000,
        fill=sent(1_000_000, 40.0),
        fill_queryable_after=1.5,
        disk_bytes=120_000_000,
        restart_seconds=0.8,
        peak_rss=900 * MIB,
        rest_rss=300 * MIB,
        latencies=[
            Latency(
                "trace by id", "/api/traces/ab", [0.004, 0.005, 0.006], [0.008, 0.02, 0.009], 50, 3
            ),
            Latency(
                "search: service + attribute + duration, last hour",
                "/api/search/traces?service=a",
                [0.1, 0.1, 0.1],
                [0.2, 0.25, 0.3],
                50,
                20,
            ),
        ],
    )
    return Results(
        machine=Machine("Test CPU", 2, 8 * 1024**3, "6.1", (0.5, 0.25, 0.1)),
        versions={"python": "3.11.7", "duckdb": "2.0.0"},
        commands=["python -m bench"],
        settings={"runs per figure": "3"},
        started_utc="2026-01-01 00:00 UTC",
        elapsed_seconds=600,
        load_at_end=(1.5, 1.0, 0.5),
        ceiling=[("http", 4, [500_000.0, 600_000.0, 700_000.0])],
        ingest=[
            series(Signal.TRACES, "http", 1, [40_000, 50_000, 45_000]),
            series(Signal.TRACES, "http", 4, [60_000, 80_000, 70_000]),
            series(Signal.LOGS, "http", 1, [90_000, 95_000, 100_000]),
        ],
        stores=[store],
        phoenix=PhoenixRun("20.26.1", sent(20_000, 100.0, retries=7), 100.0, 700 * MIB, ""),
        phoenix_otelite=series(Signal.TRACES, "http", 1, [40_000, 50_000, 45_000]),
        profile=Profile(
            100, [("insert (duckdb:1)", 0.6)], [("write (otelite/x.py:1)", 0.8)], "py-spy record"
        ),
    )


def test_judge_states_pass_or_miss_and_by_how_much() -> None:
    assert judge(150_000, 100_000, at_least=True) == (True, "1.50\u00d7 the target")
    assert judge(25_000, 100_000, at_least=True) == (False, "25% of the target; 4.0\u00d7 short")
    assert judge(0.005, 0.010, at_least=False) == (True, "50% of the limit")
    ok, gap = judge(3.0, 2.0, at_least=False, unit=lambda v: f"{v:.2f} s")
    assert (ok, gap) == (False, "1.5\u00d7 the limit (1.00 s over)")


def test_targets_use_the_best_http_row_and_the_largest_store() -> None:
    found = {t.name: t for t in targets(results())}
    ingest = found["ingest"]
    assert ingest.passed is False
    assert ingest.measured == "70,000 spans/s (OTLP/HTTP, 4 sender(s))"
    assert found["queryable"].passed is True
    assert found["RSS while ingesting"].passed is True
    assert found["trace by id p99"].measured == "9.0 ms at 1M spans"
    assert found["trace by id p99"].passed is True
    assert "target is at 10M" in found["trace by id p99"].gap
    assert found["attribute search p99"].passed is True
    disk = found["disk per span"]
    assert (disk.measured, disk.passed) == ("120 B at 1M spans", False)


def test_targets_without_measurements_say_so() -> None:
    empty = results()
    empty.ingest, empty.stores = [], []
    assert {t.measured for t in targets(empty)} == {"not measured"}
    assert all(t.passed is None for t in targets(empty))


def test_report_has_every_section_and_figure() -> None:
    text = render(results())
    for heading in (
        "# Benchmarks",
        "## Machine and versions",
        "## Commands",
        "## Targets",
        "## Ingest",
        "## Queries and footprint",
        "## Side by side: Arize Phoenix",
        "## Profile of the server during ingest",
    ):
        assert heading in text
    assert "- CPU: Test CPU, 2 cores; RAM 8.0 GiB" in text
    assert "- load average at the end: 1.50, 1.00, 0.50" in text
    assert "python -m bench" in text
    # median with min-max
    assert "70,000 (60,000\u201380,000) spans/s" in text
    assert "95,000 (90,000\u2013100,000) log records/s" in text
    assert "| trace by id | `/api/traces/ab` | 5.0 (4.0\u20136.0) | 9.0 (8.0\u201320.0) |" in text
    assert "120 B per span" in text
    assert "| **miss** |" in text
    assert "otelite stores **225\u00d7** as many spans per second." in text
    assert "| 60.0% | `insert (duckdb:1)` |" in text
    assert text.endswith("\n")


def test_report_shows_why_phoenix_has_no_number() -> None:
    failed = results()
    failed.phoenix = PhoenixRun("", None, 0.0, 0, "could not install Phoenix: no network")
    assert "could not install Phoenix: no network" in render(failed)
    skipped = results()
    skipped.phoenix_skipped = "Skipped in this run."
    assert "Skipped in this run." in render(skipped)
