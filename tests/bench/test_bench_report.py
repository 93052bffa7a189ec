from __future__ import annotations

import dataclasses

import pytest

from bench._ingest import IngestRun, IngestSeries
from bench._machine import Machine
from bench._phoenix import PhoenixRun
from bench._profile import Profile
from bench._promql import QUERIES, PromqlLatency, PromqlRun
from bench._queries import LOGQL_FILTER, Latency, StoreRun
from bench._report import Results, judge, render, targets
from bench._send import SendResult
from otelite.pipeline import parse_pipeline
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
        settled_disk_bytes=120_000_000,
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
            Latency(
                LOGQL_FILTER,
                "/loki/api/v1/query_range?query=x",
                [0.02, 0.03, 0.03],
                [0.05, 0.06, 0.07],
                50,
                100,
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
        profiles=[
            Profile(
                100,
                [("insert (duckdb:1)", 0.6)],
                [("write (otelite/x.py:1)", 0.8)],
                "py-spy record",
            )
        ],
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


def on_chdb(row: IngestSeries, rates: list[float]) -> IngestSeries:
    made = series(row.signal, row.transport, row.senders, rates)
    return dataclasses.replace(made, store="chdb", peak_rss=800 * MIB)


def two_stores(chdb_rates: list[float]) -> Results:
    """``results()`` with chDB beside DuckDB: its 4-sender HTTP row at ``chdb_rates``."""
    both = results()
    both.storage = ["duckdb", "chdb"]
    one, four, logs = both.ingest
    both.ingest = [
        one,
        on_chdb(one, [40_000, 50_000, 45_000]),
        four,
        on_chdb(four, chdb_rates),
        logs,
        on_chdb(logs, [50_000, 60_000, 70_000]),
    ]
    duckdb = both.stores[0]
    slower = [
        dataclasses.replace(lat, p99s=[v * 1.5 for v in lat.p99s], result_rows=lat.result_rows + n)
        for n, lat in enumerate(duckdb.latencies)
    ]
    both.stores.append(
        dataclasses.replace(
            duckdb,
            store="chdb",
            disk_bytes=150_000_000,  # with the parts merges replaced, deleted minutes later
            settled_disk_bytes=60_000_000,
            latencies=slower,
        )
    )
    both.profiles.append(dataclasses.replace(both.profiles[0], store="chdb", all_cores=1.7))
    return both


def test_each_target_is_judged_for_each_store() -> None:
    found = targets(two_stores([66_000, 70_000, 77_000]))
    assert [(t.name, t.store) for t in found[:3]] == [
        ("ingest", "duckdb"),
        ("ingest", "chdb"),
        ("ingest vs DuckDB", "chdb"),
    ]
    by_store = {(t.name, t.store): t for t in found}
    # 16 rows per store (ingest 3, queries 12 with the analysis, disk 1), the ingest
    # comparison and the PromQL ratio.
    assert len(by_store) == len(found) == 34
    assert by_store[("PromQL range vs Prometheus", "duckdb")].measured == "not measured"
    # The stores of this example ran no TraceQL or analysis query.
    assert by_store[("TraceQL structural p99", "chdb")].measured == "not measured"
    assert by_store[("service graph p99", "duckdb")].measured == "not measured"
    trace = by_store[("trace by id p99", "chdb")]
    assert (trace.measured, trace.passed) == ("13.5 ms at 1M spans", False)
    assert by_store[("trace by id p99", "duckdb")].passed is True
    assert by_store[("disk per span", "chdb")].measured == "60 B at 1M spans"
    assert by_store[("disk per span", "chdb")].passed is True
    assert by_store[("disk per span", "duckdb")].passed is False
    # LogQL's limits are at 10M log lines; these stores had 200k.
    lines = by_store[("LogQL line filter p99", "duckdb")]
    assert (lines.measured, lines.passed) == ("60.0 ms at 200k log lines", True)
    assert lines.gap == "30% of the limit (target is at 10M; at 200k log lines)"
    assert by_store[("LogQL line filter p99", "chdb")].measured == "90.0 ms at 200k log lines"
    assert by_store[("LogQL json + duration p99", "chdb")].measured == "not measured"


def test_chdb_ingest_is_compared_run_by_run_with_duckdb() -> None:
    # DuckDB's 4-sender runs: 60k, 80k, 70k spans/s.
    faster = targets(two_stores([66_000, 72_000, 77_000]))[2]
    assert faster.passed is True
    assert faster.measured.startswith("1.10\u00d7: median of 3 run-by-run ratios")
    assert "(medians 72,000 against 70,000 spans/s)" in faster.measured
    slower = targets(two_stores([54_000, 64_000, 70_000]))[2]
    assert (slower.passed, slower.gap) == (False, "90% of the target; 1.1\u00d7 short")


def test_the_comparison_is_not_measured_without_the_four_sender_rows() -> None:
    both = two_stores([66_000, 70_000, 77_000])
    both.ingest = [s for s in both.ingest if s.senders == 1]
    ratio = targets(both)[2]
    assert (ratio.name, ratio.measured, ratio.passed) == (
        "ingest vs DuckDB",
        "not measured",
        None,
    )


def test_one_store_has_no_comparison() -> None:
    chdb_only = two_stores([66_000, 70_000, 77_000])
    chdb_only.storage = ["chdb"]
    found = targets(chdb_only)
    assert {t.store for t in found} == {"chdb"}
    assert "ingest vs DuckDB" not in {t.name for t in found}
    text = render(chdb_only)
    assert "Store: chDB." in text
    assert "chDB/DuckDB" not in text
    assert "| trace by id | `/api/traces/ab` | 5.0 (4.0\u20136.0) | 13.5 (12.0\u201330.0) |" in text


def test_report_shows_the_stores_side_by_side() -> None:
    text = render(two_stores([66_000, 72_000, 77_000]))
    assert "Stores: DuckDB and chDB, measured in this same run." in text
    assert "| target | store | goal | measured | result | by how much |" in text
    assert (
        "| trace by id p99 | chDB | \u2264 10 ms at 10M spans | 13.5 ms at 1M spans | **miss** |"
        in (text)
    )
    assert "Missed in this run: ingest (DuckDB), ingest (chDB), trace by id p99 (chDB)" in text
    # Ingest: a store column, each workload's rows together, then the ratios run by run.
    assert (
        "| traces, OTLP/HTTP protobuf | 4 | DuckDB | 100k spans in 3 runs "
        "| 70,000 (60,000\u201380,000) spans/s |"
    ) in text
    assert (
        "| traces, OTLP/HTTP protobuf | 4 | chDB | 100k spans in 3 runs "
        "| 72,000 (66,000\u201377,000) spans/s |"
    ) in text
    assert (
        text.index("| 4 | DuckDB |")
        < text.index("| 4 | chDB |")
        < text.index("| 1 | DuckDB | 100k log")
    )
    assert "| traces, OTLP/HTTP protobuf | 4 | 1.10\u00d7 (0.90\u00d7\u20131.10\u00d7) |" in text
    # Footprint and queries: a column per store and the chDB/DuckDB ratio.
    assert "|  | DuckDB | chDB | chDB/DuckDB |" in text
    assert (
        "| on disk after a clean shutdown | 114.4 MiB, 120 B per span "
        "| 143.1 MiB, 150 B per span | 1.25\u00d7 |"
    ) in text
    assert (
        "| on disk, settled (no merged-away parts) | 114.4 MiB, 120 B per span "
        "| 57.2 MiB, 60 B per span | 0.50\u00d7 |"
    ) in text
    assert "| query | example | DuckDB p50 ms | DuckDB p99 ms | chDB p50 ms | chDB p99 ms |" in text
    assert (
        "| trace by id | `/api/traces/ab` | 5.0 (4.0\u20136.0) | 9.0 (8.0\u201320.0) "
        "| 5.0 (4.0\u20136.0) | 13.5 (12.0\u201330.0) "
        "| 1.50\u00d7 (1.50\u00d7\u20131.50\u00d7) | 3 \u00d7 50 | 3 |"
    ) in text
    assert "| 20 / 21 (**differ**) |" in text
    # Phoenix stays with the default store; a profile per store that missed a target.
    assert "| otelite, DuckDB (3 runs) |" in text
    assert "### DuckDB\n\nProfiled because DuckDB missed: ingest, disk per span." in text
    assert "### chDB\n\nProfiled because chDB missed: ingest, trace by id p99" in text
    assert "kept 1.70 cores busy on average over the recording" in text


def promql_run(series: int, prometheus: list[float], duckdb: list[float]) -> PromqlRun:
    """Range and instant latencies of every query; the range ones as given."""
    run = PromqlRun(series, series * 480, 5, checked={"duckdb": "same answers"})
    for query in QUERIES:
        run.latencies += [
            PromqlLatency(query, "range", "prometheus", prometheus),
            PromqlLatency(query, "range", "duckdb", duckdb),
            PromqlLatency(query, "instant", "prometheus", [0.01, 0.01, 0.01]),
            PromqlLatency(query, "instant", "duckdb", [0.05, 0.05, 0.05]),
        ]
    return run


def test_promql_is_judged_on_its_worst_range_ratio_run_by_run() -> None:
    results = two_stores([66_000, 70_000, 77_000])
    results.promql = [
        promql_run(1000, [0.04, 0.05, 0.04], [0.06, 0.06, 0.06]),  # 1.5, 1.2, 1.5
        promql_run(10_000, [0.40, 0.50, 0.40], [1.20, 1.10, 0.90]),  # 3.0, 2.2, 2.25
    ]
    (promql,) = [t for t in targets(results) if t.name == "PromQL range vs Prometheus"]
    assert promql.passed is False
    assert promql.measured.startswith("2.25\u00d7 at worst (rate + sum by, 10k series")
    results.promql[1] = promql_run(10_000, [0.40, 0.50, 0.40], [0.96, 0.80, 0.72])
    (promql,) = [t for t in targets(results) if t.name == "PromQL range vs Prometheus"]
    assert (promql.passed, promql.measured[:5]) == (True, "1.80\u00d7")
    text = render(results)
    assert "## PromQL beside Prometheus" in text
    assert "### 10k series (4,800,000 samples)" in text
    # Instant queries: 50 ms against 10 ms, five times as long, though not judged.
    assert "| rate + sum by | instant | 10.0 (10.0\u201310.0) |" in text
    assert "5.00\u00d7 (5.00\u00d7\u20135.00\u00d7)" in text


def paced(seconds: list[float], stored_after: float) -> IngestSeries:
    """Runs of 100,000 spans acknowledged over these seconds, all stored ``stored_after``
    seconds after the last acknowledgement."""
    runs = [IngestRun(sent(100_000, taken), stored_after) for taken in seconds]
    return IngestSeries(Signal.TRACES, "http", 4, 100_000, runs, 700 * MIB, 400 * MIB)


def test_ingest_through_the_pipeline_file_is_judged_run_by_run_without_the_decision_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bench._pipeline import DECISION_WAIT_SECONDS, PIPELINE_FILE, PipelineRun

    monkeypatch.setenv("OTELITE_BENCH_REDACTION_KEY", "k")
    sampling = parse_pipeline(PIPELINE_FILE, "bench.yaml").tail_sampling
    assert sampling is not None and sampling.decision_wait == DECISION_WAIT_SECONDS == 1.0
    found = results()
    plain = paced([1.0, 1.5, 2.0], 0.5)
    # Stored 1.75 s after: the 1 s wait, then 0.25 s behind plain. Run by run, (1.0 +
    # 0.5) / (1.0 + 0.75) = 0.857, 2.0 / 2.25 = 0.889, 2.5 / 2.75 = 0.909: the median
    # 0.89 passes. Counting the wait, 1.5 / 2.75 = 0.55 would not.
    found.pipeline = PipelineRun(plain, paced([1.0, 1.5, 2.0], 1.75), PIPELINE_FILE)
    [target] = [t for t in targets(found) if t.name == "ingest through the pipeline file"]
    assert target.passed is True
    assert target.measured.startswith("0.89\u00d7: median of 3 run-by-run ratios")
    assert "sustained" in target.goal and "decision wait taken out" in target.goal
    # 1.5 s behind plain beyond the wait: 1.5 / 2.5, 2.0 / 3.0, 2.5 / 3.5; median 0.67.
    found.pipeline = dataclasses.replace(found.pipeline, processed=paced([1.0, 1.5, 2.0], 2.5))
    [missed] = [t for t in targets(found) if t.name == "ingest through the pipeline file"]
    assert missed.passed is False and missed.measured.startswith("0.67\u00d7")
    text = render(found)
    assert "## Ingest through the pipeline file" in text
    assert "hash_key_env: OTELITE_BENCH_REDACTION_KEY" in text
    assert "decision_wait: 1s" in text
    # Plain, the median run: 100,000 spans acknowledged in 1.5 s (66,667 spans/s), all
    # stored 0.5 s later (50,000 spans/s sustained), judged as it is.
    assert (
        "| plain | 66,667 (50,000\u2013100,000) | 0.5 (0.5\u20130.5) | "
        "50,000 (40,000\u201366,667) | 50,000 (40,000\u201366,667) |"
    ) in text
