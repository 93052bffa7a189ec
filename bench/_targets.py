"""The issue's targets, each judged for each store against what one run measured."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench._analysis import (
    ANALYSIS_COMPARE,
    ANALYSIS_CRITICAL_PATH,
    ANALYSIS_CRITICAL_PATHS,
    ANALYSIS_SERVICE_GRAPH,
)
from bench._format import GIB, TIMES, count, mib, ms, rate
from bench._forwarding import (
    DRAIN_LIMIT_SECONDS,
    FORWARD_LIMIT,
    ForwardingRun,
    ForwardSeries,
    keeps_up,
)
from bench._pipeline import PIPELINE_LIMIT, PipelineRun, pipeline_ratios, waited_out
from bench._promql import RATIO_LIMIT, worst_range_ratio
from bench._queries import (
    LOGQL_FILTER,
    LOGQL_JSON,
    LOGQL_LEVELS,
    TRACEQL_FILTER,
    TRACEQL_RATE,
    TRACEQL_STRUCTURAL,
)
from bench._results import Results
from bench._server import Store
from bench._stats import paired_ratios, summarize

__all__ = ["RATIO_SENDERS", "Target", "judge", "targets"]

TARGET_SPANS = 10_000_000
TARGET_LOGS = 10_000_000
_LOGQL = (
    ("LogQL line filter p99", LOGQL_FILTER, 0.200),
    ("LogQL count by level p99", LOGQL_LEVELS, 1.0),
    ("LogQL json + duration p99", LOGQL_JSON, 0.500),
)
_ANALYSIS = (
    # (row, query, limit in seconds, percentile): the issue asks p99 of the service
    # graph and a plain latency of the others, read as the median.
    ("service graph p99", ANALYSIS_SERVICE_GRAPH, 1.0, "p99"),
    ("critical path of a trace p50", ANALYSIS_CRITICAL_PATH, 0.050, "p50"),
    ("critical path of 1,000 traces p50", ANALYSIS_CRITICAL_PATHS, 2.0, "p50"),
    ("group comparison p50", ANALYSIS_COMPARE, 2.0, "p50"),
)
RATIO_SENDERS = 4
"""The ingest row chDB is compared with DuckDB on: OTLP/HTTP, this many senders."""


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    goal: str
    measured: str
    passed: bool | None
    """None: not measured in this run."""
    gap: str
    store: Store | None = None
    """The store judged (a comparison is judged for the store it asks something of)."""


def judge(
    value: float, goal: float, *, at_least: bool, unit: Callable[[float], str] = str
) -> tuple[bool, str]:
    """Whether ``value`` meets ``goal`` and by how much (a factor, and the difference in
    ``unit`` when it does not)."""
    if at_least:
        ok = value >= goal
        if ok:
            return True, f"{value / goal:.2f}{TIMES} the target"
        factor = goal / value if value > 0 else float("inf")
        return False, f"{value / goal:.0%} of the target; {factor:.1f}{TIMES} short"
    ok = value <= goal
    if ok:
        return True, f"{value / goal:.0%} of the limit"
    return False, f"{value / goal:.1f}{TIMES} the limit ({unit(value - goal)} over)"


def targets(results: Results) -> list[Target]:
    """Each target for each store, the stores' rows of one target together; the chDB/DuckDB
    ingest comparison after the ingest rows when both stores ran."""
    per_store = [_of_store(results, store) for store in results.storage]
    rows = [row for same_target in zip(*per_store, strict=True) for row in same_target]
    if results.compares:
        rows.insert(len(results.storage), _ingest_ratio(results))
    if "duckdb" in results.storage:
        rows.append(_promql_ratio(results))
    if results.pipeline is not None:
        rows.append(_pipeline_ratio(results.pipeline))
    if results.forwarding is not None:
        rows += _forwarding(results.forwarding)
    return rows


def _not_measured(name: str, store: Store) -> Target:
    return Target(name, "", "not measured", None, "", store)


def _of_store(results: Results, store: Store) -> list[Target]:
    out: list[Target] = []
    http = results.trace_http(store)
    if http:
        best = max(http, key=lambda s: summarize([r.stored_rate for r in s.runs]).median)
        spans_per_s = summarize([r.stored_rate for r in best.runs]).median
        ok, gap = judge(spans_per_s, 100_000, at_least=True)
        where = f"OTLP/HTTP, {best.senders} sender(s)"
        measured = f"{spans_per_s:,.0f} spans/s ({where})"
        out.append(Target("ingest", "≥ 100,000 spans/s", measured, ok, gap, store))
        lag = max(summarize([r.queryable_after for r in s.runs]).median for s in http)
        ok, gap = judge(lag, 2.0, at_least=False, unit=lambda v: f"{v:.2f} s")
        goal = "≤ 2 s after the last response"
        out.append(Target("queryable", goal, f"{lag:.2f} s", ok, gap, store))
        rss = max(s.peak_rss for s in http)
        ok, gap = judge(rss / GIB, 1.0, at_least=False, unit=lambda v: mib(v * GIB))
        out.append(Target("RSS while ingesting", "≤ 1 GiB", mib(rss), ok, gap, store))
    else:
        for name in ("ingest", "queryable", "RSS while ingesting"):
            out.append(_not_measured(name, store))
    filled = results.largest(store)
    if filled is None:
        for name in (
            "trace by id p99",
            "attribute search p99",
            "TraceQL filter p99",
            "TraceQL structural p99",
            "TraceQL rate by service p99",
            *(name for name, _, _ in _LOGQL),
            *(name for name, _, _, _ in _ANALYSIS),
            "disk per span",
        ):
            out.append(_not_measured(name, store))
        return out
    at = f"at {count(filled.spans)} spans"
    provisional = "" if filled.spans >= TARGET_SPANS else f" (target is at 10M; measured {at})"
    by_name = {lat.name: lat for lat in filled.latencies}
    for name, query, limit in (
        ("trace by id p99", "trace by id", 0.010),
        ("attribute search p99", "search: service + attribute + duration, last hour", 0.300),
        ("TraceQL filter p99", TRACEQL_FILTER, 0.300),
        ("TraceQL structural p99", TRACEQL_STRUCTURAL, 1.0),
        ("TraceQL rate by service p99", TRACEQL_RATE, 0.500),
    ):
        latency = by_name.get(query)
        if latency is None:
            out.append(_not_measured(name, store))
            continue
        p99 = summarize(latency.p99s).median
        ok, gap = judge(p99, limit, at_least=False, unit=lambda v: f"{ms(v)} ms")
        goal = f"≤ {limit * 1000:g} ms at 10M spans"
        out.append(Target(name, goal, f"{ms(p99)} ms {at}", ok, gap + provisional, store))
    logs_at = f"at {count(filled.logs)} log lines"
    logs_provisional = "" if filled.logs >= TARGET_LOGS else f" (target is at 10M; {logs_at})"
    for name, query, limit in _LOGQL:
        latency = by_name.get(query)
        if latency is None:
            out.append(_not_measured(name, store))
            continue
        p99 = summarize(latency.p99s).median
        ok, gap = judge(p99, limit, at_least=False, unit=lambda v: f"{ms(v)} ms")
        goal = f"≤ {limit * 1000:g} ms at 10M log lines"
        measured = f"{ms(p99)} ms {logs_at}"
        out.append(Target(name, goal, measured, ok, gap + logs_provisional, store))
    for name, query, limit, which in _ANALYSIS:
        latency = by_name.get(query)
        if latency is None:
            out.append(_not_measured(name, store))
            continue
        value = summarize(latency.p99s if which == "p99" else latency.p50s).median
        ok, gap = judge(value, limit, at_least=False, unit=lambda v: f"{ms(v)} ms")
        goal = f"≤ {limit * 1000:g} ms at 10M spans"
        out.append(Target(name, goal, f"{ms(value)} ms {at}", ok, gap + provisional, store))
    # Settled: without the parts ClickHouse has merged away and deletes minutes later.
    per_span = filled.settled_disk_bytes / max(1, filled.spans)
    ok, gap = judge(per_span, 100, at_least=False, unit=lambda v: f"{v:.0f} B")
    measured = f"{per_span:.0f} B {at}"
    goal = "≤ 100 B at 10M spans, settled"
    out.append(Target("disk per span", goal, measured, ok, gap + provisional, store))
    return out


def _ingest_ratio(results: Results) -> Target:
    """chDB's sustained trace ingest over DuckDB's, run by run, at least 1."""
    name = "ingest vs DuckDB"
    goal = f"chDB/DuckDB ≥ 1.0 (sustained spans/s, OTLP/HTTP, {RATIO_SENDERS} senders)"
    pick = {
        store: next((s for s in results.trace_http(store) if s.senders == RATIO_SENDERS), None)
        for store in ("duckdb", "chdb")
    }
    duckdb, chdb = pick["duckdb"], pick["chdb"]
    if duckdb is None or chdb is None:
        return Target(name, goal, "not measured", None, "", "chdb")
    ratios = paired_ratios([r.stored_rate for r in chdb.runs], [r.stored_rate for r in duckdb.runs])
    if not ratios:
        return Target(name, goal, "not measured", None, "", "chdb")
    value = summarize(ratios).median
    ok, gap = judge(value, 1.0, at_least=True)
    chdb_rate = summarize([r.stored_rate for r in chdb.runs]).median
    duckdb_rate = summarize([r.stored_rate for r in duckdb.runs]).median
    measured = (
        f"{value:.2f}{TIMES}: median of {len(ratios)} run-by-run ratios "
        f"(medians {rate(chdb_rate)} against {rate(duckdb_rate)} spans/s)"
    )
    return Target(name, goal, measured, ok, gap, "chdb")


def _pipeline_ratio(found: PipelineRun) -> Target:
    """Ingest through the pipeline file's processors against plain ingest, run by run."""
    name = "ingest through the pipeline file"
    goal = (
        f"≥ {PIPELINE_LIMIT:.2f}{TIMES} plain sustained spans/s (ten redaction rules and "
        "tail sampling, its decision wait taken out; same run)"
    )
    ratios = pipeline_ratios(found)
    if not ratios:
        return Target(name, goal, "not measured", None, "", "duckdb")
    value = summarize(ratios).median
    ok, gap = judge(value, PIPELINE_LIMIT, at_least=True)
    processed = summarize([waited_out(r) for r in found.processed.runs]).median
    plain = summarize([r.stored_rate for r in found.plain.runs]).median
    measured = (
        f"{value:.2f}{TIMES}: median of {len(ratios)} run-by-run ratios "
        f"(medians {rate(processed)} against {rate(plain)} spans/s)"
    )
    return Target(name, goal, measured, ok, gap, "duckdb")


def _forwarding(found: ForwardingRun) -> list[Target]:
    """Forwarding keeps up with ingest, per protocol forwarded over."""
    return [_keeps_up(series) for series in found.series]


def _keeps_up(series: ForwardSeries) -> Target:
    name = f"forwarding keeps up ({series.protocol})"
    goal = (
        f"delivered ≥ {FORWARD_LIMIT:.2f}{TIMES} acknowledged spans/s (same run), every span "
        f"arrived, queue empty ≤ {DRAIN_LIMIT_SECONDS:g} s after the last acknowledgement"
    )
    if not series.runs:
        return Target(name, goal, "not measured", None, "", "duckdb")
    value, every, drained = keeps_up(series)
    ok, gap = judge(value, FORWARD_LIMIT, at_least=True)
    drain_ok = drained is not None and drained <= DRAIN_LIMIT_SECONDS
    misses = [] if every else ["spans missing at the destination"]
    if not drain_ok:
        misses.append(
            "queue not emptied"
            if drained is None
            else f"queue empty after {drained:.1f} s ({drained - DRAIN_LIMIT_SECONDS:.1f} s over)"
        )
    drained_text = "never empty" if drained is None else f"empty after {drained:.1f} s"
    measured = (
        f"{value:.2f}{TIMES}: median of {len(series.runs)} run-by-run ratios; queue "
        f"{drained_text} (median)"
    )
    return Target(name, goal, measured, ok and not misses, "; ".join([gap, *misses]), "duckdb")


def _promql_ratio(results: Results) -> Target:
    """otelite on DuckDB against Prometheus on range queries: the worst query and size."""
    name = "PromQL range vs Prometheus"
    goal = f"≤ {RATIO_LIMIT:g}{TIMES} Prometheus's latency (DuckDB, 1k and 10k series)"
    worst = worst_range_ratio(results.promql, "duckdb")
    if worst is None:
        return Target(name, goal, "not measured", None, "", "duckdb")
    value, where = worst
    ok, gap = judge(value, RATIO_LIMIT, at_least=False, unit=lambda v: f"{v:.2f}{TIMES}")
    measured = f"{value:.2f}{TIMES} at worst ({where}; median of run-by-run ratios)"
    return Target(name, goal, measured, ok, gap, "duckdb")
