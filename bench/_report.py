"""BENCHMARKS.md from the results of one benchmark run, the stores side by side."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter

from bench._format import DASH, GIB, MIB, TIMES, count, mib, ms, rate, ratio, seconds, summary_text
from bench._forwarding import forwarding_section
from bench._ingest import IngestRun, IngestSeries
from bench._pipeline import pipeline_section
from bench._promql import promql_section
from bench._queries import Latency, StoreRun
from bench._results import Results
from bench._server import STORE_NAMES
from bench._stats import paired_ratios, summarize
from bench._targets import RATIO_SENDERS, Target, judge, targets
from otelite.types import Signal

__all__ = ["Results", "Target", "judge", "render", "targets"]

_TRANSPORT_NAMES = {"http": "OTLP/HTTP protobuf", "grpc": "OTLP/gRPC"}
_UNITS = {Signal.TRACES: "spans", Signal.LOGS: "log records", Signal.METRICS: "points"}
_VS = f"{STORE_NAMES['chdb']}/{STORE_NAMES['duckdb']}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _ratio_of_runs(chdb: Sequence[float], duckdb: Sequence[float]) -> str:
    """chDB over DuckDB run by run: the median ratio and its range."""
    ratios = paired_ratios(chdb, duckdb)
    return summary_text(summarize(ratios), ratio) if ratios else "—"


def _runs_ratio(
    chdb: IngestSeries, duckdb: IngestSeries, value: Callable[[IngestRun], float]
) -> str:
    return _ratio_of_runs([value(r) for r in chdb.runs], [value(r) for r in duckdb.runs])


def _plain_ratio(chdb: float, duckdb: float) -> str:
    """chDB over DuckDB of a figure measured once per store."""
    return ratio(chdb / duckdb) if duckdb > 0 else "—"


def _stores_lines(results: Results) -> list[str]:
    names = " and ".join(STORE_NAMES[s] for s in results.storage)
    if len(results.storage) == 1:
        return [f"Store: {names}."]
    return [
        f"Stores: {names}, measured in this same run. The stores take turns run by run",
        "(run 1 on each, then run 2, ...); the one not being measured is paused (SIGSTOP), so",
        "its background work (merges, checkpoints) is done on its own turn, not on another's.",
        f"A {_VS} ratio is the median of the run-by-run ratios (run *i* of chDB over run *i*",
        "of DuckDB) with their range, or the plain ratio of a figure measured once per store.",
    ]


def render(results: Results) -> str:
    """The whole of BENCHMARKS.md."""
    m = results.machine
    lines = [
        "# Benchmarks",
        "",
        "Written by `python -m bench` (`make bench`, or `make bench-quick` for the short",
        "version); do not edit by hand. Every figure is the median of several runs with the",
        f"min{DASH}max in parentheses. Rates are measured over real sockets from separate",
        "sender processes sending pre-encoded requests. Memory (RSS) is the proportional set",
        "size of the server and every process it started (its flatten worker), sampled every",
        "0.1 s: shared pages are split among the processes sharing them, never counted twice.",
        "",
        *_stores_lines(results),
        "",
        f"Run started {results.started_utc}, took {results.elapsed_seconds / 60:.1f} min.",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {m.cpu}, {m.cores} cores; RAM {m.ram_bytes / GIB:.1f} GiB; Linux {m.kernel}",
        f"- load average at the start: {m.load_average[0]:.2f}, {m.load_average[1]:.2f}, "
        f"{m.load_average[2]:.2f} (other work on the machine skews every figure)",
    ]
    if results.load_at_end is not None:
        a, b, c = results.load_at_end
        lines.append(f"- load average at the end: {a:.2f}, {b:.2f}, {c:.2f}")
    lines += [f"- {name}: {value}" for name, value in results.versions.items()]
    lines += ["", "## Commands", "", "```sh", *results.commands, "```", ""]
    lines += [f"- {name}: {value}" for name, value in results.settings.items()]
    lines += _targets_section(results)
    lines += _ingest_section(results)
    lines += pipeline_section(results.pipeline)
    lines += forwarding_section(results.forwarding)
    lines += _store_section(results)
    lines += promql_section(results.promql, results.storage)
    lines += _phoenix_section(results)
    lines += _profile_section(results)
    return "\n".join(lines).rstrip() + "\n"


def _result(target: Target) -> str:
    return "—" if target.passed is None else ("pass" if target.passed else "**miss**")


def _targets_section(results: Results) -> list[str]:
    found = targets(results)
    lines = ["", "## Targets", ""]
    lines += _table(
        ["target", "store", "goal", "measured", "result", "by how much"],
        [
            [t.name, STORE_NAMES[t.store] if t.store else "", t.goal, t.measured, _result(t), t.gap]
            for t in found
        ],
    )
    missed = [f"{t.name} ({STORE_NAMES[t.store]})" for t in found if t.passed is False and t.store]
    if missed:
        lines += ["", f"Missed in this run: {', '.join(missed)}."]
    return lines


def _workloads(results: Results) -> list[IngestSeries]:
    """The first store's row of each workload, in the order they ran."""
    seen: list[IngestSeries] = []
    for s in results.ingest:
        if not any(
            (s.signal, s.transport, s.senders) == (o.signal, o.transport, o.senders) for o in seen
        ):
            seen.append(s)
    return seen


def _ingest_section(results: Results) -> list[str]:
    lines = ["", "## Ingest", ""]
    if not results.ingest:
        return [*lines, "Not run."]
    lines += [
        "Each workload: a fresh server per store, the same requests sent once per run as new",
        "data (fresh trace ids; logs and points moved an hour back per run), one run after",
        "another. *Sustained* counts from the first request until the query API counts every",
        "acknowledged item; *acknowledged* counts until the last response. *Queryable* is the",
        "time from the last response until the count matched: spans, log records and points",
        "alike are counted by polling `/api/count` (stored rows), and the time is taken after",
        "the counting query returned, so it includes that query's latency.",
        "",
    ]
    rows = []
    for workload in _workloads(results):
        for store in results.storage:
            s = results.ingest_of(store, workload)
            if s is None:
                continue
            unit = _UNITS[s.signal]
            rows.append(
                [
                    f"{s.signal.value}, {_TRANSPORT_NAMES[s.transport]}",
                    str(s.senders),
                    STORE_NAMES[s.store],
                    f"{count(s.items_per_run)} {unit} in {len(s.runs)} runs",
                    summary_text(summarize([r.stored_rate for r in s.runs]), rate) + f" {unit}/s",
                    summary_text(summarize([r.acknowledged_rate for r in s.runs]), rate),
                    summary_text(summarize([r.queryable_after for r in s.runs]), seconds) + " s",
                    str(sum(r.sent.retries for r in s.runs)),
                    mib(s.peak_rss),
                    mib(s.rest_rss),
                ]
            )
    lines += _table(
        [
            "workload",
            "senders",
            "store",
            "per run",
            "sustained",
            "acknowledged/s",
            "queryable after",
            "retries",
            "peak RSS",
            "RSS at rest",
        ],
        rows,
    )
    if results.compares:
        lines += _ingest_ratios(results)
    if results.ceiling:
        lines += [
            "",
            "The senders alone, against a receiver that reads each request and answers 200:",
            "",
        ]
        lines += _table(
            ["transport", "senders", "spans/s"],
            [[t, str(n), summary_text(summarize(rates), rate)] for t, n, rates in results.ceiling],
        )
    return lines


def _ingest_ratios(results: Results) -> list[str]:
    lines = [
        "",
        f"{_VS}, run by run (above 1: chDB is faster, or takes more memory):",
        "",
    ]
    rows = []
    for workload in _workloads(results):
        duckdb = results.ingest_of("duckdb", workload)
        chdb = results.ingest_of("chdb", workload)
        if duckdb is None or chdb is None:
            continue
        rows.append(
            [
                f"{workload.signal.value}, {_TRANSPORT_NAMES[workload.transport]}",
                str(workload.senders),
                _runs_ratio(chdb, duckdb, attrgetter("stored_rate")),
                _runs_ratio(chdb, duckdb, attrgetter("acknowledged_rate")),
                _plain_ratio(chdb.peak_rss, duckdb.peak_rss),
            ]
        )
    header = ["workload", "senders", "sustained", "acknowledged/s", "peak RSS"]
    lines += _table(header, rows)
    lines += [
        "",
        f"The target compares the sustained rate of OTLP/HTTP with {RATIO_SENDERS} senders.",
    ]
    return lines


def _disk(size: int, spans: int) -> str:
    return f"{size / MIB:,.1f} MiB, {size / max(1, spans):.0f} B per span"


_FACTS: tuple[tuple[str, Callable[[StoreRun], str], Callable[[StoreRun], float] | None], ...] = (
    ("fill, acknowledged", lambda f: f"{f.fill.rate:,.0f} spans/s", lambda f: f.fill.rate),
    ("all queryable after the last response", lambda f: f"{f.fill_queryable_after:.1f} s", None),
    (
        "on disk after a clean shutdown",
        lambda f: _disk(f.disk_bytes, f.spans),
        attrgetter("disk_bytes"),
    ),
    (
        "on disk, settled (no merged-away parts)",
        lambda f: _disk(f.settled_disk_bytes, f.spans),
        attrgetter("settled_disk_bytes"),
    ),
    ("restart (open, replay, ready)", lambda f: f"{f.restart_seconds:.1f} s", None),
    ("peak RSS while filling", lambda f: mib(f.peak_rss), attrgetter("peak_rss")),
    ("RSS at rest after the queries", lambda f: mib(f.rest_rss), attrgetter("rest_rss")),
)
"""(label, its text for one store, the number a chDB/DuckDB ratio is taken of or None)."""


def _sizes(results: Results) -> list[list[StoreRun]]:
    """The filled stores grouped by size (in the order they ran), each group in the order
    of ``results.storage``."""
    sizes: list[int] = []
    for filled in results.stores:
        if filled.spans not in sizes:
            sizes.append(filled.spans)
    return [
        [
            f
            for store in results.storage
            for f in results.stores
            if f.store == store and f.spans == n
        ]
        for n in sizes
    ]


def _store_section(results: Results) -> list[str]:
    lines = ["", "## Queries and footprint", ""]
    if not results.stores:
        return [*lines, "Not run."]
    lines += [
        "A fresh store filled over OTLP/HTTP (2 senders) with spans spread over the last 24 h,",
        "oldest first, then stopped cleanly (a checkpoint) to measure the data directory",
        "(the store's files and the write-ahead log, each file once), restarted, given log",
        "records, and queried through the HTTP API, one request at a time after a short",
        "warm-up. Query parameters are picked from the generated data.",
    ]
    if len(results.storage) > 1:
        lines += [
            "Each store is filled in turn with the same data while the others are stopped; then",
            "all are restarted and answer the same requests, taking turns run by run (the store",
            "not answering paused) after one untimed request that opens the connection.",
        ]
    lines.append("")
    for group in _sizes(results):
        first = group[0]
        names = [STORE_NAMES[f.store] for f in group]
        compare = _compared(group)
        lines += [f"### {count(first.spans)} spans, {count(first.logs)} log records", ""]
        rows = []
        for label, text, value in _FACTS:
            row = [label, *(text(f) for f in group)]
            if compare is not None:
                row.append("" if value is None else _plain_ratio(*map(value, compare)))
            rows.append(row)
        lines += _table(["", *names, *([_VS] if compare else [])], rows)
        lines += ["", *_query_table(group, compare), ""]
    return lines


def _compared(group: Sequence[StoreRun]) -> tuple[StoreRun, StoreRun] | None:
    """(chDB, DuckDB) of one size, when both were filled."""
    by_store = {f.store: f for f in group}
    if "chdb" in by_store and "duckdb" in by_store:
        return by_store["chdb"], by_store["duckdb"]
    return None


def _query_table(group: Sequence[StoreRun], compare: tuple[StoreRun, StoreRun] | None) -> list[str]:
    header = ["query", "example"]
    for f in group:
        header += [f"{STORE_NAMES[f.store]} p50 ms", f"{STORE_NAMES[f.store]} p99 ms"]
    if compare is not None:
        header.append(f"p99 {_VS}")
    header += [f"runs {TIMES} requests", "rows"]
    rows = []
    for n, latency in enumerate(group[0].latencies):
        same = [f.latencies[n] for f in group]
        row = [latency.name, f"`{latency.example}`"]
        for lat in same:
            row += [summary_text(summarize(lat.p50s), ms), summary_text(summarize(lat.p99s), ms)]
        if compare is not None:
            chdb, duckdb = compare[0].latencies[n], compare[1].latencies[n]
            row.append(_ratio_of_runs(chdb.p99s, duckdb.p99s))
        row += [f"{len(latency.p50s)} {TIMES} {latency.requests_per_run}", _rows(same)]
        rows.append(row)
    return _table(header, rows)


def _rows(same: Sequence[Latency]) -> str:
    """Rows the example answered with: one number when the stores agree."""
    found = [lat.result_rows for lat in same]
    if len(set(found)) == 1:
        return str(found[0])
    return " / ".join(map(str, found)) + " (**differ**)"


def _phoenix_section(results: Results) -> list[str]:
    lines = ["", "## Side by side: Arize Phoenix", ""]
    if results.phoenix_skipped:
        return [*lines, results.phoenix_skipped]
    phoenix, ours = results.phoenix, results.phoenix_otelite
    if phoenix is None or ours is None:
        return [*lines, "Not run."]
    if phoenix.sent is None:
        return [*lines, "Phoenix could not be measured:", "", "```", phoenix.error.strip(), "```"]
    otelite_rate = summarize([r.stored_rate for r in ours.runs]).median
    phoenix_rate = phoenix.stored_rate
    lines += [
        f"The same {count(phoenix.sent.items)} spans over OTLP/HTTP protobuf, "
        f"{ours.senders} sender(s), counted from the first request until every span was",
        "stored (Phoenix: `recordCount` of its projects through GraphQL; it answers 503 while",
        "its queue is full, and the sender retries). otelite stores into its default store,",
        f"{STORE_NAMES[ours.store]}.",
        "",
    ]
    lines += _table(
        ["system", "spans/s until stored", "retries", "peak RSS"],
        [
            [
                f"otelite, {STORE_NAMES[ours.store]} ({len(ours.runs)} runs)",
                summary_text(summarize([r.stored_rate for r in ours.runs]), rate),
                str(sum(r.sent.retries for r in ours.runs)),
                mib(ours.peak_rss),
            ],
            [
                f"Arize Phoenix {phoenix.version} (1 run)",
                rate(phoenix_rate),
                str(phoenix.sent.retries),
                mib(phoenix.peak_rss),
            ],
        ],
    )
    if phoenix_rate > 0:
        lines += [
            "",
            f"otelite stores **{otelite_rate / phoenix_rate:,.0f}{TIMES}** as many spans per "
            "second.",
        ]
    return lines


def _profile_section(results: Results) -> list[str]:
    if not results.profiles:
        return []
    lines = ["", "## Profile of the server during ingest", ""]
    missed = targets(results)
    for profile in results.profiles:
        name = STORE_NAMES[profile.store]
        why = [t.name for t in missed if t.passed is False and t.store == profile.store]
        lines += [f"### {name}", ""]
        if why:
            lines += [f"Profiled because {name} missed: {', '.join(why)}.", ""]
        if profile.error:
            lines += [f"No profile: {profile.error}", ""]
            continue
        lines += [
            f"`{profile.command}` while OTLP/HTTP senders keep it busy; {profile.samples:,} "
            "samples over all threads of the server and its flatten worker process.",
            "",
        ]
        if profile.all_cores is not None:
            lines += [
                f"By /proc, the server's processes kept {profile.all_cores:.2f} cores busy on"
                " average over the recording: every thread, native ones py-spy cannot see (the"
                " store's own thread pools) included. The roles below count py-spy's busy"
                " samples and can add up to more.",
                "",
            ]
        if profile.cores:
            lines += ["Where the cores went (busy samples per role over the recording):", ""]
            lines += _table(["cores", "role"], [[f"{c:.2f}", r] for r, c in profile.cores])
            lines += [""]
        lines += ["Own time (the frame itself was running):", ""]
        lines += _table(["share", "frame"], [[f"{s:.1%}", f"`{f}`"] for f, s in profile.self_top])
        lines += ["", "Total time of otelite's own frames (the frame was on the stack):", ""]
        lines += _table(["share", "frame"], [[f"{s:.1%}", f"`{f}`"] for f, s in profile.total_top])
        lines.append("")
    return lines
